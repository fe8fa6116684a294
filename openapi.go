package attachment

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

//go:embed openapi.json
var openAPIDoc []byte

// openAPIETag is the strong ETag of the document: part of its SHA-256.
var openAPIETag = func() string {
	sum := sha256.Sum256(openAPIDoc)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}()

// OpenAPI returns the OpenAPI 3.0 document of the HTTP API that Handler
// serves, as JSON. It is the authoritative description of every route,
// parameter, body, response and problem code (docs/api.md explains the
// same in prose). Its paths are relative to the handler's mount prefix:
// the document's one server URL is ".", which resolves against the URL
// the Handler serves it at, {prefix}/openapi.json, to the mount point.
//
// The Handler serves the same bytes at GET and HEAD {prefix}/openapi.json.
// Each call returns a new copy, which the caller may change.
func OpenAPI() []byte { return bytes.Clone(openAPIDoc) }

// serveOpenAPI answers GET and HEAD /openapi.json with the document. The
// access hook is not asked: the document describes the API and holds no
// data of any tenant, like the 404 and 405 answers the Handler gives
// without asking it. Caches may keep it and revalidate it with its ETag.
func (h *Handler) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("ETag", openAPIETag)
	hdr.Set("Cache-Control", "public, no-cache")
	hdr.Set("X-Content-Type-Options", "nosniff")
	if etagMatch(r.Header.Get("If-None-Match"), openAPIETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(openAPIDoc)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(openAPIDoc)
	}
}

// etagMatch reports whether an If-None-Match header value matches etag,
// by the weak comparison RFC 9110 prescribes for it.
func etagMatch(header, etag string) bool {
	for t := range strings.SplitSeq(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}
