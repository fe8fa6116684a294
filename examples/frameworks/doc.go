// Package frameworks holds the code behind docs/integrations.md: the
// attachment handler mounted under a prefix on net/http's ServeMux
// (stdmux), chi (chiapp), echo (echoapp) and gin (ginapp), each with the
// framework's own authentication middleware handing the user to the
// library's access hook (appauth).
//
// It is a separate module, so that the library itself does not depend on
// any web framework. Its tests run with:
//
//	cd examples/frameworks && go test -race ./...
package frameworks
