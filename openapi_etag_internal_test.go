package attachment

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestETagMatch(t *testing.T) {
	const tag = `"abc"`
	tests := []struct {
		name, header, etag string
		want               bool
	}{
		{"empty", "", tag, false},
		{"strong", `"abc"`, tag, true},
		{"weak matches by weak comparison", `W/"abc"`, tag, true},
		{"other", `"abd"`, tag, false},
		{"star", `*`, tag, true},
		{"star with white space", " * ", tag, true},
		{"list, last", `"x", W/"y", "abc"`, tag, true},
		{"list, first", `"abc", "x"`, tag, true},
		{"list, none", `"x", W/"y"`, tag, false},
		{"list without spaces", `"x","abc"`, tag, true},
		{"tabs and empty elements", "\t, ,\"x\" ,\t\"abc\",", tag, true},
		{"etag with a comma", `"a,b"`, `"a,b"`, true},
		{"etag with a comma in a list", `"x", W/"a,b", "y"`, `"a,b"`, true},
		{"comma etag, a part of it", `"a,b"`, `"a"`, false},
		{"comma etag, parts that a split would make", `"a`, `"a,b"`, false},
		{"a tag holding a comma is one element", `"x,"abc",y"`, tag, false},
		{"etag with obs-text", "\"\xe9t\xe9\"", "\"\xe9t\xe9\"", true},
		{"lower-case weak prefix", `w/"abc"`, tag, false},
		{"space after W/", `W/ "abc"`, tag, false},
		{"unquoted", `abc`, tag, false},
		{"unterminated", `"abc`, tag, false},
		{"control character inside", "\"a\x01bc\"", tag, false},
		{"space inside", `"ab c"`, tag, false},
		{"junk after a tag", `"x"y, "abc"`, tag, false},
		{"malformed element ends the scan", `x, "abc"`, tag, false},
		{"a match before a malformed element counts", `"abc", x`, tag, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, etagMatch(tt.header, tt.etag), "%q", tt.header)
		})
	}
}

// The document's ETag on a second If-None-Match field line is a match.
func TestOpenAPIIfNoneMatchFieldLines(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/openapi.json", nil)
	req.Header.Add("If-None-Match", `"other"`)
	req.Header.Add("If-None-Match", "W/"+openAPIETag)
	rec := httptest.NewRecorder()
	(&Handler{}).serveOpenAPI(rec, req)
	require.Equal(t, http.StatusNotModified, rec.Code)
	assert.Empty(t, rec.Body.Bytes())
}

// FuzzETagMatch compares etagMatch with http.ServeContent, whose If-None-Match
// handling is the model: for any field value and any valid entity-tag, one
// answers 304 exactly when the other matches.
func FuzzETagMatch(f *testing.F) {
	for _, s := range []string{`"abc"`, `W/"abc"`, `*`, `"x", "abc"`, `"a,b"`, `"x,"abc",y"`, `x, "abc"`, "\t,\"abc\"", `"abc" junk`} {
		f.Add(s, "abc")
		f.Add(s, "a,b")
	}
	f.Fuzz(func(t *testing.T, header, opaque string) {
		etag := `"` + opaque + `"`
		if tag, rest, ok := scanETag(etag); !ok || tag != etag || rest != "" {
			return // not an entity-tag: no ETag a server sends
		}
		if strings.ContainsAny(header, "\r\n") {
			return // no field value holds them; net/http trims them too
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("If-None-Match", header)
		rec := httptest.NewRecorder()
		rec.Header().Set("ETag", etag)
		http.ServeContent(rec, req, "", time.Time{}, strings.NewReader("x"))
		require.Equal(t, rec.Code == http.StatusNotModified, etagMatch(header, etag), "If-None-Match %q, ETag %s", header, etag)
	})
}
