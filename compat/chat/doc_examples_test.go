package chat_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/compat/chat"
	"github.com/attachkit/attachment/internal/compattest"
)

// requireDocShape checks that m has every field of the document's
// metadata example with the document's JSON type (attachmentId excepted:
// a string, see docs/dialects.md), and the values of want.
func requireDocShape(t *testing.T, m map[string]any, want chat.Attachment, roomID, messageID any) {
	t.Helper()
	for _, k := range []string{"attachmentId", "attachmentState", "createdUtc", "fileChecksum", "fileName",
		"fileSize", "hasThumbnail", "lastModifiedUtc", "roomId", "textMessageId"} {
		require.Contains(t, m, k)
	}
	assert.IsType(t, "", m["attachmentId"])
	assert.Equal(t, want.AttachmentID, m["attachmentId"])
	assert.Equal(t, "ReadyForDownloadFromServerToClient", m["attachmentState"])
	assert.IsType(t, float64(0), m["createdUtc"])
	assert.IsType(t, float64(0), m["lastModifiedUtc"])
	assert.Equal(t, want.FileChecksum, m["fileChecksum"])
	assert.Equal(t, want.FileName, m["fileName"])
	assert.Equal(t, float64(want.FileSize), m["fileSize"])
	assert.IsType(t, false, m["hasThumbnail"])
	assert.Equal(t, roomID, m["roomId"])
	assert.Equal(t, messageID, m["textMessageId"])
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestDocExamples replays the document's examples: the fetch() with a
// FormData of files under "files", then GET of the metadata, GET of the
// file by ID and name, DELETE, and the error example of each route.
func TestDocExamples(t *testing.T) {
	for _, be := range compattest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be, nil)
			png := compattest.PNG(t, 40, 30)

			// const formData = new FormData();
			// files.forEach(file => formData.append("files", file));
			// await fetch(`/api/v1/messages/${messageId}/attachments`, {method: "POST", body: formData});
			before := time.Now().UnixMilli()
			form := newBrowserForm().
				file("files", "Document.pdf", "application/pdf", compattest.PDF).
				file("files", "photo.png", "image/png", png)
			body, ct := form.body()
			rec := e.Do(http.MethodPost, "/api/v1/messages/1234567/attachments", body, fetchHeaders(ct)...)
			after := time.Now().UnixMilli()
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			ans := fields(t, rec.Body.Bytes())
			assert.Equal(t, float64(200), ans["httpStatusCode"])
			list, ok := ans["attachments"].([]any)
			require.True(t, ok, rec.Body.String())
			require.Len(t, list, 2)
			up := e.uploadAnswer(rec)
			pdf, img := up[0], up[1]
			requireDocShape(t, list[0].(map[string]any), chat.Attachment{
				AttachmentID: pdf.AttachmentID, FileChecksum: sum(compattest.PDF),
				FileName: "Document.pdf", FileSize: int64(len(compattest.PDF)),
			}, nil, float64(1234567))
			assert.Equal(t, "Document.pdf", pdf.FileName)
			assert.Equal(t, "photo.png", img.FileName)
			assert.Equal(t, sum(png), img.FileChecksum)
			assert.True(t, img.HasThumbnail, "a PNG has a thumbnail")
			assert.False(t, pdf.HasThumbnail, "a PDF has none")
			assert.GreaterOrEqual(t, pdf.CreatedUTC, before)
			assert.LessOrEqual(t, pdf.CreatedUTC, after)
			assert.Equal(t, pdf.CreatedUTC, pdf.LastModifiedUTC)

			// GET /api/v1/attachments/${attachmentId}
			rec = e.Do(http.MethodGet, "/api/v1/attachments/"+pdf.AttachmentID, nil, "Cookie", sessionCookie)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			m := fields(t, rec.Body.Bytes())
			requireDocShape(t, m, pdf, nil, float64(1234567))
			assert.Equal(t, float64(pdf.CreatedUTC), m["createdUtc"])
			assert.Equal(t, "/api/v1/attachments/"+pdf.AttachmentID+"/Document.pdf", m["downloadUrl"])

			// GET /api/v1/attachments/${attachmentId}/${attachmentFileName}
			rec = e.Do(http.MethodGet, "/api/v1/attachments/"+pdf.AttachmentID+"/Document.pdf", nil, "Cookie", sessionCookie)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, compattest.PDF, rec.Body.Bytes())
			assert.Equal(t, "application/pdf", rec.Header().Get("Content-Type"))
			assert.Equal(t, strconv.Itoa(len(compattest.PDF)), rec.Header().Get("Content-Length"))
			assert.Equal(t, `attachment; filename="Document.pdf"`, rec.Header().Get("Content-Disposition"))

			// DELETE /api/v1/attachments/${attachmentId}
			rec = e.Do(http.MethodDelete, "/api/v1/attachments/"+pdf.AttachmentID, nil, fetchHeaders("")[2:]...)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.JSONEq(t, `{"httpStatusCode":200}`, rec.Body.String())

			// The error example of each route: {"errorText": ..., "httpStatusCode": 404}.
			for _, target := range []string{
				"/api/v1/attachments/" + pdf.AttachmentID,
				"/api/v1/attachments/" + pdf.AttachmentID + "/Document.pdf",
			} {
				text := requireChatError(t, e.Do(http.MethodGet, target, nil, "Cookie", sessionCookie), http.StatusNotFound)
				assert.Contains(t, text, "not found")
			}
			requireChatError(t, e.Do(http.MethodDelete, "/api/v1/attachments/"+pdf.AttachmentID, nil, "Cookie", sessionCookie), http.StatusNotFound)
			// ... and 401 without the session cookie, on every route.
			body, ct = newBrowserForm().file("files", "a.txt", "text/plain", []byte("a")).body()
			for _, rec := range []*httptest.ResponseRecorder{
				e.Do(http.MethodPost, "/api/v1/messages/1/attachments", body, "Content-Type", ct),
				e.Do(http.MethodGet, "/api/v1/attachments/"+img.AttachmentID, nil),
				e.Do(http.MethodGet, "/api/v1/attachments/"+img.AttachmentID+"/photo.png", nil),
				e.Do(http.MethodDelete, "/api/v1/attachments/"+img.AttachmentID, nil),
			} {
				text := requireChatError(t, rec, http.StatusUnauthorized)
				assert.Contains(t, text, "session")
			}
			// The image is still there.
			rec = e.Do(http.MethodGet, "/api/v1/attachments/"+img.AttachmentID+"/photo.png", nil, "Cookie", sessionCookie)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, png, rec.Body.Bytes())
		})
	}
}
