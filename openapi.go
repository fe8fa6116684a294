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
	// Every field line counts: RFC 9110 §5.3 joins them with commas.
	if etagMatch(strings.Join(r.Header.Values("If-None-Match"), ","), openAPIETag) {
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

// etagMatch reports whether an If-None-Match field value matches etag, by
// the weak comparison RFC 9110 §13.1.2 prescribes for it. The value is "*"
// or a comma-separated list of entity-tags (§8.8.3): W/ for a weak one, then
// a quoted opaque tag, which may itself hold commas, so the list is scanned,
// not split. As in net/http, "*" matches wherever it stands, and an element
// that is not an entity-tag ends the scan: only those before it count.
func etagMatch(header, etag string) bool {
	s := header
	for {
		s = strings.TrimLeft(s, " \t,") // OWS and empty list elements
		switch {
		case s == "":
			return false
		case s[0] == '*':
			return true
		}
		tag, rest, ok := scanETag(strings.TrimPrefix(s, "W/"))
		if !ok {
			return false
		}
		if tag == etag {
			return true
		}
		if s = strings.TrimLeft(rest, " \t"); s != "" && s[0] != ',' {
			return false
		}
	}
}

// scanETag splits s after its leading opaque-tag: a double quote, any
// etagc characters (%x21 / %x23-7E / obs-text, so commas too), a double
// quote.
func scanETag(s string) (tag, rest string, ok bool) {
	if s == "" || s[0] != '"' {
		return "", s, false
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return s[:i+1], s[i+1:], true
		case c == 0x21, c >= 0x23 && c != 0x7F:
		default:
			return "", s, false
		}
	}
	return "", s, false
}
