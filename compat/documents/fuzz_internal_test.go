package documents

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
)

// FuzzRoute: any path below the mount point routes without panicking, to
// a route whose parameter is a non-empty, unescaped segment that escapes
// back to a path routing the same way.
func FuzzRoute(f *testing.F) {
	for _, s := range []string{"", "/", "/upload", "/upload/", "/file", "/document/x", "/document/", "/document/a/b",
		"/0198f3c2-0000-7000-8000-000000000000", "/a%2Fb", "/%zz", "//upload", "/..%2f..%2fetc", "/document/%2e%2e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rel string) {
		kind, arg := route(rel)
		switch kind {
		case routeNone, routeUpload, routeFile:
			assert.Empty(t, arg)
		case routeDocument, routeItem:
			require.NotEmpty(t, arg)
			again := "/" + url.PathEscape(arg)
			if kind == routeDocument {
				again = "/document" + again
			}
			k2, a2 := route(again)
			if kind == routeItem && (arg == "upload" || arg == "file") {
				t.Fatalf("%q routed to an item named like a route", rel)
			}
			assert.Equal(t, kind, k2, again)
			assert.Equal(t, arg, a2, again)
		}
		if strings.HasSuffix(rel, "/") {
			assert.Equal(t, routeNone, kind, "a trailing slash names no route")
		}
	})
}

var canonicalForm = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// FuzzUUIDFields: the upload's fields are accepted exactly when each is
// absent or one UUID in the 8-4-4-4-12 form, and land on the record in
// lower case.
func FuzzUUIDFields(f *testing.F) {
	f.Add("660e8400-e29b-41d4-a716-446655440000", "550E8400-E29B-41D4-A716-446655440000", true, true)
	f.Add("", "{550e8400-e29b-41d4-a716-446655440000}", true, true)
	f.Add("550e8400e29b41d4a716446655440000", "urn:uuid:550e8400-e29b-41d4-a716-446655440000", true, false)
	f.Add("550e8400-e29b-41d4-a716-44665544000g", "../../etc/passwd", false, true)
	f.Fuzz(func(t *testing.T, ws, doc string, hasWS, hasDoc bool) {
		v := url.Values{}
		if hasWS {
			v.Set("workspaceId", ws)
		}
		if hasDoc {
			v.Set("documentId", doc)
		}
		var o attachment.UploadOptions
		err := applyFields(v, false, &o)
		valid := (!hasWS || canonicalForm.MatchString(ws)) && (!hasDoc || canonicalForm.MatchString(doc))
		if !valid {
			require.Error(t, err)
			return
		}
		require.NoError(t, err)
		if hasWS {
			assert.Equal(t, strings.ToLower(ws), o.Labels["workspaceId"])
		}
		if hasDoc {
			assert.Equal(t, strings.ToLower(doc), o.Labels["documentId"])
			assert.Equal(t, "document:"+strings.ToLower(doc), o.Owner)
		}
		var final attachment.UploadOptions
		assert.Equal(t, hasWS && hasDoc, applyFields(v, true, &final) == nil, "the final call requires both")
	})
}
