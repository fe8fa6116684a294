package attachment_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
)

// smallBodyRoute is a route that reads a JSON or form body: its path
// (relative to the attachment's URL, or the prefix when absolute) and a
// body that changes something.
type smallBodyRoute struct {
	name, method, path, contentType string
	body                            []byte
	// pad returns the body again with n bytes of padding that changes
	// nothing (JSON whitespace, an ignored form field).
	pad func(n int) []byte
}

func smallBodyRoutes() []smallBodyRoute {
	jsonPad := func(open, rest string) func(int) []byte {
		return func(n int) []byte { return []byte(open + strings.Repeat(" ", n) + rest) }
	}
	formPad := func(body string) func(int) []byte {
		return func(n int) []byte { return []byte(body + "&pad=" + strings.Repeat("p", n)) }
	}
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("filename", "renamed.txt")
	_ = mw.WriteField("label.k", "v")
	_ = mw.Close()
	mpBody := mp.Bytes()
	routes := []smallBodyRoute{
		{"patch-json", "PATCH", "", "application/json", nil, jsonPad(`{"filename": "renamed.txt",`, `"labels": {"k": "v"}}`)},
		{"put-json", "PUT", "", "application/json", nil, jsonPad(`{"owner": "someone-else",`, `"labels": {"k": "v"}}`)},
		{"patch-form", "PATCH", "", "application/x-www-form-urlencoded", nil, formPad("filename=renamed.txt&label.k=v")},
		{"put-multipart", "PUT", "", mw.FormDataContentType(), mpBody, nil},
		{"refs-json", "POST", "/refs", "application/json", nil, jsonPad(`{`, `"ref": "order/1"}`)},
		{"refs-form", "POST", "/refs", "application/x-www-form-urlencoded", nil, formPad("ref=order/1")},
		{"status-many", "POST", "/_status", "application/json", nil, jsonPad(`{`, `"attachments": ["ID"]}`)},
	}
	for i := range routes {
		if routes[i].body == nil {
			routes[i].body = routes[i].pad(0)
		}
	}
	return routes
}

// target is the request's path for attachment a.
func (rt smallBodyRoute) target(e *env, a attachment.Attachment) string {
	if strings.HasPrefix(rt.path, "/_") {
		return e.prefix + rt.path
	}
	return a.URL + rt.path
}

// record is what a change through these routes could alter.
type record struct {
	Filename, Owner string
	Labels          map[string]string
	Refs            []string
}

func (e *env) record(a attachment.Attachment) record {
	e.t.Helper()
	rec := e.do("GET", a.URL+"/metadata", nil)
	require.Equal(e.t, http.StatusOK, rec.Code, rec.Body.String())
	var got attachment.Attachment
	require.NoError(e.t, json.Unmarshal(rec.Body.Bytes(), &got))
	return record{got.Filename, got.Owner, got.Labels, got.Refs}
}

// A client that sends half of a JSON or form body and stops is cut once
// HandlerOptions.UploadIdleTimeout passes without data, as an upload is:
// 408 bad_request, the connection closed, the record unchanged; and the
// server goes on serving. With a Content-Length, and chunked.
func TestIdleSmallBodyStalledCut(t *testing.T) {
	const idle = 300 * time.Millisecond
	e := newEnv(t, backends()[0], &envOpts{handler: &attachment.HandlerOptions{UploadIdleTimeout: idle}})
	a := e.mustUpload("a.txt", []byte("hello"))
	before := e.record(a)
	addr, done := startServer(t, e.srv)
	for _, rt := range smallBodyRoutes() {
		for _, chunked := range []bool{false, true} {
			name := rt.name
			if chunked {
				name += "-chunked"
			}
			t.Run(name, func(t *testing.T) {
				body := bytes.ReplaceAll(rt.body, []byte("ID"), []byte(a.ID))
				half := body[:len(body)/2]
				c := dial(t, addr)
				start := time.Now()
				head := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n", rt.method, rt.target(e, a), rt.contentType)
				if chunked {
					_, err := fmt.Fprintf(c, "%sTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", head, len(half), half)
					require.NoError(t, err)
				} else {
					_, err := fmt.Fprintf(c, "%sContent-Length: %d\r\n\r\n%s", head, len(body), half)
					require.NoError(t, err)
				}

				resp, p := readAnswer(t, c)
				took := time.Since(start)
				require.Equal(t, http.StatusRequestTimeout, resp.StatusCode, p.Detail)
				assert.Equal(t, "bad_request", p.Code)
				assert.Equal(t, http.StatusRequestTimeout, p.Status)
				assert.Contains(t, p.Detail, "stalled")
				assert.True(t, resp.Close, "the connection is closed after a 408")
				assert.GreaterOrEqual(t, took, idle-idle/16)
				assert.Less(t, took, idle+2*time.Second)
				require.Equal(t, http.StatusRequestTimeout, handlerDone(t, done))
				_, err := c.Read(make([]byte, 1))
				assert.ErrorIs(t, err, io.EOF, "the server closed the connection")
				assert.Equal(t, before, e.record(a), "the record changed")
			})
		}
	}
	requireServerFine(t, e, addr, done)
}

