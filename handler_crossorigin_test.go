package attachment_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
	"github.com/attachkit/attachment/wire"
)

// With HandlerOptions.CrossOrigin, a browser's cross-origin request that
// changes something is refused with 403 forbidden before anything is
// done; same-origin ones, requests not from a browser and safe methods
// pass. Without it, nothing is checked.
func TestHandlerCrossOrigin(t *testing.T) {
	bucket := memblob.OpenBucket(nil)
	t.Cleanup(func() { bucket.Close() })
	svc, err := attachment.New(storage.New(bucket), memstore.New(), &attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true}})
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() })
	protected := attachment.NewHandler(svc, &attachment.HandlerOptions{Prefix: "/a", CrossOrigin: http.NewCrossOriginProtection()})
	open := attachment.NewHandler(svc, &attachment.HandlerOptions{Prefix: "/a"})

	as, err := svc.Upload(t.Context(), nil, attachment.File{Name: "x.txt", Content: strings.NewReader("x")})
	require.NoError(t, err)
	id := as[0].ID

	do := func(h http.Handler, method, target, body string, hdr map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "http://api.example"+target, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "text/plain")
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	crossSite := map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
	for _, tc := range []struct {
		name   string
		h      http.Handler
		method string
		target string
		body   string
		hdr    map[string]string
		want   int
	}{
		{"upload, cross-site", protected, "POST", "/a/?filename=b.txt", "b", crossSite, http.StatusForbidden},
		{"upload, cross-origin by Origin alone", protected, "POST", "/a/?filename=b.txt", "b", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"add a ref, cross-site", protected, "POST", "/a/" + id + "/refs", `{"ref":"doc:1"}`, crossSite, http.StatusForbidden},
		{"delete, same-site but another origin", protected, "DELETE", "/a/" + id, "", map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"download, cross-site (a safe method)", protected, "GET", "/a/" + id, "", crossSite, http.StatusOK},
		{"upload, same-origin", protected, "POST", "/a/?filename=b.txt", "b", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://api.example"}, http.StatusCreated},
		{"upload, Origin equal to Host", protected, "POST", "/a/?filename=b.txt", "b", map[string]string{"Origin": "http://api.example"}, http.StatusCreated},
		{"upload, not from a browser", protected, "POST", "/a/?filename=b.txt", "b", nil, http.StatusCreated},
		{"upload, cross-site, no CrossOrigin", open, "POST", "/a/?filename=b.txt", "b", crossSite, http.StatusCreated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, err := svc.List(t.Context(), nil)
			require.NoError(t, err)
			rec := do(tc.h, tc.method, tc.target, tc.body, tc.hdr)
			require.Equal(t, tc.want, rec.Code, rec.Body.String())
			if tc.want != http.StatusForbidden {
				return
			}
			require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
			var p wire.Problem
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
			require.Equal(t, wire.CodeForbidden, p.Code)
			require.Contains(t, p.Detail, "cross-origin")
			after, err := svc.List(t.Context(), nil)
			require.NoError(t, err)
			require.Equal(t, len(before.Attachments), len(after.Attachments), "nothing was stored")
			a, err := svc.Get(t.Context(), id)
			require.NoError(t, err, "nothing was deleted")
			require.Empty(t, a.Refs, "nothing was referenced")
		})
	}

	// The exported operations, for hosts that route themselves, check too.
	req := httptest.NewRequest("POST", "http://api.example/a/"+id+"/refs", strings.NewReader(`{"ref":"doc:1"}`))
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rec := httptest.NewRecorder()
	protected.AddRef(rec, req, id)
	require.Equal(t, http.StatusForbidden, rec.Code)
}
