package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeDialects starts the server with -token and each -dialect, and
// uploads through the dialect as its clients do, with the credential its
// document names: the upload is then read through the native API, and a
// request without the credential is refused 401 in the dialect's own body.
func TestServeDialects(t *testing.T) {
	const token = "dialect-s3cret"
	for _, tc := range []struct {
		name string
		// upload builds the dialect's upload request of a.txt ("hello")
		// against the server's root URL.
		upload func(root string) *http.Request
		// cred adds the dialect's credential.
		cred func(r *http.Request)
		// id finds the attachment's ID in the upload's answer.
		id func(t *testing.T, body []byte) string
	}{
		{"coco",
			func(root string) *http.Request { return multipartReq(t, root+"/attachment/_upload", "files", nil) },
			func(r *http.Request) { r.Header.Set("X-API-TOKEN", token) },
			func(t *testing.T, b []byte) string {
				var v struct{ Attachments []string }
				require.NoError(t, json.Unmarshal(b, &v), string(b))
				require.Len(t, v.Attachments, 1)
				return v.Attachments[0]
			}},
		{"protocol",
			func(root string) *http.Request { return multipartReq(t, root+"/v1/attachments", "file", nil) },
			func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) },
			func(t *testing.T, b []byte) string {
				var v struct{ ID string }
				require.NoError(t, json.Unmarshal(b, &v), string(b))
				return v.ID
			}},
		{"documents",
			func(root string) *http.Request {
				return multipartReq(t, root+"/api/v1/attachments/upload", "file", map[string]string{
					"workspaceId": "660e8400-e29b-41d4-a716-446655440000",
					"documentId":  "550e8400-e29b-41d4-a716-446655440000",
				})
			},
			func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) },
			func(t *testing.T, b []byte) string {
				var v struct{ Data struct{ ID string } }
				require.NoError(t, json.Unmarshal(b, &v), string(b))
				return v.Data.ID
			}},
		{"efalia",
			func(root string) *http.Request {
				r, _ := http.NewRequest("POST", root+"/workey/api/attachment/doc?filename=a.txt", strings.NewReader("hello"))
				r.Header.Set("Content-Type", "application/octet-stream")
				return r
			},
			func(r *http.Request) { r.SetBasicAuth("anyone", token) },
			func(t *testing.T, b []byte) string {
				var v struct{ ID string }
				require.NoError(t, json.Unmarshal(b, &v), string(b))
				return v.ID
			}},
		{"chat",
			func(root string) *http.Request {
				return multipartReq(t, root+"/api/v1/messages/7/attachments", "files", nil)
			},
			func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "session", Value: token}) },
			func(t *testing.T, b []byte) string {
				var v struct {
					Attachments []struct{ AttachmentID string }
				}
				require.NoError(t, json.Unmarshal(b, &v), string(b))
				require.Len(t, v.Attachments, 1)
				return v.Attachments[0].AttachmentID
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			base := serve(t, "-token", token, "-dialect", tc.name,
				"-blob", "file://"+dir+"/blobs?create_dir=1&no_tmp_dir=1&metadata=skip",
				"-meta", "sqlite://"+dir+"/meta.db")
			root := strings.TrimSuffix(base, "/attachments/")

			// Without the credential: 401, in the dialect's body (JSON,
			// not the native problem+json).
			resp, err := http.DefaultClient.Do(tc.upload(root))
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, http.StatusUnauthorized, resp.StatusCode, string(body))
			assert.NotEqual(t, "application/problem+json", resp.Header.Get("Content-Type"))
			assert.True(t, json.Valid(body), string(body))

			// The native credential is not the dialect's (but for those
			// whose document names the same Bearer header).
			req := tc.upload(root)
			req.Header.Set("X-API-Token", "wrong")
			tc.cred(req)
			resp, err = http.DefaultClient.Do(req)
			require.NoError(t, err)
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Less(t, resp.StatusCode, 300, string(body))
			id := tc.id(t, body)
			require.NotEmpty(t, id)

			// The same attachment through the native API.
			req, _ = http.NewRequest("GET", base+id, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err = http.DefaultClient.Do(req)
			require.NoError(t, err)
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, "hello", string(got))
		})
	}
}

// multipartReq is a POST of a multipart body with a.txt ("hello") under
// field and the text fields.
func multipartReq(t *testing.T, url, field string, fields map[string]string) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	w, err := mw.CreateFormFile(field, "a.txt")
	require.NoError(t, err)
	_, _ = w.Write([]byte("hello"))
	require.NoError(t, mw.Close())
	r, err := http.NewRequest("POST", url, &buf)
	require.NoError(t, err)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	return r
}

func TestDialectFlags(t *testing.T) {
	c, err := parseFlags([]string{"-dialect", "efalia"})
	require.NoError(t, err)
	assert.Equal(t, "/workey/api/attachment", c.dialectPrefix)
	c, err = parseFlags([]string{"-dialect", "chat", "-dialect-prefix", "/chat/api/"})
	require.NoError(t, err)
	assert.Equal(t, "/chat/api", c.dialectPrefix)
	for _, args := range [][]string{
		{"-dialect", "nope"},
		{"-dialect-prefix", "/x"},
		{"-dialect", "coco", "-dialect-prefix", "/"},
		{"-dialect", "coco", "-dialect-prefix", "/attachments"},      // the native -prefix
		{"-dialect", "coco", "-dialect-prefix", "/attachments/coco"}, // under it
		{"-dialect", "coco", "-prefix", "/attachment/native"},        // the native API under the dialect
		{"-dialect", "coco", "-dialect-prefix", "/_demo"},            // the demo's files
	} {
		_, err := parseFlags(args)
		assert.Error(t, err, "%v", args)
	}
}
