package main

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
)

// The demo page: plain HTML, CSS and JavaScript under web/, embedded in
// the binary. It talks only to the public API under the -prefix, which
// the server writes into a <meta> tag of the page.

//go:embed web
var webFiles embed.FS

// demoAssets is the path the page's static files are served under.
const demoAssets = "/_demo/"

// demoCSP lets the page load nothing but its own files and talk to
// nothing but its own origin. blob: images are thumbnails fetched with
// the API token, which an <img src> cannot send.
const demoCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; " +
	"connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"

// routes is the server's mux: the API under c.prefix, the dialect (when
// not nil) under c.dialectPrefix and, unless -demo is off, the demo page
// at "/" with its files under /_demo/.
func routes(c config, api, dialect http.Handler) (*http.ServeMux, error) {
	mux := http.NewServeMux()
	mux.Handle(c.prefix+"/", api)
	if dialect != nil {
		mux.Handle(c.dialectPrefix+"/", dialect)
		mux.Handle(c.dialectPrefix, dialect)
	}
	if !c.demo {
		return mux, nil
	}
	if c.prefix+"/" == demoAssets {
		return nil, fmt.Errorf("-prefix %s is where the demo page keeps its files: choose another prefix, or -demo=false", c.prefix)
	}
	page, err := demoPage(c)
	if err != nil {
		return nil, err
	}
	mux.Handle("GET /{$}", page)
	static, err := fs.Sub(webFiles, "web")
	if err != nil {
		return nil, err
	}
	files := http.StripPrefix(demoAssets, http.FileServerFS(static))
	mux.Handle("GET "+demoAssets, demoHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Files only: no directory listings, and index.html only at "/".
		if strings.HasSuffix(r.URL.Path, "/") || strings.HasSuffix(r.URL.Path, "/index.html") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})))
	return mux, nil
}

// demoPage renders web/index.html once, with the API prefix and whether
// a token is needed, and serves it at "/".
func demoPage(c config) (http.Handler, error) {
	tmpl, err := template.ParseFS(webFiles, "web/index.html")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err = tmpl.Execute(&buf, struct {
		Prefix        string
		TokenRequired bool
	}{c.prefix, c.token != ""})
	if err != nil {
		return nil, err
	}
	body := buf.Bytes()
	return demoHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(body)
	})), nil
}

// demoHeaders sets the page's security headers.
func demoHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		hdr.Set("Content-Security-Policy", demoCSP)
		hdr.Set("X-Content-Type-Options", "nosniff")
		hdr.Set("Referrer-Policy", "no-referrer")
		hdr.Set("X-Frame-Options", "DENY")
		hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}
