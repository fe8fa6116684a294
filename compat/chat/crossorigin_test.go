package chat_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/internal/compattest"
)

// TestCrossSiteRefused: the session cookie goes with requests that other
// sites make a browser send, so with HandlerOptions.CrossOrigin set an
// upload or a delete started by another site is refused 403 in the chat
// error body and changes nothing, while reads and same-origin or
// non-browser writes pass.
func TestCrossSiteRefused(t *testing.T) {
	for _, be := range compattest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be, nil) // CrossOrigin: http.NewCrossOriginProtection()
			a := e.uploadOK("1", newBrowserForm().file("files", "a.txt", "", []byte("a")))[0]
			body, ct := newBrowserForm().file("files", "evil.txt", "", []byte("x")).body()
			crossSite := []string{"Cookie", sessionCookie, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors", "Origin", "https://evil.example"}
			originOnly := []string{"Cookie", sessionCookie, "Origin", "https://evil.example"}
			for _, c := range []struct {
				name, method, target string
				hdr                  []string
			}{
				{"upload, Sec-Fetch-Site", http.MethodPost, "/api/v1/messages/1/attachments", append([]string{"Content-Type", ct}, crossSite...)},
				{"upload, Origin", http.MethodPost, "/api/v1/messages/1/attachments", append([]string{"Content-Type", ct}, originOnly...)},
				{"upload, same-site", http.MethodPost, "/api/v1/messages/1/attachments", []string{"Content-Type", ct, "Cookie", sessionCookie, "Sec-Fetch-Site", "same-site"}},
				{"delete, Sec-Fetch-Site", http.MethodDelete, "/api/v1/attachments/" + a.AttachmentID, crossSite},
				{"delete, Origin", http.MethodDelete, "/api/v1/attachments/" + a.AttachmentID, originOnly},
			} {
				t.Run(c.name, func(t *testing.T) {
					before := e.Snapshot()
					rec := e.Do(c.method, c.target, body, c.hdr...)
					text := requireChatError(t, rec, http.StatusForbidden)
					assert.Contains(t, text, "cross-origin")
					e.RequireNothingStored(before)
				})
			}
			_, err := e.Service.Get(t.Context(), a.AttachmentID)
			require.NoError(t, err, "a refused delete deleted")

			// Reads pass: the browser keeps the answer from the other site.
			rec := e.Do(http.MethodGet, "/api/v1/attachments/"+a.AttachmentID+"/a.txt", nil, crossSite...)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, "a", rec.Body.String())
			// A client that is no browser (curl) sends neither header.
			body, ct = newBrowserForm().file("files", "b.txt", "", []byte("b")).body()
			rec = e.Do(http.MethodPost, "/api/v1/messages/1/attachments", body, "Content-Type", ct, "Cookie", sessionCookie)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			rec = e.Do(http.MethodDelete, "/api/v1/attachments/"+a.AttachmentID, nil, "Cookie", sessionCookie, "Sec-Fetch-Site", "same-origin")
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		})
	}
}

// TestCrossSiteWithoutProtection shows what the option guards against: a
// host that leaves HandlerOptions.CrossOrigin nil accepts another site's
// upload sent with the user's cookie.
func TestCrossSiteWithoutProtection(t *testing.T) {
	e := newEnv(t, compattest.Backends()[0], &envOptions{handler: &attachment.HandlerOptions{}})
	body, ct := newBrowserForm().file("files", "evil.txt", "", []byte("x")).body()
	rec := e.Do(http.MethodPost, "/api/v1/messages/1/attachments", body,
		"Content-Type", ct, "Cookie", sessionCookie, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
}
