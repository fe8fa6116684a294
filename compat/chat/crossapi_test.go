package chat_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/client"
	"github.com/attachkit/attachment/compat/chat"
	"github.com/attachkit/attachment/internal/compattest"
	"github.com/attachkit/attachment/wire"
)

// TestCrossAPI: what the dialect uploads the native API and the Go client
// read and list by the dialect's labels, and what they upload the dialect
// reads, downloads and deletes.
func TestCrossAPI(t *testing.T) {
	for _, be := range compattest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be, nil)
			png := compattest.PNG(t, 20, 10)
			got := e.uploadOK("1234567", newBrowserForm().field("roomId", "6").
				file("files", "Document.pdf", "application/pdf", compattest.PDF).
				file("files", "dot.png", "image/png", png))
			pdf := got[0]
			bearer := []string{"Authorization", "Bearer " + compattest.Token}

			// The native API: content and record.
			rec := e.Do(http.MethodGet, "/api/files/"+pdf.AttachmentID, nil, bearer...)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, compattest.PDF, rec.Body.Bytes())
			rec = e.Do(http.MethodGet, "/api/files/"+pdf.AttachmentID+"/metadata", nil, bearer...)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			m := fields(t, rec.Body.Bytes())
			assert.Equal(t, "Document.pdf", m["filename"])
			assert.Equal(t, pdf.FileChecksum, m["sha256"])
			assert.Equal(t, map[string]any{"roomId": "6", "textMessageId": "1234567"}, m["labels"])
			assert.Equal(t, "tester", m["created_by"])

			// The Go client, over HTTP.
			srv := httptest.NewServer(e.Mux)
			defer srv.Close()
			c, err := client.New(srv.URL+compattest.NativePrefix, &client.Options{Token: compattest.Token})
			require.NoError(t, err)
			a, err := c.Get(t.Context(), got[1].AttachmentID)
			require.NoError(t, err)
			assert.Equal(t, "dot.png", a.Filename)
			assert.Equal(t, 20, a.Width)
			var buf bytes.Buffer
			_, err = c.Download(t.Context(), got[1].AttachmentID, &buf)
			require.NoError(t, err)
			assert.Equal(t, png, buf.Bytes())
			page, err := c.ListPage(t.Context(), &wire.ListOptions{Labels: map[string]string{chat.LabelRoomID: "6"}, Ascending: true})
			require.NoError(t, err)
			require.Len(t, page.Attachments, 2)
			assert.Equal(t, pdf.AttachmentID, page.Attachments[0].ID)

			// A native upload, without the dialect's labels.
			n, err := c.Upload(t.Context(), client.File{Name: "notes.txt", Content: strings.NewReader("native\n")}, nil)
			require.NoError(t, err)
			rec = e.Do(http.MethodGet, "/api/v1/attachments/"+n.ID, nil, "Cookie", sessionCookie)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			m = fields(t, rec.Body.Bytes())
			requireDocShape(t, m, chat.Attachment{AttachmentID: n.ID, FileChecksum: n.SHA256, FileName: "notes.txt", FileSize: 7}, nil, nil)
			assert.Equal(t, float64(n.CreatedAt.UnixMilli()), m["createdUtc"])
			rec = e.Do(http.MethodGet, "/api/v1/attachments/"+n.ID+"/notes.txt", nil, "Cookie", sessionCookie)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, "native\n", rec.Body.String())

			// A rename through the client shows in the dialect, and the
			// old download URL still works, naming the file as it is now.
			u, err := c.Update(t.Context(), n.ID, wire.Change{Filename: new("renamed.txt")})
			require.NoError(t, err)
			rec = e.Do(http.MethodGet, "/api/v1/attachments/"+n.ID, nil, "Cookie", sessionCookie)
			m = fields(t, rec.Body.Bytes())
			assert.Equal(t, "renamed.txt", m["fileName"])
			assert.Equal(t, float64(u.UpdatedAt.UnixMilli()), m["lastModifiedUtc"])
			assert.Equal(t, float64(n.CreatedAt.UnixMilli()), m["createdUtc"])
			rec = e.Do(http.MethodGet, "/api/v1/attachments/"+n.ID+"/notes.txt", nil, "Cookie", sessionCookie)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, `attachment; filename="renamed.txt"`, rec.Header().Get("Content-Disposition"))

			// Deleted through the dialect, gone for the client.
			rec = e.Do(http.MethodDelete, "/api/v1/attachments/"+n.ID, nil, "Cookie", sessionCookie)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			_, err = c.Get(t.Context(), n.ID)
			assert.ErrorIs(t, err, wire.ErrNotFound)
			// Deleted through the client, gone for the dialect.
			require.NoError(t, c.Delete(t.Context(), pdf.AttachmentID, nil))
			requireChatError(t, e.Do(http.MethodGet, "/api/v1/attachments/"+pdf.AttachmentID, nil, "Cookie", sessionCookie), http.StatusNotFound)
		})
	}
}

// TestDeleteReferenced: an attachment the native API holds a reference on
// is not deleted (409 in the chat body) until the reference goes.
func TestDeleteReferenced(t *testing.T) {
	for _, be := range compattest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be, nil)
			a := e.uploadOK("1", newBrowserForm().file("files", "a.txt", "", []byte("a")))[0]
			_, err := e.Service.AddRef(t.Context(), a.AttachmentID, "message:1")
			require.NoError(t, err)
			before := e.Snapshot()
			requireChatError(t, e.Do(http.MethodDelete, "/api/v1/attachments/"+a.AttachmentID, nil, "Cookie", sessionCookie), http.StatusConflict)
			e.RequireNothingStored(before)
			_, err = e.Service.RemoveRef(t.Context(), a.AttachmentID, "message:1")
			require.NoError(t, err)
			rec := e.Do(http.MethodDelete, "/api/v1/attachments/"+a.AttachmentID, nil, "Cookie", sessionCookie)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			records, objects := e.Count()
			assert.Zero(t, records)
			assert.Zero(t, objects)
		})
	}
}
