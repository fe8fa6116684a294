package documents_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/client"
	"github.com/attachkit/attachment/compat/documents"
	"github.com/attachkit/attachment/internal/compattest"
)

// TestDialectToNative: what the dialect uploads, the native API and the Go
// client read, with the dialect's fields as labels and owner.
func TestDialectToNative(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		img := pngFile(t, 64, 48)
		up := requireItem(t, data(t, upload(env, img, field("documentId", documentID), field("workspaceId", workspaceID)), http.StatusCreated))
		id := up["id"].(string)

		rec := env.Do(http.MethodGet, compattest.NativePrefix+"/"+id, nil, bearer...)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, img.Content, rec.Body.Bytes())

		rec = env.Do(http.MethodGet, compattest.NativePrefix+"/"+id+"/metadata", nil, bearer...)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var meta attachment.Attachment
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &meta))
		assert.Equal(t, id, meta.ID)
		assert.Equal(t, "image.png", meta.Filename)
		assert.Equal(t, map[string]string{"documentId": documentID, "workspaceId": workspaceID}, meta.Labels)
		assert.Equal(t, "document:"+documentID, meta.Owner)
		assert.Equal(t, "tester", meta.CreatedBy)
		assert.Equal(t, 64, meta.Width)
		assert.Equal(t, 48, meta.Height)

		rec = env.Do(http.MethodGet, compattest.NativePrefix+"/?label.documentId="+documentID, nil, bearer...)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Contains(t, rec.Body.String(), id)

		srv := httptest.NewServer(env.Mux)
		defer srv.Close()
		c, err := client.New(srv.URL+compattest.NativePrefix, &client.Options{Token: compattest.Token})
		require.NoError(t, err)
		a, err := c.Get(t.Context(), id)
		require.NoError(t, err)
		assert.Equal(t, documentID, a.Labels["documentId"])
		assert.Equal(t, workspaceID, a.Labels["workspaceId"])
		var buf bytes.Buffer
		_, err = c.Download(t.Context(), id, &buf)
		require.NoError(t, err)
		assert.Equal(t, img.Content, buf.Bytes())

		// Deleted through the dialect, gone for the client.
		require.Equal(t, http.StatusOK, env.Do(http.MethodDelete, documents.BasePath+"/"+id, nil, bearer...).Code)
		_, err = c.Get(t.Context(), id)
		require.ErrorIs(t, err, attachment.ErrNotFound)
	})
}

// TestNativeToDialect: what the native API uploads, the dialect serves,
// lists when it has the documentId label, and deletes.
func TestNativeToDialect(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		srv := httptest.NewServer(env.Mux)
		defer srv.Close()
		c, err := client.New(srv.URL+compattest.NativePrefix, &client.Options{Token: compattest.Token})
		require.NoError(t, err)

		labelled, err := c.Upload(t.Context(), client.File{Name: "notes.txt", Content: strings.NewReader("hello")},
			&client.UploadOptions{Labels: map[string]string{"documentId": documentID}})
		require.NoError(t, err)
		bare, err := c.Upload(t.Context(), client.File{Name: "dot.png", Content: bytes.NewReader(compattest.PNG(t, 3, 2))}, nil)
		require.NoError(t, err)

		list := data(t, env.Do(http.MethodGet, documents.BasePath+"/document/"+documentID, nil, bearer...), http.StatusOK).([]any)
		require.Len(t, list, 1)
		it := requireItem(t, list[0])
		assert.Equal(t, labelled.ID, it["id"])
		assert.Equal(t, documentID, it["documentId"])
		assert.Equal(t, "notes.txt", it["fileName"])
		assert.Equal(t, float64(5), it["fileSize"])
		assert.True(t, strings.HasPrefix(it["mimeType"].(string), "text/plain"), it["mimeType"])
		assert.Nil(t, it["width"])

		// The one without labels: served and deleted by ID all the same,
		// over a real connection.
		get, err := http.NewRequest(http.MethodGet, srv.URL+documents.BasePath+"/file?url="+bare.ID, nil)
		require.NoError(t, err)
		get.Header.Set("Authorization", "Bearer "+compattest.Token)
		resp, err := srv.Client().Do(get)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "image/png", resp.Header.Get("Content-Type"))
		assert.Equal(t, compattest.PNG(t, 3, 2), body)

		del, err := http.NewRequest(http.MethodDelete, srv.URL+documents.BasePath+"/"+bare.ID, nil)
		require.NoError(t, err)
		del.Header.Set("Authorization", "Bearer "+compattest.Token)
		resp, err = srv.Client().Do(del)
		require.NoError(t, err)
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.JSONEq(t, `{"success":true}`, string(body))
		_, err = c.Get(t.Context(), bare.ID)
		require.ErrorIs(t, err, attachment.ErrNotFound)
	})
}

// TestRealServerUpload sends the curl example with a file over a real
// connection, fields last and first, as curl does it.
func TestRealServerUpload(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		srv := httptest.NewServer(env.Mux)
		defer srv.Close()
		body, ct := compattest.Multipart(t, field("workspaceId", workspaceID), field("documentId", documentID), pngFile(t, 800, 600))
		req, err := http.NewRequest(http.MethodPost, srv.URL+documents.BasePath+"/upload", body)
		require.NoError(t, err)
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+compattest.Token)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusCreated, resp.StatusCode)
		var out struct {
			Success bool
			Data    struct {
				URL           string
				Width, Height int
			}
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		assert.True(t, out.Success)
		assert.Equal(t, 800, out.Data.Width)
		assert.Equal(t, 600, out.Data.Height)
		assert.True(t, strings.HasPrefix(out.Data.URL, documents.BasePath+"/file?url="), out.Data.URL)
	})
}
