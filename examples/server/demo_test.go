package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The demo page served without a browser: its headers, the prefix it is
// told, its files, and -demo=false.
func TestDemoPage(t *testing.T) {
	dir := t.TempDir()
	stores := []string{
		"-blob", "file://" + dir + "/blobs?create_dir=1&no_tmp_dir=1&metadata=skip",
		"-meta", "sqlite://" + dir + "/meta.db",
	}
	base := serve(t, append([]string{"-prefix", "/files/v1"}, stores...)...)
	origin := strings.TrimSuffix(base, "/files/v1/")
	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(origin + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(body)
	}

	resp, body := get("/")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	csp := resp.Header.Get("Content-Security-Policy")
	assert.Contains(t, csp, "default-src 'none'")
	assert.Contains(t, csp, "script-src 'self'")
	assert.Contains(t, csp, "connect-src 'self'")
	assert.NotContains(t, csp, "unsafe-inline")
	assert.Contains(t, body, `<meta name="attachment-prefix" content="/files/v1">`)
	assert.Contains(t, body, `<meta name="attachment-token-required" content="false">`)
	assert.NotContains(t, body, "https://", "the page loads nothing from elsewhere")
	assert.Contains(t, body, `<link rel="modulepreload" href="/_demo/resumable.js">`, "the resumable uploads' module")

	for path, typ := range map[string]string{
		"/_demo/app.js":       "text/javascript",
		"/_demo/resumable.js": "text/javascript",
		"/_demo/style.css":    "text/css",
		"/_demo/favicon.svg":  "image/svg+xml",
	} {
		resp, body := get(path)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), typ), path)
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), path)
		assert.NotContains(t, body, "https://", path)
	}
	for _, path := range []string{"/_demo/", "/_demo/index.html", "/_demo/nope.js", "/other"} {
		resp, _ := get(path)
		assert.Equal(t, http.StatusNotFound, resp.StatusCode, path)
	}
	resp, _ = get("/files/v1/")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the API is still under its prefix")

	// With a token, the page says one is needed (and never shows it).
	base = serve(t, append([]string{"-token", "s3cret"}, stores...)...)
	resp, body = get2(t, strings.TrimSuffix(base, "/attachments/")+"/")
	require.Equal(t, http.StatusOK, resp.StatusCode, "the page itself needs no token")
	assert.Contains(t, body, `<meta name="attachment-token-required" content="true">`)
	assert.NotContains(t, body, "s3cret")

	// -demo=false: no page.
	base = serve(t, append([]string{"-demo=false"}, stores...)...)
	resp, _ = get2(t, strings.TrimSuffix(base, "/attachments/")+"/")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	// The page's files and the API cannot share a path.
	c, err := parseFlags(append([]string{"-prefix", "/_demo"}, stores...))
	require.NoError(t, err)
	_, err = routes(c, http.NotFoundHandler(), nil)
	assert.ErrorContains(t, err, "-demo=false")
	c.demo = false
	_, err = routes(c, http.NotFoundHandler(), nil)
	assert.NoError(t, err)
}

func get2(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}
