package attachment_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
)

func decodeRecord(t *testing.T, body []byte) attachment.Attachment {
	t.Helper()
	var a attachment.Attachment
	require.NoError(t, json.Unmarshal(body, &a), string(body))
	return a
}

func TestMetadataAndUpdate(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			e := newEnv(t, be, &envOpts{strip: true})
			a := e.mustUpload("a.txt", []byte("x"), "X-Ignored", "1")

			rec := e.do("GET", a.URL+"/metadata", nil)
			require.Equal(t, http.StatusOK, rec.Code)
			got := decodeRecord(t, rec.Body.Bytes())
			assert.Equal(t, a.ID, got.ID)
			assert.Equal(t, e.prefix+"/"+a.ID, got.URL)
			// Fields that do not apply are omitted, never null.
			assert.NotContains(t, rec.Body.String(), "null")
			assert.NotContains(t, rec.Body.String(), `"owner"`)

			// PATCH JSON: rename, owner, labels.
			rec = e.do("PATCH", a.URL, strings.NewReader(`{"filename":"../b.txt","owner":"doc:1","labels":{"k":"v"}}`), "Content-Type", "application/json")
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			got = decodeRecord(t, rec.Body.Bytes())
			assert.Equal(t, "b.txt", got.Filename)
			assert.Equal(t, "doc:1", got.Owner)
			assert.Equal(t, map[string]string{"k": "v"}, got.Labels)
			assert.False(t, got.UpdatedAt.Before(a.UpdatedAt))

			// Absent fields stay; labels replace the whole set.
			rec = e.do("PATCH", a.URL, strings.NewReader(`{"labels":{"n":"1"}}`), "Content-Type", "application/json")
			require.Equal(t, http.StatusOK, rec.Code)
			got = decodeRecord(t, rec.Body.Bytes())
			assert.Equal(t, "b.txt", got.Filename)
			assert.Equal(t, "doc:1", got.Owner)
			assert.Equal(t, map[string]string{"n": "1"}, got.Labels)

			// PUT with form fields.
			rec = e.do("PUT", a.URL, strings.NewReader(url.Values{"filename": {"c.txt"}, "owner": {""}}.Encode()), "Content-Type", "application/x-www-form-urlencoded")
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			got = decodeRecord(t, rec.Body.Bytes())
			assert.Equal(t, "c.txt", got.Filename)
			assert.Empty(t, got.Owner)
			assert.Equal(t, map[string]string{"n": "1"}, got.Labels)

			// Empty labels object clears them.
			rec = e.do("PATCH", a.URL, strings.NewReader(`{"labels":{}}`))
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Empty(t, decodeRecord(t, rec.Body.Bytes()).Labels)

			// The new name shows in downloads.
			assert.Contains(t, e.do("HEAD", a.URL, nil).Header().Get("Content-Disposition"), "c.txt")

			// Bad input.
			for _, body := range []string{`{"filename":".."}`} {
				requireProblem(t, e.do("PATCH", a.URL, strings.NewReader(body)), http.StatusBadRequest, "invalid_filename")
			}
			for _, body := range []string{`not json`, `{"labels":"x"}`, `{"filename":3}`, `{} {}`, ``} {
				requireProblem(t, e.do("PATCH", a.URL, strings.NewReader(body)), http.StatusBadRequest, "bad_request")
			}
			requireProblem(t, e.do("PATCH", a.URL, strings.NewReader(`{}`), "Content-Type", "text/xml"), http.StatusBadRequest, "bad_request")
			requireProblem(t, e.do("PATCH", e.prefix+"/0193b1a2-0000-7000-8000-000000000000", strings.NewReader(`{}`)), http.StatusNotFound, "not_found")
			// Nothing changed by the failures.
			assert.Equal(t, "c.txt", decodeRecord(t, e.do("GET", a.URL+"/metadata", nil).Body.Bytes()).Filename)
		})
	}
}

