package chat_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	_ "gocloud.dev/blob/fileblob" // file:// content in compattest.Backends

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/compat/chat"
	"github.com/attachkit/attachment/internal/compattest"
)

// sessionCookie is the Cookie header a signed-in browser sends.
const sessionCookie = chat.CookieName + "=" + compattest.Token

// env is a compattest.Env with the chat dialect at chat.BasePath.
type env struct {
	*compattest.Env
}

// envOptions tune newEnv.
type envOptions struct {
	service *attachment.Options
	handler *attachment.HandlerOptions
	chat    *chat.Options
}

// newEnv mounts the dialect at chat.BasePath with Prefix set, behind the
// token access hook reading the session cookie (unless o.handler has an
// Access of its own), with cross-origin protection on as a
// cookie-authenticated host must have it (unless o.handler is set).
func newEnv(t testing.TB, be compattest.Backend, o *envOptions) *env {
	t.Helper()
	if o == nil {
		o = &envOptions{}
	}
	ho := o.handler
	if ho == nil {
		ho = &attachment.HandlerOptions{CrossOrigin: http.NewCrossOriginProtection()}
	}
	eo := &compattest.Options{Service: o.service, Handler: ho}
	if ho.Access == nil {
		eo.Credential = chat.Token
	}
	e := compattest.NewEnv(t, be, eo)
	co := chat.Options{Prefix: chat.BasePath}
	if o.chat != nil {
		co = *o.chat
		if co.Prefix == "" {
			co.Prefix = chat.BasePath
		}
	}
	e.Mount(chat.BasePath, chat.New(e.Handler, &co))
	return &env{e}
}

// browserForm is a multipart/form-data body exactly as Chromium's
// FormData writes it: a "----WebKitFormBoundary" boundary of 16 more
// characters, CRLF line ends, each part with Content-Disposition and
// Content-Type (application/octet-stream for a File without a type) and
// nothing else, the file name's '"', CR and LF percent-encoded and any
// other byte (UTF-8 included) sent as is.
type browserForm struct {
	buf      bytes.Buffer
	boundary string
}

func newBrowserForm() *browserForm {
	return &browserForm{boundary: "----WebKitFormBoundaryq2Rw7YpE0tLx9ZkA"}
}

// file appends a File as formData.append(name, file) does.
func (f *browserForm) file(name, filename, typ string, content []byte) *browserForm {
	if typ == "" {
		typ = "application/octet-stream"
	}
	esc := strings.NewReplacer(`"`, "%22", "\r", "%0D", "\n", "%0A").Replace(filename)
	fmt.Fprintf(&f.buf, "--%s\r\nContent-Disposition: form-data; name=%q; filename=\"%s\"\r\nContent-Type: %s\r\n\r\n",
		f.boundary, name, esc, typ)
	f.buf.Write(content)
	f.buf.WriteString("\r\n")
	return f
}

// field appends a string as formData.append(name, value) does.
func (f *browserForm) field(name, value string) *browserForm {
	fmt.Fprintf(&f.buf, "--%s\r\nContent-Disposition: form-data; name=%q\r\n\r\n%s\r\n", f.boundary, name, value)
	return f
}

// body ends the form and returns it with its Content-Type.
func (f *browserForm) body() (*bytes.Buffer, string) {
	b := bytes.NewBuffer(append([]byte(nil), f.buf.Bytes()...))
	fmt.Fprintf(b, "--%s--\r\n", f.boundary)
	return b, "multipart/form-data; boundary=" + f.boundary
}

// fetchHeaders are the headers Chromium adds to a same-origin fetch() POST
// from a page of http://example.com (httptest's host), with the session
// cookie.
func fetchHeaders(contentType string) []string {
	return []string{
		"Content-Type", contentType,
		"Cookie", sessionCookie,
		"Origin", "http://example.com",
		"Sec-Fetch-Site", "same-origin",
		"Sec-Fetch-Mode", "cors",
		"Sec-Fetch-Dest", "empty",
		"Accept", "*/*",
	}
}

// upload sends a browser's FormData with files to messageID's upload route
// and returns the answer.
func (e *env) upload(messageID string, form *browserForm) *httptest.ResponseRecorder {
	body, ct := form.body()
	return e.Do(http.MethodPost, chat.BasePath+"/messages/"+messageID+"/attachments", body, fetchHeaders(ct)...)
}

// uploadAnswer decodes a successful upload's answer.
func (e *env) uploadAnswer(rec *httptest.ResponseRecorder) []chat.Attachment {
	e.T.Helper()
	require.Equal(e.T, http.StatusOK, rec.Code, rec.Body.String())
	var ans chat.UploadAnswer
	require.NoError(e.T, json.Unmarshal(rec.Body.Bytes(), &ans))
	require.Equal(e.T, 200, ans.HTTPStatusCode)
	return ans.Attachments
}

// uploadOK uploads and returns the stored attachments' metadata.
func (e *env) uploadOK(messageID string, form *browserForm) []chat.Attachment {
	e.T.Helper()
	return e.uploadAnswer(e.upload(messageID, form))
}

// requireChatError checks that rec is an error answer in the chat body with
// status, and returns its errorText.
func requireChatError(t testing.TB, rec *httptest.ResponseRecorder, status int) string {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
	require.Len(t, m, 2, "only errorText and httpStatusCode: %s", rec.Body.String())
	require.Equal(t, float64(status), m["httpStatusCode"])
	text, ok := m["errorText"].(string)
	require.True(t, ok, "errorText is a string: %s", rec.Body.String())
	require.NotEmpty(t, text)
	return text
}

// fields decodes a JSON object.
func fields(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), string(b))
	return m
}
