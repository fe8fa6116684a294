package coco_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/compat/coco"
	"github.com/attachkit/attachment/internal/compattest"
)

// TestUploadRefused: every refused upload is answered in Coco's error
// body with its status, and stores nothing, not even the files before
// the one that failed.
func TestUploadRefused(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		e := newEnv(t, be, &compattest.Options{Service: &attachment.Options{MaxFileSize: 1000}})
		e.upload(t, "", file("kept.pdf", pdf(10))) // something there, which must stay
		multipart := func(parts ...compattest.Part) (*bytes.Buffer, []string) {
			b, ct := compattest.Multipart(t, parts...)
			return b, []string{"Content-Type", ct}
		}
		good := file("a.pdf", pdf(10))
		for _, tc := range []struct {
			name   string
			query  string
			body   func() (*bytes.Buffer, []string)
			cred   []string
			status int
			code   string
		}{
			{"no credential", "", func() (*bytes.Buffer, []string) { return multipart(good) }, nil, 401, "unauthorized"},
			{"wrong credential", "", func() (*bytes.Buffer, []string) { return multipart(good) },
				[]string{coco.TokenHeader, "nope"}, 401, "unauthorized"},
			{"not multipart", "", func() (*bytes.Buffer, []string) {
				return bytes.NewBufferString("raw"), []string{"Content-Type", "application/pdf"}
			}, tok, 400, "bad_request"},
			{"no files part", "", func() (*bytes.Buffer, []string) { return multipart(field("session", "s")) }, tok, 400, "bad_request"},
			{"file under another field", "", func() (*bytes.Buffer, []string) {
				return multipart(compattest.Part{Field: "file", Filename: "a.pdf", Content: pdf(10)})
			}, tok, 400, "bad_request"},
			{"too large", "", func() (*bytes.Buffer, []string) { return multipart(good, file("big.pdf", pdf(2000))) }, tok, 413, "too_large"},
			{"malformed multipart", "", func() (*bytes.Buffer, []string) {
				b, h := multipart(good)
				b.Truncate(b.Len() - 10)
				return b, h
			}, tok, 400, "bad_request"},
			{"no boundary", "", func() (*bytes.Buffer, []string) {
				return bytes.NewBufferString("x"), []string{"Content-Type", "multipart/form-data"}
			}, tok, 400, "bad_request"},
			{"two sessions", "?session=a", func() (*bytes.Buffer, []string) { return multipart(field("session_id", "b"), good) }, tok, 400, "bad_request"},
			{"two sessions in the query", "?session=a&session_id=b", func() (*bytes.Buffer, []string) { return multipart(good) }, tok, 400, "bad_request"},
			{"a different session after the files", "", func() (*bytes.Buffer, []string) {
				return multipart(field("session", "a"), good, field("session_id", "b"))
			}, tok, 400, "bad_request"},
			{"empty session", "", func() (*bytes.Buffer, []string) { return multipart(field("session", ""), good) }, tok, 400, "bad_request"},
			{"control character in session", "", func() (*bytes.Buffer, []string) { return multipart(field("session", "a\x01b"), good) }, tok, 400, "bad_request"},
			{"session too long", "", func() (*bytes.Buffer, []string) {
				return multipart(field("session", strings.Repeat("s", 2000)), good)
			}, tok, 400, "bad_request"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := e.Snapshot()
				body, hdr := tc.body()
				rec := e.Do("POST", "/attachment/_upload"+tc.query, body, append(hdr, tc.cred...)...)
				requireError(t, rec, tc.status, tc.code)
				e.RequireNothingStored(before)
			})
		}
	})
}

