package documents_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/compat/documents"
	"github.com/attachkit/attachment/internal/compattest"
)

// TestSeedCurlWithoutFile replays the document's curl example as written:
// it sends no file part, so it is a 400 and stores nothing.
func TestSeedCurlWithoutFile(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		before := env.Snapshot()
		rec := upload(env, field("workspaceId", workspaceID), field("documentId", documentID))
		requireError(t, rec, http.StatusBadRequest, "bad_request")
		assert.Contains(t, rec.Body.String(), "no file part")
		env.RequireNothingStored(before)
	})
}

// TestSeedWalk replays every example of the document: the curl upload
// with a file, the file URL of its answer, the document's listing and the
// delete.
func TestSeedWalk(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		img := pngFile(t, 800, 600)

		// curl -X POST /api/v1/attachments/upload -H "Authorization: Bearer ..."
		//   -F workspaceId=... -F documentId=... -F file=@image.png
		rec := upload(env, field("workspaceId", workspaceID), field("documentId", documentID), img)
		up := requireItem(t, data(t, rec, http.StatusCreated))
		id := up["id"].(string)
		assert.Equal(t, documentID, up["documentId"])
		assert.Equal(t, "image.png", up["fileName"])
		assert.Equal(t, float64(len(img.Content)), up["fileSize"])
		assert.Equal(t, "image/png", up["mimeType"])
		assert.Equal(t, float64(800), up["width"], "dimensions in the upload's answer")
		assert.Equal(t, float64(600), up["height"])
		assert.Equal(t, documents.BasePath+"/file?url="+url.QueryEscape(id), up["url"])

		// GET /attachments/file?url={storageKey}
		rec = env.Do(http.MethodGet, up["url"].(string), nil, bearer...)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Equal(t, "image/png", rec.Header().Get("Content-Type"))
		assert.Equal(t, img.Content, rec.Body.Bytes())
		assert.Contains(t, rec.Header().Get("Content-Disposition"), "inline")
		assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))

		// HEAD of the same: the headers alone.
		rec = env.Do(http.MethodHead, up["url"].(string), nil, bearer...)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Empty(t, rec.Body.Bytes())

		// A second attachment of the same document, a PDF: no dimensions.
		rec = upload(env, field("workspaceId", workspaceID), field("documentId", documentID), pdfFile())
		pdf := requireItem(t, data(t, rec, http.StatusCreated))
		assert.Nil(t, pdf["width"])
		assert.Nil(t, pdf["height"])
		assert.Equal(t, "application/pdf", pdf["mimeType"])

		// One of another document, not in the listing.
		rec = upload(env, field("workspaceId", workspaceID), field("documentId", "770e8400-e29b-41d4-a716-446655440000"), pdfFile())
		data(t, rec, http.StatusCreated)

		// GET /attachments/document/{documentId}: oldest first.
		rec = env.Do(http.MethodGet, documents.BasePath+"/document/"+documentID, nil, bearer...)
		list, ok := data(t, rec, http.StatusOK).([]any)
		require.True(t, ok)
		require.Len(t, list, 2)
		first := requireItem(t, list[0])
		assert.Equal(t, up["id"], first["id"])
		assert.Equal(t, float64(800), first["width"])
		assert.Equal(t, float64(600), first["height"])
		assert.Equal(t, up["url"], first["url"])
		assert.Equal(t, up["createdAt"], first["createdAt"])
		assert.Equal(t, pdf["id"], requireItem(t, list[1])["id"])
		assert.Empty(t, rec.Header().Get("X-Truncated"))

		// DELETE /attachments/{id}
		rec = env.Do(http.MethodDelete, documents.BasePath+"/"+id, nil, bearer...)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.JSONEq(t, `{"success":true}`, rec.Body.String())
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))

		requireError(t, env.Do(http.MethodGet, up["url"].(string), nil, bearer...), http.StatusNotFound, "not_found")
		requireError(t, env.Do(http.MethodDelete, documents.BasePath+"/"+id, nil, bearer...), http.StatusNotFound, "not_found")
		rec = env.Do(http.MethodGet, documents.BasePath+"/document/"+documentID, nil, bearer...)
		list = data(t, rec, http.StatusOK).([]any)
		require.Len(t, list, 1)
		assert.Equal(t, pdf["id"], requireItem(t, list[0])["id"])
	})
}

// TestFieldsAfterFile: curl and FormData send parts in the order given, so
// the fields may follow the file, or surround it.
func TestFieldsAfterFile(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		orders := map[string][]compattest.Part{
			"after":  {pngFile(t, 40, 30), field("workspaceId", workspaceID), field("documentId", documentID)},
			"around": {field("documentId", documentID), pngFile(t, 40, 30), field("workspaceId", workspaceID)},
		}
		for name, parts := range orders {
			t.Run(name, func(t *testing.T) {
				up := requireItem(t, data(t, upload(env, parts...), http.StatusCreated))
				assert.Equal(t, documentID, up["documentId"])
				assert.Equal(t, float64(40), up["width"])
				a, err := env.Service.Get(t.Context(), up["id"].(string))
				require.NoError(t, err)
				assert.Equal(t, map[string]string{"documentId": documentID, "workspaceId": workspaceID}, a.Labels)
				assert.Equal(t, "document:"+documentID, a.Owner)
			})
		}
	})
}

// TestUUIDCase: a UUID in upper case is the same UUID, stored and answered
// in lower case, and lists the same document.
func TestUUIDCase(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		upper := "550E8400-E29B-41D4-A716-446655440000"
		up := requireItem(t, data(t, upload(env, field("workspaceId", workspaceID), field("documentId", upper), pdfFile()), http.StatusCreated))
		assert.Equal(t, documentID, up["documentId"])
		for _, d := range []string{documentID, upper} {
			list := data(t, env.Do(http.MethodGet, documents.BasePath+"/document/"+d, nil, bearer...), http.StatusOK).([]any)
			require.Len(t, list, 1, d)
		}
	})
}
