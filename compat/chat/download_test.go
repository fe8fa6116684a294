package chat_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/compat/chat"
	"github.com/attachkit/attachment/internal/compattest"
)

// TestDownload: GET /attachments/{id}/{fileName} serves the content with
// the native download's headers (Range, ETag, safe types); the file name
// of the path is not checked; downloadUrl is a working path for any name.
func TestDownload(t *testing.T) {
	for _, be := range compattest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be, nil)
			html := []byte("<html><script>alert(1)</script></html>")
			got := e.uploadOK("1", newBrowserForm().
				file("files", "page.html", "text/html", html).
				file("files", "Résumé ?#%.txt", "text/plain", []byte("0123456789")))
			page, odd := got[0], got[1]
			cookie := []string{"Cookie", sessionCookie}

			// Another name in the path: served all the same, named as stored.
			rec := e.Do(http.MethodGet, "/api/v1/attachments/"+page.AttachmentID+"/other.txt", nil, cookie...)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, html, rec.Body.Bytes())
			assert.Equal(t, `attachment; filename="page.html"`, rec.Header().Get("Content-Disposition"))
			assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
			assert.Equal(t, "sandbox", rec.Header().Get("Content-Security-Policy"))
			etag := rec.Header().Get("ETag")
			assert.Equal(t, `"`+page.FileChecksum+`"`, etag)

			// downloadUrl escapes the name; the path as a template literal
			// would send it (cut at '?') is served too.
			assert.Equal(t, "/api/v1/attachments/"+odd.AttachmentID+"/R%C3%A9sum%C3%A9%20%3F%23%25.txt", odd.DownloadURL)
			for _, target := range []string{odd.DownloadURL, "/api/v1/attachments/" + odd.AttachmentID + "/R%C3%A9sum%C3%A9%20?#%.txt"} {
				rec = e.Do(http.MethodGet, target, nil, cookie...)
				require.Equal(t, http.StatusOK, rec.Code, target)
				assert.Equal(t, "0123456789", rec.Body.String())
				name, err := attachment.FilenameFromContentDisposition(rec.Header().Get("Content-Disposition"))
				require.NoError(t, err)
				assert.Equal(t, "Résumé ?#%.txt", name)
			}

			// Range, conditional and HEAD requests.
			rec = e.Do(http.MethodGet, odd.DownloadURL, nil, "Cookie", sessionCookie, "Range", "bytes=2-4")
			require.Equal(t, http.StatusPartialContent, rec.Code)
			assert.Equal(t, "234", rec.Body.String())
			assert.Equal(t, "bytes 2-4/10", rec.Header().Get("Content-Range"))
			rec = e.Do(http.MethodGet, page.DownloadURL, nil, "Cookie", sessionCookie, "If-None-Match", etag)
			assert.Equal(t, http.StatusNotModified, rec.Code)
			rec = e.Do(http.MethodHead, odd.DownloadURL, nil, cookie...)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, "10", rec.Header().Get("Content-Length"))
			assert.Empty(t, rec.Body.Bytes())
			// A range past the end: 416 in the chat body.
			rec = e.Do(http.MethodGet, odd.DownloadURL, nil, "Cookie", sessionCookie, "Range", "bytes=50-60")
			requireChatError(t, rec, http.StatusRequestedRangeNotSatisfiable)
			assert.Equal(t, "bytes */10", rec.Header().Get("Content-Range"))

			// HEAD of the metadata: its headers, no body.
			rec = e.Do(http.MethodHead, "/api/v1/attachments/"+odd.AttachmentID, nil, cookie...)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			assert.Empty(t, rec.Body.Bytes())
		})
	}
}

// TestPrefix: mounted elsewhere, by Options.Prefix or behind
// http.StripPrefix, the dialect routes below the mount path and its
// download URLs carry it.
func TestPrefix(t *testing.T) {
	for _, be := range compattest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be, nil)
			e.Mount("/chat/api/v1", chat.New(e.Handler, &chat.Options{Prefix: "/chat/api/v1"}))
			e.Mux.Handle("/stripped/v1/", http.StripPrefix("/stripped/v1", chat.New(e.Handler, nil)))
			for i, base := range []string{"/chat/api/v1", "/stripped/v1"} {
				t.Run(base, func(t *testing.T) {
					body, ct := newBrowserForm().file("files", "a b.txt", "", []byte(strconv.Itoa(i))).body()
					rec := e.Do(http.MethodPost, base+"/messages/5/attachments", body, fetchHeaders(ct)...)
					a := e.uploadAnswer(rec)[0]
					assert.Equal(t, base+"/attachments/"+a.AttachmentID+"/a%20b.txt", a.DownloadURL)
					rec = e.Do(http.MethodGet, a.DownloadURL, nil, "Cookie", sessionCookie)
					require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
					assert.Equal(t, strconv.Itoa(i), rec.Body.String())
					rec = e.Do(http.MethodGet, base+"/attachments/"+a.AttachmentID, nil, "Cookie", sessionCookie)
					require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
					assert.Equal(t, a.DownloadURL, fields(t, rec.Body.Bytes())["downloadUrl"])
					// The same record read through the other mount.
					rec = e.Do(http.MethodGet, "/api/v1/attachments/"+a.AttachmentID, nil, "Cookie", sessionCookie)
					assert.Equal(t, "/api/v1/attachments/"+a.AttachmentID+"/a%20b.txt", fields(t, rec.Body.Bytes())["downloadUrl"])
					// Errors and unknown routes under the mount: the chat body.
					requireChatError(t, e.Do(http.MethodGet, base+"/nothing", nil, "Cookie", sessionCookie), http.StatusNotFound)
					requireChatError(t, e.Do(http.MethodPut, base+"/attachments/"+a.AttachmentID, nil, "Cookie", sessionCookie), http.StatusMethodNotAllowed)
					rec = e.Do(http.MethodDelete, base+"/attachments/"+a.AttachmentID, nil, "Cookie", sessionCookie)
					require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				})
			}
		})
	}
}
