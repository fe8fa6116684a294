package documents_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/compat/documents"
	"github.com/attachkit/attachment/internal/compattest"
)

// TestPrefixes: mounted elsewhere, by Options.Prefix or behind
// http.StripPrefix, the dialect's URLs carry the mount point and work.
func TestPrefixes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := compattest.NewEnv(t, be, &compattest.Options{Credential: documents.Token})
		env.Mount("/docs/att", documents.New(env.Handler, &documents.Options{Prefix: "/docs/att/"}))
		env.Mux.Handle("/stripped/", http.StripPrefix("/stripped", documents.New(env.Handler, nil)))
		for _, mount := range []string{"/docs/att", "/stripped"} {
			t.Run(mount, func(t *testing.T) {
				body, ct := compattest.Multipart(t, field("workspaceId", workspaceID), field("documentId", documentID), pdfFile())
				rec := env.Do(http.MethodPost, mount+"/upload", body, append([]string{"Content-Type", ct}, bearer...)...)
				up := requireItem(t, data(t, rec, http.StatusCreated))
				u := up["url"].(string)
				assert.Equal(t, mount+"/file?url="+up["id"].(string), u)
				rec = env.Do(http.MethodGet, u, nil, bearer...)
				require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				assert.Equal(t, compattest.PDF, rec.Body.Bytes())

				list := data(t, env.Do(http.MethodGet, mount+"/document/"+documentID, nil, bearer...), http.StatusOK).([]any)
				require.NotEmpty(t, list)
				for _, v := range list {
					assert.True(t, strings.HasPrefix(requireItem(t, v)["url"].(string), mount+"/file?url="))
				}
				requireError(t, env.Do(http.MethodGet, mount+"/nope/x", nil, bearer...), http.StatusNotFound, "not_found")
			})
		}
	})
}

// TestListBound: a document's listing returns at most Options.MaxList
// attachments, oldest first, and says when it left some out; it reads
// past the store's largest page.
func TestListBound(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := compattest.NewEnv(t, be, &compattest.Options{
			Service:    &attachment.Options{MaxFiles: attachment.Off},
			Credential: documents.Token,
		})
		const n = attachment.MaxListLimit + 5
		batch, err := env.Service.NewBatch(&attachment.UploadOptions{Labels: map[string]string{"documentId": documentID}})
		require.NoError(t, err)
		for i := range n {
			require.NoError(t, batch.Add(t.Context(), attachment.File{Name: fmt.Sprintf("f%04d.txt", i), Content: strings.NewReader("x")}))
		}
		_, err = batch.Commit(t.Context())
		require.NoError(t, err)

		for _, c := range []struct {
			max, want int
			truncated string
		}{
			{3, 3, "true"},
			{n - 1, n - 1, "true"},
			{n, n, ""},
			{0, documents.DefaultMaxList, "true"},
		} {
			t.Run(fmt.Sprint(c.max), func(t *testing.T) {
				mount := fmt.Sprintf("/max%d", c.max)
				env.Mount(mount, documents.New(env.Handler, &documents.Options{Prefix: mount, MaxList: c.max}))
				rec := env.Do(http.MethodGet, mount+"/document/"+documentID, nil, bearer...)
				list := data(t, rec, http.StatusOK).([]any)
				require.Len(t, list, c.want)
				assert.Equal(t, c.truncated, rec.Header().Get("X-Truncated"))
				seen := map[string]bool{}
				prev := ""
				for _, v := range list {
					it := v.(map[string]any)
					id := it["id"].(string)
					assert.False(t, seen[id], "listed twice: %s", id)
					seen[id] = true
					assert.Greater(t, id, prev, "oldest first (UUIDv7 order)")
					prev = id
				}
			})
		}
	})
}
