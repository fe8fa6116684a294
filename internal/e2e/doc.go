// Package e2e holds the repository's end-to-end tests that need
// dependencies the library itself does not: the OpenAPI validation of real
// exchanges (kin-openapi, package openapitest) and the demo page driven in
// headless Chromium (chromedp).
//
// It is a module of its own (github.com/attachkit/attachment/internal/e2e)
// so that those test-only modules stay out of the library's go.mod, and so
// out of every host's module graph. Run its tests from this directory:
//
//	cd internal/e2e && go test ./...
//
// CI runs them after the root module's suite.
package e2e
