package chat_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/internal/compattest"
)

// TestUploadRefused sends uploads that must be refused: each is answered
// in the chat error body with its status, and nothing is stored.
func TestUploadRefused(t *testing.T) {
	file := []byte("hello, chat\n")
	full, fullCT := newBrowserForm().file("files", "a.txt", "text/plain", file).body()
	truncated := full.Bytes()[:full.Len()-12]
	type tc struct {
		name   string
		target string // below /api/v1; default /messages/42/attachments
		body   []byte
		hdr    []string
		status int
		text   string // a part of errorText
	}
	form := func(f *browserForm) ([]byte, []string) {
		b, ct := f.body()
		return b.Bytes(), fetchHeaders(ct)
	}
	cases := []tc{
		{name: "no cookie", body: full.Bytes(), hdr: []string{"Content-Type", fullCT}, status: 401, text: "session"},
		{name: "wrong cookie", body: full.Bytes(), hdr: []string{"Content-Type", fullCT, "Cookie", "session=nope"}, status: 401, text: "session"},
		{name: "empty cookie", body: full.Bytes(), hdr: []string{"Content-Type", fullCT, "Cookie", "session="}, status: 401, text: "session"},
		{name: "cookie of another name", body: full.Bytes(), hdr: []string{"Content-Type", fullCT, "Cookie", "sid=" + compattest.Token}, status: 401, text: "session"},
		{name: "not multipart", body: []byte(`{"files":[]}`), hdr: []string{"Content-Type", "application/json", "Cookie", sessionCookie}, status: 400, text: "multipart/form-data"},
		{name: "no body type", body: file, hdr: []string{"Cookie", sessionCookie}, status: 400, text: "multipart/form-data"},
		{name: "no boundary", body: full.Bytes(), hdr: []string{"Content-Type", "multipart/form-data", "Cookie", sessionCookie}, status: 400, text: "boundary"},
		{name: "truncated multipart", body: truncated, hdr: fetchHeaders(fullCT), status: 400, text: "could not be read"},
		{name: "oversize file", body: nil, status: 413, text: "larger"},
		{name: "empty message id", target: "/messages/%20/attachments", status: 400, text: "messageId"},
		{name: "control character in message id", target: "/messages/a%01b/attachments", status: 400, text: "messageId"},
		{name: "message id too long", target: "/messages/" + strings.Repeat("7", 257) + "/attachments", status: 400, text: "messageId"},
		{name: "room id with a control character", target: "/messages/42/attachments?roomId=a%0Ab", status: 400, text: "roomId"},
		{name: "empty room id", target: "/messages/42/attachments?roomId=", status: 400, text: "roomId"},
		{name: "room ids that differ", target: "/messages/42/attachments?roomId=6", status: 400, text: "roomId"},
		{name: "room id twice in the form", status: 400, text: "roomId"},
	}
	with := func(c tc, f *browserForm) tc {
		c.body, c.hdr = form(f)
		return c
	}
	for i := range cases {
		switch cases[i].name {
		case "oversize file":
			cases[i] = with(cases[i], newBrowserForm().file("files", "big.bin", "", bytes.Repeat([]byte("x"), 65)))
		case "empty message id", "control character in message id", "message id too long",
			"room id with a control character", "empty room id":
			cases[i] = with(cases[i], newBrowserForm().file("files", "a.txt", "", file))
		case "room ids that differ":
			cases[i] = with(cases[i], newBrowserForm().field("roomId", "7").file("files", "a.txt", "", file))
		case "room id twice in the form":
			cases[i] = with(cases[i], newBrowserForm().field("roomId", "7").file("files", "a.txt", "", file).field("roomId", "8"))
		}
	}
	// Bodies whose files are misnamed or missing.
	for _, c := range []struct {
		name string
		form *browserForm
		text string
	}{
		{"no file part", newBrowserForm().field("roomId", "6"), "no file part"},
		{"file under another field", newBrowserForm().file("file", "a.txt", "text/plain", file), "no file part"},
		{"a second file under another field", newBrowserForm().file("files", "a.txt", "", file).file("attachment", "b.txt", "", file), `"attachment"`},
		{"an unknown text field first", newBrowserForm().field("caption", "hi").file("files", "a.txt", "", file), `"caption"`},
		{"an unknown text field last", newBrowserForm().file("files", "a.txt", "", file).file("files", "b.txt", "", file).field("caption", "hi"), `"caption"`},
		{"a file without a name", newBrowserForm().file("files", "", "", nil), "filename"},
	} {
		cases = append(cases, with(tc{name: c.name, status: 400, text: c.text}, c.form))
	}
	for _, be := range compattest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be, &envOptions{service: &attachment.Options{MaxFileSize: 64}})
			// Something stored already, which must stay as it is.
			e.uploadOK("1", newBrowserForm().file("files", "kept.txt", "", file))
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					before := e.Snapshot()
					target := c.target
					if target == "" {
						target = "/messages/42/attachments"
					}
					rec := e.Do(http.MethodPost, "/api/v1"+target, bytes.NewReader(c.body), c.hdr...)
					text := requireChatError(t, rec, c.status)
					assert.Contains(t, text, c.text)
					e.RequireNothingStored(before)
				})
			}
		})
	}
}

