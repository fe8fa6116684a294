package efalia_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/client"
	"github.com/attachkit/attachment/compat/efalia"
	"github.com/attachkit/attachment/internal/compattest"
	"github.com/attachkit/attachment/wire"
)

// TestCrossAPI: what the dialect stores, the native API and the Go client
// read; what they store, the dialect reads and deletes.
func TestCrossAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		srv := httptest.NewServer(env.Mux)
		t.Cleanup(srv.Close)
		c, err := client.New(srv.URL+compattest.NativePrefix, &client.Options{Token: compattest.Token})
		require.NoError(t, err)

		// Dialect -> native API.
		m := upload(t, env, "i-love-workey.pdf", compattest.PDF)
		id := m["id"].(string)
		rec := env.Do(http.MethodGet, compattest.NativePrefix+"/"+id, nil, bearer...)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, compattest.PDF, rec.Body.Bytes())
		rec = env.Do(http.MethodGet, compattest.NativePrefix+"/"+id+"/metadata", nil, bearer...)
		require.Equal(t, http.StatusOK, rec.Code)
		var native wire.Attachment
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &native))
		assert.Equal(t, id, native.ID)
		assert.Equal(t, m["fileName"], native.Filename)
		assert.Equal(t, m["type"], native.ContentType)
		assert.Equal(t, requireInt(t, m["size"], "size"), native.Size)
		assert.Equal(t, "tester", native.CreatedBy)
		assert.Equal(t, m["date"], native.CreatedAt.UTC().Format(efalia.DateLayout))

		// Dialect -> Go client.
		a, err := c.Get(t.Context(), id)
		require.NoError(t, err)
		assert.Equal(t, "i-love-workey.pdf", a.Filename)
		var buf bytes.Buffer
		_, err = c.Download(t.Context(), id, &buf)
		require.NoError(t, err)
		assert.Equal(t, compattest.PDF, buf.Bytes())

		// Go client -> dialect, under both ID forms.
		up, err := c.Upload(t.Context(), client.File{Name: "notes.txt", Content: strings.NewReader("hello, world\n")},
			&client.UploadOptions{Owner: "document:42"})
		require.NoError(t, err)
		mm := requireMetadata(t, env.Do(http.MethodGet, efalia.BasePath+"/"+strings.ReplaceAll(up.ID, "-", "")+"/metadata", nil, bearer...))
		assert.Equal(t, up.ID, mm["id"])
		assert.Equal(t, "notes.txt", mm["fileName"])
		assert.Equal(t, "text/plain; charset=utf-8", mm["type"])
		assert.Equal(t, int64(13), requireInt(t, mm["size"], "size"))
		assert.Equal(t, "tester", mm["actor"].(map[string]any)["name"])
		assert.Equal(t, efalia.BasePath+"/"+up.ID, mm["url"])
		rec = env.Do(http.MethodGet, efalia.BasePath+"/"+up.ID, nil, bearer...)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, "hello, world\n", rec.Body.String())

		// Native multipart upload -> dialect thumbnail and delete.
		body, ct := compattest.Multipart(t, compattest.Part{Field: "files", Filename: "dot.png", Content: compattest.PNG(t, 64, 64)})
		rec = env.Do(http.MethodPost, compattest.NativePrefix+"/", body, with("Content-Type", ct)...)
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		var page struct{ Attachments []wire.Attachment }
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &page))
		pid := page.Attachments[0].ID
		rec = env.Do(http.MethodGet, efalia.BasePath+"/"+pid+"/thumbnail", nil, bearer...)
		require.Equal(t, http.StatusOK, rec.Code)
		requireMessage(t, env.Do(http.MethodDelete, efalia.BasePath+"/"+pid, nil, bearer...), http.StatusOK)
		_, err = c.Get(t.Context(), pid)
		assert.ErrorIs(t, err, wire.ErrNotFound)
	})
}

// TestPrefix: mounted elsewhere, with Options.Prefix or behind
// http.StripPrefix, the URLs in answers carry the mount path.
func TestPrefix(t *testing.T) {
	eachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		env.Mount("/other/att", efalia.New(env.Handler, &efalia.Options{Prefix: "/other/att/"}))
		env.Mount("/strip/here", http.StripPrefix("/strip/here", efalia.New(env.Handler, nil)))
		for _, prefix := range []string{"/other/att", "/strip/here"} {
			t.Run(prefix, func(t *testing.T) {
				rec := env.Do(http.MethodPost, prefix+"/df?filename=a.pdf", bytes.NewReader(compattest.PDF), bearer...)
				m := requireMetadata(t, rec)
				url := m["url"].(string)
				assert.Equal(t, prefix+"/"+m["id"].(string), url)
				rec = env.Do(http.MethodGet, url, nil, bearer...)
				require.Equal(t, http.StatusOK, rec.Code)
				assert.Equal(t, compattest.PDF, rec.Body.Bytes())
				m2 := requireMetadata(t, env.Do(http.MethodGet, url+"/metadata", nil, bearer...))
				assert.Equal(t, url, m2["url"])
				requireMessage(t, env.Do(http.MethodGet, prefix+"/", nil, bearer...), http.StatusNotFound)
				requireMessage(t, env.Do(http.MethodGet, prefix, nil, bearer...), http.StatusNotFound)
			})
		}
	})
}
