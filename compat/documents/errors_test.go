package documents_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/compat/documents"
	"github.com/attachkit/attachment/internal/compattest"
)

// TestUploadRefused: every malformed upload is answered in the dialect's
// error body and stores nothing, whatever the order of its parts.
func TestUploadRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, &attachment.Options{MaxFileSize: 1000})
		small := pdfFile()
		big := compattest.Part{Field: "file", Filename: "big.bin", Content: bytes.Repeat([]byte("x"), 1001)}
		ws, doc := field("workspaceId", workspaceID), field("documentId", documentID)
		cases := []struct {
			name   string
			parts  []compattest.Part
			status int
			code   string
			detail string
		}{
			{"no fields", []compattest.Part{small}, 400, "bad_request", "workspaceId is required"},
			{"no workspaceId", []compattest.Part{doc, small}, 400, "bad_request", "workspaceId is required"},
			{"no documentId", []compattest.Part{ws, small}, 400, "bad_request", "documentId is required"},
			{"no documentId, file first", []compattest.Part{small, ws}, 400, "bad_request", "documentId is required"},
			{"workspaceId not a UUID", []compattest.Part{field("workspaceId", "42"), doc, small}, 400, "bad_request", "workspaceId must be a UUID"},
			{"documentId not a UUID, after the file", []compattest.Part{ws, small, field("documentId", "../etc")}, 400, "bad_request", "documentId must be a UUID"},
			{"documentId empty", []compattest.Part{ws, field("documentId", ""), small}, 400, "bad_request", "documentId must be a UUID"},
			{"UUID without hyphens", []compattest.Part{ws, field("documentId", strings.ReplaceAll(documentID, "-", "")), small}, 400, "bad_request", "documentId must be a UUID"},
			{"UUID in braces", []compattest.Part{ws, field("documentId", "{"+documentID+"}"), small}, 400, "bad_request", "documentId must be a UUID"},
			{"documentId twice", []compattest.Part{ws, doc, field("documentId", "770e8400-e29b-41d4-a716-446655440000"), small}, 400, "bad_request", "more than once"},
			{"documentId twice, once after the file", []compattest.Part{ws, doc, small, doc}, 400, "bad_request", "more than once"},
			{"two files", []compattest.Part{ws, doc, small, pdfFile()}, 400, "too_many_files", "one file"},
			{"file part under another name", []compattest.Part{ws, doc, {Field: "upload", Filename: "a.pdf", Content: compattest.PDF}}, 400, "bad_request", "no file part"},
			{"file without a name", []compattest.Part{ws, doc, {Field: "file", Content: compattest.PDF}}, 400, "invalid_filename", ""},
			{"too large", []compattest.Part{ws, doc, big}, 413, "too_large", ""},
			{"too large, fields after", []compattest.Part{big, ws, doc}, 413, "too_large", ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := env.Snapshot()
				rec := upload(env, c.parts...)
				requireError(t, rec, c.status, c.code)
				assert.Contains(t, rec.Body.String(), c.detail)
				nothingStored(t, env, before)
			})
		}
	})
}

// TestMalformedBodies: bodies that are not a multipart form.
func TestMalformedBodies(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		cases := []struct {
			name, contentType, body string
		}{
			{"json", "application/json", `{"workspaceId":"` + workspaceID + `"}`},
			{"raw", "image/png", string(compattest.PNG(t, 2, 2))},
			{"no content type", "", "hello"},
			{"no boundary", "multipart/form-data", "--x\r\n"},
			{"cut short", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhello"},
			{"no disposition", "multipart/form-data; boundary=x", "--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n--x--\r\n"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := env.Snapshot()
				hdr := bearer
				if c.contentType != "" {
					hdr = append([]string{"Content-Type", c.contentType}, bearer...)
				}
				rec := env.Do(http.MethodPost, documents.BasePath+"/upload", strings.NewReader(c.body), hdr...)
				requireError(t, rec, http.StatusBadRequest, "bad_request")
				nothingStored(t, env, before)
			})
		}
	})
}