// TestRoutesRefused: unknown IDs and routes, wrong methods, missing
// credentials, each in the chat error body; HEAD gets the status alone.
func TestRoutesRefused(t *testing.T) {
	for _, be := range compattest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be, nil)
			a := e.uploadOK("1", newBrowserForm().file("files", "a.txt", "", []byte("a")))[0]
			id := a.AttachmentID
			cookie := []string{"Cookie", sessionCookie}
			for _, c := range []struct {
				method, target string
				hdr            []string
				status         int
				allow, text    string
			}{
				{"GET", "/api/v1/attachments/01890a5d-ac96-774b-bcce-b302099a8057", cookie, 404, "", "not found"},
				{"GET", "/api/v1/attachments/3423", cookie, 404, "", "not found"},
				{"GET", "/api/v1/attachments/3423/Document.pdf", cookie, 404, "", "not found"},
				{"DELETE", "/api/v1/attachments/3423", cookie, 404, "", "not found"},
				{"GET", "/api/v1/attachments", cookie, 404, "", "no such route"},
				{"GET", "/api/v1/attachments/", cookie, 404, "", "no such route"},
				{"GET", "/api/v1/attachments/" + id + "/", cookie, 404, "", "no such route"},
				{"GET", "/api/v1/attachments/" + id + "/a.txt/more", cookie, 404, "", "no such route"},
				{"GET", "/api/v1", cookie, 404, "", "no such route"},
				{"GET", "/api/v1/", cookie, 404, "", "no such route"},
				{"GET", "/api/v1/rooms/6", cookie, 404, "", "no such route"},
				{"POST", "/api/v1/messages/1/attachments/x", cookie, 404, "", "no such route"},
				{"GET", "/api/v1/messages/1/attachments", cookie, 405, "POST", "not allowed"},
				{"POST", "/api/v1/attachments/" + id, cookie, 405, "GET, HEAD, DELETE", "not allowed"},
				{"PUT", "/api/v1/attachments/" + id, cookie, 405, "GET, HEAD, DELETE", "not allowed"},
				{"DELETE", "/api/v1/attachments/" + id + "/a.txt", cookie, 405, "GET, HEAD", "not allowed"},
				{"PATCH", "/api/v1/attachments/" + id + "/a.txt", cookie, 405, "GET, HEAD", "not allowed"},
				{"GET", "/api/v1/attachments/" + id, nil, 401, "", "session"},
				{"GET", "/api/v1/attachments/" + id, []string{"Cookie", "session=wrong"}, 401, "", "session"},
				{"GET", "/api/v1/attachments/" + id + "/a.txt", []string{"Cookie", "other=" + compattest.Token}, 401, "", "session"},
				{"DELETE", "/api/v1/attachments/" + id, []string{"Authorization", "Bearer wrong"}, 401, "", "session"},
			} {
				t.Run(c.method+" "+c.target, func(t *testing.T) {
					before := e.Snapshot()
					rec := e.Do(c.method, c.target, nil, c.hdr...)
					text := requireChatError(t, rec, c.status)
					assert.Contains(t, text, c.text)
					assert.Equal(t, c.allow, rec.Header().Get("Allow"))
					e.RequireNothingStored(before)
				})
			}
			// HEAD: the error's status and headers, no body.
			for _, target := range []string{"/api/v1/attachments/3423", "/api/v1/attachments/3423/x.pdf"} {
				rec := e.Do(http.MethodHead, target, nil, cookie...)
				assert.Equal(t, http.StatusNotFound, rec.Code)
				assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
				assert.Empty(t, rec.Body.Bytes())
			}
			// The attachment was never touched.
			rec := e.Do(http.MethodGet, "/api/v1/attachments/"+id+"/a.txt", nil, cookie...)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, "a", rec.Body.String())
		})
	}
}