// TestItemRefused: the routes about one attachment answer an unknown
// ID, a missing credential and a wrong method in Coco's error body; a 404
// names the ID with found false, as Coco does for a missing document.
func TestItemRefused(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		e := newEnv(t, be, nil)
		id := e.upload(t, "", file("a.pdf", pdf(10)))[0]
		missing := "0198c0de-0000-7000-8000-000000000000"
		before := e.Snapshot()
		for _, tc := range []struct{ method, path string }{
			{"GET", "/attachment/" + missing},
			{"DELETE", "/attachment/" + missing},
			{"GET", "/attachment/" + missing + "/status"},
			{"GET", "/attachment/not-a-uuid"},
		} {
			rec := e.Do(tc.method, tc.path, nil, tok...)
			m := requireError(t, rec, 404, "not_found")
			assert.Equal(t, false, m["found"], tc.path)
			assert.Equal(t, strings.Split(strings.TrimPrefix(tc.path, "/attachment/"), "/")[0], m["_id"])
		}
		rec := e.Do("HEAD", "/attachment/"+missing, nil, tok...)
		assert.Equal(t, 404, rec.Code)
		assert.Empty(t, rec.Body.Bytes())
		assert.Empty(t, rec.Header().Get("Filename"))

		for _, tc := range []struct{ method, path string }{
			{"GET", "/attachment/" + id},
			{"HEAD", "/attachment/" + id},
			{"DELETE", "/attachment/" + id},
			{"GET", "/attachment/" + id + "/status"},
			{"GET", "/attachment/_search"},
			{"POST", "/attachment/_status"},
		} {
			rec := e.Do(tc.method, tc.path, strings.NewReader(`{"attachments":["`+id+`"]}`))
			if tc.method == "HEAD" {
				assert.Equal(t, 401, rec.Code)
				assert.Empty(t, rec.Body.Bytes())
				continue
			}
			requireError(t, rec, 401, "unauthorized")
			rec = e.Do(tc.method, tc.path, strings.NewReader(`{"attachments":["`+id+`"]}`), coco.TokenHeader, "wrong")
			requireError(t, rec, 401, "unauthorized")
		}

		for _, tc := range []struct{ method, path, allow string }{
			{"PUT", "/attachment/" + id, "GET, HEAD, DELETE"},
			{"POST", "/attachment/" + id, "GET, HEAD, DELETE"},
			{"GET", "/attachment/_upload", "POST"},
			{"POST", "/attachment/_search", "GET"},
			{"GET", "/attachment/_status", "POST"},
			{"DELETE", "/attachment/" + id + "/status", "GET"},
		} {
			rec := e.Do(tc.method, tc.path, nil, tok...)
			requireError(t, rec, 405, "method_not_allowed")
			assert.Equal(t, tc.allow, rec.Header().Get("Allow"), tc.method+" "+tc.path)
		}
		for _, path := range []string{"/attachment", "/attachment/", "/attachment/" + id + "/", "/attachment/" + id + "/x",
			"/attachment/" + id + "/status/x", "/attachment/_other", "/attachment/_upload/", "/attachment/a%2Fb"} {
			requireError(t, e.Do("GET", path, nil, tok...), 404, "not_found")
		}
		e.RequireNothingStored(before)
	})
}

// TestDeleteReferenced: an attachment the native API holds a reference
// to is not deleted (409, type "referenced").
func TestDeleteReferenced(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		e := newEnv(t, be, nil)
		id := e.upload(t, "", file("a.pdf", pdf(10)))[0]
		_, err := e.Service.AddRef(t.Context(), id, "message:1")
		require.NoError(t, err)
		requireError(t, e.Do("DELETE", "/attachment/"+id, nil, tok...), 409, "referenced")
		e.get(t, id)
	})
}

// TestSearchRefused: bad windows and sessions.
func TestSearchRefused(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		e := newEnv(t, be, nil)
		for _, q := range []string{"from=-1", "size=x", "size=1.5", "from=", "size=10001",
			"from=9995&size=10", "from=1&from=2", "session=", "session=a&session_id=b"} {
			requireError(t, e.Do("GET", "/attachment/_search?"+q, nil, tok...), 400, "bad_request")
		}
	})
}