// TestCredentials: a missing or wrong credential is 401 on every route,
// before anything is read or stored; Token reads the Bearer header only.
func TestCredentials(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		id := requireItem(t, data(t, upload(env, field("workspaceId", workspaceID), field("documentId", documentID), pdfFile()), http.StatusCreated))["id"].(string)
		creds := map[string][]string{
			"none":          nil,
			"wrong token":   {"Authorization", "Bearer nope"},
			"basic":         {"Authorization", "Basic " + compattest.Token},
			"empty bearer":  {"Authorization", "Bearer "},
			"token in form": {"X-Token", compattest.Token},
		}
		for name, cred := range creds {
			t.Run(name, func(t *testing.T) {
				before := env.Snapshot()
				body, ct := compattest.Multipart(t, field("workspaceId", workspaceID), field("documentId", documentID), pdfFile())
				rec := env.Do(http.MethodPost, documents.BasePath+"/upload", body, append([]string{"Content-Type", ct}, cred...)...)
				requireError(t, rec, http.StatusUnauthorized, "unauthorized")
				requireError(t, env.Do(http.MethodGet, documents.BasePath+"/file?url="+id, nil, cred...), http.StatusUnauthorized, "unauthorized")
				requireError(t, env.Do(http.MethodGet, documents.BasePath+"/document/"+documentID, nil, cred...), http.StatusUnauthorized, "unauthorized")
				requireError(t, env.Do(http.MethodDelete, documents.BasePath+"/"+id, nil, cred...), http.StatusUnauthorized, "unauthorized")
				nothingStored(t, env, before)
			})
		}
		// The scheme is case-insensitive (RFC 9110).
		rec := env.Do(http.MethodGet, documents.BasePath+"/file?url="+id, nil, "Authorization", "bearer "+compattest.Token)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	})
}

func TestToken(t *testing.T) {
	cases := []struct {
		header, token string
		ok            bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER  abc ", "abc", true},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Basic abc", "", false},
		{"Bearerabc", "", false},
		{"", "", false},
	}
	for _, c := range cases {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		if c.header != "" {
			r.Header.Set("Authorization", c.header)
		}
		tok, ok := documents.Token(r)
		assert.Equal(t, c.ok, ok, c.header)
		assert.Equal(t, c.token, tok, c.header)
	}
	// Two Authorization headers are ambiguous: no token.
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.Header.Add("Authorization", "Bearer abc")
	r.Header.Add("Authorization", "Bearer def")
	_, ok := documents.Token(r)
	assert.False(t, ok)
}

// TestFileKeys: the key of GET /file resolves only to the attachment whose
// ID it is, in the caller's tenant; paths, bucket keys, traversal and
// other tenants' IDs are 404 like unknown IDs.
func TestFileKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		id := requireItem(t, data(t, upload(env, field("workspaceId", workspaceID), field("documentId", documentID), pdfFile()), http.StatusCreated))["id"].(string)
		other, err := env.Service.ForTenant("other").Upload(t.Context(), nil, attachment.File{Name: "secret.txt", Content: strings.NewReader("secret")})
		require.NoError(t, err)
		otherID := other[0].ID

		ok := env.Do(http.MethodGet, documents.BasePath+"/file?url="+id, nil, bearer...)
		require.Equal(t, http.StatusOK, ok.Code)
		require.Equal(t, compattest.PDF, ok.Body.Bytes())

		for _, q := range []string{
			"url=" + otherID,
			"url=" + strings.ToUpper(id),
			"url=" + url.QueryEscape(" "+id),
			"url=" + url.QueryEscape(id+"/"),
			"url=" + url.QueryEscape("../"),
			"url=%2e%2e%2f",
			"url=%2e%2e%2fcontent%2f" + id,
			"url=" + url.QueryEscape("../content/"+id),
			"url=" + url.QueryEscape("content/"+id),
			"url=" + url.QueryEscape("/content/"+id),
			"url=" + url.QueryEscape("derived/"+id+"/thumb-256"),
			"url=" + url.QueryEscape("/etc/passwd"),
			"url=" + url.QueryEscape("file:///etc/passwd"),
			"url=" + url.QueryEscape("http://example.com/"+id),
			"url=00000000-0000-0000-0000-000000000000",
			"url=storage-key-123",
		} {
			t.Run(q, func(t *testing.T) {
				requireError(t, env.Do(http.MethodGet, documents.BasePath+"/file?"+q, nil, bearer...), http.StatusNotFound, "not_found")
			})
		}
		for _, q := range []string{"", "url=", "other=" + id, "url=" + id + "&url=" + id, "url=%zz"} {
			t.Run("bad "+q, func(t *testing.T) {
				requireError(t, env.Do(http.MethodGet, documents.BasePath+"/file?"+q, nil, bearer...), http.StatusBadRequest, "bad_request")
			})
		}
		// Another tenant's attachment can neither be deleted nor listed.
		requireError(t, env.Do(http.MethodDelete, documents.BasePath+"/"+otherID, nil, bearer...), http.StatusNotFound, "not_found")
		_, err = env.Service.ForTenant("other").Get(t.Context(), otherID)
		require.NoError(t, err)
		// HEAD of an error has no body but the status.
		rec := env.Do(http.MethodHead, documents.BasePath+"/file?url="+otherID, nil, bearer...)
		assert.Equal(t, http.StatusNotFound, rec.Code)
		assert.Empty(t, rec.Body.Bytes())
	})
}