func TestRefsAndDelete(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			e := newEnv(t, be, nil)
			a := e.mustUpload("a.txt", []byte("x"))
			other := e.mustUpload("keep.txt", []byte("y"))
			require.Len(t, e.keys(), 2)

			ref := "folder/doc:550e"
			for i := 0; i < 2; i++ { // adding twice is no error
				rec := e.do("POST", a.URL+"/refs", strings.NewReader(`{"ref":"`+ref+`"}`), "Content-Type", "application/json")
				require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				assert.Equal(t, []string{ref}, decodeRecord(t, rec.Body.Bytes()).Refs)
			}
			rec := e.do("POST", a.URL+"/refs", strings.NewReader(url.Values{"ref": {"msg:2"}}.Encode()), "Content-Type", "application/x-www-form-urlencoded")
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, []string{ref, "msg:2"}, decodeRecord(t, rec.Body.Bytes()).Refs)
			requireProblem(t, e.do("POST", a.URL+"/refs", strings.NewReader(`{"ref":""}`)), http.StatusBadRequest, "bad_request")

			// Referenced: not deleted.
			requireProblem(t, e.do("DELETE", a.URL, nil), http.StatusConflict, "referenced")
			assert.Equal(t, http.StatusOK, e.do("GET", a.URL, nil).Code)

			// Remove refs, the slash path-escaped; removing an absent one is fine.
			rec = e.do("DELETE", a.URL+"/refs/"+url.PathEscape(ref), nil)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, []string{"msg:2"}, decodeRecord(t, rec.Body.Bytes()).Refs)
			rec = e.do("DELETE", a.URL+"/refs/"+url.PathEscape(ref), nil)
			require.Equal(t, http.StatusOK, rec.Code)
			rec = e.do("DELETE", a.URL+"/refs/msg:2", nil)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Empty(t, decodeRecord(t, rec.Body.Bytes()).Refs)

			rec = e.do("DELETE", a.URL, nil)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.JSONEq(t, `{"id":"`+a.ID+`","result":"deleted"}`, rec.Body.String())
			requireProblem(t, e.do("GET", a.URL, nil), http.StatusNotFound, "not_found")
			requireProblem(t, e.do("DELETE", a.URL, nil), http.StatusNotFound, "not_found")
			assert.Equal(t, []string{"content/" + other.ID}, e.keys(), "the content went with the record, the other stayed")

			// Force deletes a referenced attachment.
			e.do("POST", other.URL+"/refs", strings.NewReader(`{"ref":"r"}`))
			requireProblem(t, e.do("DELETE", other.URL+"?force=nope", nil), http.StatusBadRequest, "bad_request")
			require.Equal(t, http.StatusOK, e.do("DELETE", other.URL+"?force=true", nil).Code)
			e.requireNothingStored()
		})
	}
}

func TestRouting(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	a := e.mustUpload("a.txt", []byte("x"))
	requireProblem(t, e.do("GET", e.prefix+"/"+a.ID+"/nope", nil), http.StatusNotFound, "not_found")
	requireProblem(t, e.do("GET", e.prefix+"/"+a.ID+"/", nil), http.StatusNotFound, "not_found")
	rec := e.do("POST", a.URL, nil)
	requireProblem(t, rec, http.StatusMethodNotAllowed, "bad_request")
	assert.Contains(t, rec.Header().Get("Allow"), "GET")
	requireProblem(t, e.do("DELETE", e.prefix+"/", nil), http.StatusMethodNotAllowed, "bad_request")
	requireProblem(t, e.do("POST", a.URL+"/metadata", nil), http.StatusMethodNotAllowed, "bad_request")
}

// Hosts with their own router call the operations one by one; URLs use
// the prefix they told the handler.
func TestOperationsOnOwnRouter(t *testing.T) {
	e := newEnv(t, backends()[1], nil)
	h := attachment.NewHandler(e.svc, &attachment.HandlerOptions{Prefix: "/files"})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /files/{$}", h.Upload)
	mux.HandleFunc("GET /files/{$}", h.List)
	mux.HandleFunc("GET /files/{id}", func(w http.ResponseWriter, r *http.Request) { h.Download(w, r, r.PathValue("id")) })
	mux.HandleFunc("GET /files/{id}/info", func(w http.ResponseWriter, r *http.Request) { h.Metadata(w, r, r.PathValue("id")) })
	mux.HandleFunc("DELETE /files/{id}", func(w http.ResponseWriter, r *http.Request) { h.Delete(w, r, r.PathValue("id")) })

	do := func(method, path string, body string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
		return rec
	}
	rec := do("POST", "/files/?filename=a.txt", "hello")
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	loc := rec.Header().Get("Location")
	require.True(t, strings.HasPrefix(loc, "/files/"), loc)
	assert.Equal(t, "hello", do("GET", loc, "").Body.String())
	info := decodeRecord(t, do("GET", loc+"/info", "").Body.Bytes())
	assert.Equal(t, loc, info.URL)
	assert.Equal(t, http.StatusOK, do("DELETE", loc, "").Code)
	assert.Equal(t, http.StatusNotFound, do("GET", loc, "").Code)
}