// TestStatusManyRefused: malformed, oversized and overlong POST /_status
// bodies.
func TestStatusManyRefused(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		e := newEnv(t, be, nil)
		ids := make([]string, coco.MaxStatusIDs+1)
		for i := range ids {
			ids[i] = "x"
		}
		for _, tc := range []struct {
			body   string
			status int
			code   string
		}{
			{`{"attachments":`, 400, "bad_request"},
			{`not json`, 400, "bad_request"},
			{`{}`, 400, "bad_request"},
			{`{"attachments":null}`, 400, "bad_request"},
			{`{"attachments":"a"}`, 400, "bad_request"},
			{`{"attachments":[1]}`, 400, "bad_request"},
			{`["a"]`, 400, "bad_request"},
			{`{"attachments":[]} trailing`, 400, "bad_request"},
			{``, 400, "bad_request"},
			{`{"attachments":["` + strings.Join(ids, `","`) + `"]}`, 400, "bad_request"},
			{`{"attachments":["` + strings.Repeat("a", coco.MaxStatusBody) + `"]}`, 413, "too_large"},
		} {
			rec := e.Do("POST", "/attachment/_status", strings.NewReader(tc.body), tok...)
			requireError(t, rec, tc.status, tc.code)
		}
	})
}

// TestAccessHook: the host's hook decides on every route. An attachment
// it hides is answered as a missing one, in _status too; a caller it
// refuses everything gets 403; one it hides everything from gets 404s
// and, in _status, every ID as missing.
func TestAccessHook(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		var hidden string
		e := compattest.NewEnv(t, be, &compattest.Options{Handler: &attachment.HandlerOptions{
			Access: attachment.AccessFuncs{
				IdentifyFunc: func(r *http.Request) (attachment.Caller, error) {
					switch r.Header.Get(coco.TokenHeader) {
					case "forbidden":
						return attachment.Caller{}, attachment.ErrForbidden
					case "hidden":
						return attachment.Caller{}, attachment.ErrNotFound
					}
					return attachment.Caller{Name: "u"}, nil
				},
				AllowFunc: func(r *http.Request, c attachment.Caller, op attachment.Operation, a *attachment.Attachment) error {
					if a != nil && a.ID == hidden {
						return attachment.ErrNotFound
					}
					return nil
				},
			},
		}})
		e.Mount(coco.BasePath, coco.New(e.Handler, &coco.Options{Prefix: coco.BasePath}))
		ee := &env{Env: e}
		ids := ee.upload(t, "", file("a.pdf", pdf(1)), file("b.pdf", pdf(1)))
		hidden = ids[1]
		const missingID = "0198c0de-0000-7000-8000-000000000000"
		recMissing := e.Do("GET", "/attachment/"+missingID+"/status", nil)
		requireError(t, recMissing, 404, "not_found")
		recHidden := e.Do("GET", "/attachment/"+hidden+"/status", nil)
		m := requireError(t, recHidden, 404, "not_found")
		assert.Equal(t, hidden, m["_id"])
		assert.Equal(t, strings.ReplaceAll(recMissing.Body.String(), missingID, "ID"),
			strings.ReplaceAll(recHidden.Body.String(), hidden, "ID"),
			"a hidden attachment is answered as a missing one")

		rec := e.Do("POST", "/attachment/_status", statusBody(t, ids...))
		require.Equal(t, 200, rec.Code, rec.Body.String())
		assert.JSONEq(t, `{"`+ids[0]+`":{"initial_parsing":"completed"},"`+hidden+`":{"initial_parsing":"canceled","found":false}}`, rec.Body.String())

		requireError(t, e.Do("POST", "/attachment/_status", statusBody(t, ids...), coco.TokenHeader, "forbidden"), 403, "forbidden")
		requireError(t, e.Do("GET", "/attachment/"+ids[0], nil, coco.TokenHeader, "forbidden"), 403, "forbidden")
		requireError(t, e.Do("GET", "/attachment/"+ids[0], nil, coco.TokenHeader, "hidden"), 404, "not_found")
		rec = e.Do("POST", "/attachment/_status", statusBody(t, ids[0]), coco.TokenHeader, "hidden")
		require.Equal(t, 200, rec.Code)
		assert.JSONEq(t, `{"`+ids[0]+`":{"initial_parsing":"canceled","found":false}}`, rec.Body.String())
	})
}