// TestRoutesAndMethods: unknown routes are 404, wrong methods 405 with
// Allow, both in the dialect's body; no request stores anything.
func TestRoutesAndMethods(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		id := requireItem(t, data(t, upload(env, field("workspaceId", workspaceID), field("documentId", documentID), pdfFile()), http.StatusCreated))["id"].(string)
		p := documents.BasePath
		cases := []struct {
			method, path string
			status       int
			code, allow  string
		}{
			{"GET", p + "/upload", 405, "bad_request", "POST"},
			{"PUT", p + "/upload", 405, "bad_request", "POST"},
			{"DELETE", p + "/upload", 405, "bad_request", "POST"},
			{"POST", p + "/file?url=" + id, 405, "bad_request", "GET, HEAD"},
			{"DELETE", p + "/file", 405, "bad_request", "GET, HEAD"},
			{"POST", p + "/document/" + documentID, 405, "bad_request", "GET, HEAD"},
			{"DELETE", p + "/document/" + documentID, 405, "bad_request", "GET, HEAD"},
			{"GET", p + "/" + id, 405, "bad_request", "DELETE"},
			{"PATCH", p + "/" + id, 405, "bad_request", "DELETE"},
			{"GET", p, 404, "not_found", ""},
			{"GET", p + "/", 404, "not_found", ""},
			{"POST", p + "/upload/", 404, "not_found", ""},
			{"GET", p + "/document/", 404, "not_found", ""},
			{"GET", p + "/document", 405, "bad_request", "DELETE"},
			{"GET", p + "/document/" + documentID + "/x", 404, "not_found", ""},
			{"DELETE", p + "/" + id + "/", 404, "not_found", ""},
			{"DELETE", p + "/a/b/c", 404, "not_found", ""},
			{"DELETE", p + "/..%2F..%2F" + id, 404, "not_found", ""},
			{"DELETE", p + "/not-an-id", 404, "not_found", ""},
			{"DELETE", p + "/" + strings.ToUpper(id), 404, "not_found", ""},
			{"GET", p + "/document/not-a-uuid", 400, "bad_request", ""},
			{"GET", p + "/document/%2e%2e", 400, "bad_request", ""},
		}
		for _, c := range cases {
			t.Run(c.method+" "+c.path, func(t *testing.T) {
				before := env.Snapshot()
				rec := env.Do(c.method, c.path, nil, bearer...)
				requireError(t, rec, c.status, c.code)
				assert.Equal(t, c.allow, rec.Header().Get("Allow"))
				nothingStored(t, env, before)
			})
		}
	})
}

// TestDeleteReferenced: an attachment with native references is not
// deleted (409) until they are removed.
func TestDeleteReferenced(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		id := requireItem(t, data(t, upload(env, field("workspaceId", workspaceID), field("documentId", documentID), pdfFile()), http.StatusCreated))["id"].(string)
		_, err := env.Service.AddRef(t.Context(), id, "page:1")
		require.NoError(t, err)
		before := env.Snapshot()
		requireError(t, env.Do(http.MethodDelete, documents.BasePath+"/"+id, nil, bearer...), http.StatusConflict, "referenced")
		env.RequireNothingStored(before)
		_, err = env.Service.RemoveRef(t.Context(), id, "page:1")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, env.Do(http.MethodDelete, documents.BasePath+"/"+id, nil, bearer...).Code)
		r, o := env.Count()
		assert.Zero(t, r)
		assert.Zero(t, o)
	})
}

// TestAccessHook: the host's access hook decides on each route, and sees
// the record as the upload will store it, labels included.
func TestAccessHook(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := compattest.NewEnv(t, be, nil)
		var seen []string
		access := attachment.AccessFuncs{
			AllowFunc: func(r *http.Request, c attachment.Caller, op attachment.Operation, a *attachment.Attachment) error {
				if op == attachment.OpUpload && a != nil {
					seen = append(seen, a.Labels["documentId"])
					if a.Labels["workspaceId"] == "00000000-0000-0000-0000-000000000000" {
						return attachment.ErrForbidden
					}
				}
				if op == attachment.OpDelete {
					return attachment.ErrForbidden
				}
				return nil
			},
		}
		h := attachment.NewHandler(env.Service, &attachment.HandlerOptions{Access: access})
		env.Mount(documents.BasePath, documents.New(h, &documents.Options{Prefix: documents.BasePath}))

		before := env.Snapshot()
		requireError(t, upload(env, pdfFile(), field("workspaceId", "00000000-0000-0000-0000-000000000000"), field("documentId", documentID)), http.StatusForbidden, "forbidden")
		env.RequireNothingStored(before)
		// Asked at the file (no fields yet), then with the late fields.
		assert.Equal(t, []string{"", documentID}, seen)

		id := requireItem(t, data(t, upload(env, field("workspaceId", workspaceID), field("documentId", documentID), pdfFile()), http.StatusCreated))["id"].(string)
		requireError(t, env.Do(http.MethodDelete, documents.BasePath+"/"+id, nil), http.StatusForbidden, "forbidden")
	})
}