// A client that sends its JSON or form body slowly but steadily, never
// idle for the timeout and sending more than 1 KiB each time, is not
// cut, though the whole body takes several timeouts: the deadline rolls
// forward as data comes, and the change is made.
func TestIdleSmallBodySlowButSteadyNotCut(t *testing.T) {
	const (
		idle           = 300 * time.Millisecond
		chunks, padded = 8, 16 << 10 // 8 pieces of 2 KiB and more, idle/3 apart
	)
	for _, rt := range smallBodyRoutes() {
		if rt.pad == nil {
			continue // a multipart form has no padding that changes nothing
		}
		t.Run(rt.name, func(t *testing.T) {
			e := newEnv(t, backends()[0], &envOpts{handler: &attachment.HandlerOptions{UploadIdleTimeout: idle}})
			a := e.mustUpload("a.txt", []byte("hello"))
			before := e.record(a)
			addr, done := startServer(t, e.srv)
			body := bytes.ReplaceAll(rt.pad(padded), []byte("ID"), []byte(a.ID))
			c := dial(t, addr)
			start := time.Now()
			_, err := fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
				rt.method, rt.target(e, a), rt.contentType, len(body))
			require.NoError(t, err)
			size := (len(body) + chunks - 1) / chunks
			for piece := range pieces(body, size) {
				time.Sleep(idle / 3)
				_, err := c.Write(piece)
				require.NoError(t, err)
			}
			resp, _ := readAnswer(t, c)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Greater(t, time.Since(start), 2*idle, "the body took longer than the timeout")
			require.Equal(t, http.StatusOK, handlerDone(t, done))
			if rt.path != "/_status" {
				assert.NotEqual(t, before, e.record(a), "the change was not made")
			}
		})
	}
}

// pieces yields b in pieces of size bytes.
func pieces(b []byte, size int) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(b) > 0 {
			n := min(size, len(b))
			if !yield(b[:n]) {
				return
			}
			b = b[n:]
		}
	}
}

// A route that never reads its body (DELETE, GET, HEAD) answers a client
// that declared a body and sent part of it within
// HandlerOptions.UploadIdleTimeout, and closes the connection: net/http
// drains an unread body before it answers, and without the handler's
// deadline (boundUnreadBody) that drain waited for good.
func TestIdleUnreadBodyBounded(t *testing.T) {
	const idle = 300 * time.Millisecond
	e := newEnv(t, backends()[0], &envOpts{handler: &attachment.HandlerOptions{UploadIdleTimeout: idle}})
	a := e.mustUpload("a.txt", []byte("hello"))
	b := e.mustUpload("b.txt", []byte("hello"))
	addr, done := startServer(t, e.srv)
	for _, rq := range []struct{ name, method, target string }{
		{"metadata", "GET", a.URL + "/metadata"},
		{"download", "GET", a.URL},
		{"delete", "DELETE", b.URL},
	} {
		t.Run(rq.name, func(t *testing.T) {
			c := dial(t, addr)
			start := time.Now()
			_, err := fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nhello", rq.method, rq.target)
			require.NoError(t, err)
			resp, _ := readAnswer(t, c)
			took := time.Since(start)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Less(t, took, idle+2*time.Second, "the answer waited for the rest of a body nobody reads")
			assert.Equal(t, http.StatusOK, handlerDone(t, done))
			_, err = c.Read(make([]byte, 1))
			assert.Error(t, err, "the server closed the connection")
		})
	}
	requireServerFine(t, e, addr, done)
}
