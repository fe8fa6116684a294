package attachment_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
)

// streamLayer is a Layer that reads each body with ReadStream (at most
// max bytes) and answers its length, or the error through WriteError.
type streamLayer struct{ max int64 }

func (l streamLayer) ServeLayer(h *attachment.Handler, w http.ResponseWriter, r *http.Request) {
	var n int64
	err := h.ReadStream(w, r, l.max, func(body io.Reader) (err error) {
		n, err = io.Copy(io.Discard, body)
		return err
	})
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	w.Header().Set("X-Path", r.URL.Path)
	w.Header().Set("X-Read", fmt.Sprint(n))
	w.WriteHeader(http.StatusNoContent)
}

// HandlerOptions.Uploads is handed {prefix}/uploads, /uploads/ and
// /uploads/{id}, before the Handler's own routes; deeper paths and
// look-alikes are the Handler's. Without it those paths are 404.
func TestHandlerUploadsRouting(t *testing.T) {
	e := newEnv(t, backends()[0], &envOpts{handler: &attachment.HandlerOptions{Uploads: streamLayer{max: -1}}})
	for _, p := range []string{"/uploads", "/uploads/", "/uploads/0190c3a0-0000-7000-8000-000000000000", "/uploads/x"} {
		rec := e.do("PATCH", e.prefix+p, strings.NewReader("abc"))
		assert.Equal(t, http.StatusNoContent, rec.Code, p)
		assert.Equal(t, "3", rec.Header().Get("X-Read"), p)
	}
	for _, p := range []string{"/uploads/x/y", "/uploadsx", "/uploads/x/"} {
		rec := e.do("PATCH", e.prefix+p, strings.NewReader("abc"))
		assert.NotEqual(t, http.StatusNoContent, rec.Code, p)
	}
	plain := newEnv(t, backends()[0], nil)
	for _, p := range []string{"/uploads", "/uploads/", "/uploads/0190c3a0-0000-7000-8000-000000000000"} {
		for _, m := range []string{"GET", "PATCH", "HEAD", "DELETE"} {
			rec := plain.do(m, plain.prefix+p, nil)
			assert.Equal(t, http.StatusNotFound, rec.Code, m+" "+p)
		}
	}
}

// ReadStream bounds the body by max and MaxRequestSize: a Content-Length
// over it is 413 before any byte is read, a longer chunked body 413 once
// it passes the bound.
func TestHandlerReadStreamLimits(t *testing.T) {
	e := newEnv(t, backends()[0], &envOpts{handler: &attachment.HandlerOptions{Uploads: streamLayer{max: 5}, MaxRequestSize: 4}})
	rec := e.do("PATCH", e.prefix+"/uploads/x", strings.NewReader("abcd"))
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	assert.Equal(t, "4", rec.Header().Get("X-Read"))
	rec = e.do("PATCH", e.prefix+"/uploads/x", strings.NewReader("abcde"))
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	assert.Contains(t, rec.Body.String(), "too_large")
	req, err := http.NewRequest("PATCH", e.prefix+"/uploads/x", io.MultiReader(strings.NewReader("abcdefgh")))
	require.NoError(t, err)
	req.ContentLength = -1
	rec2 := newRecorder()
	e.srv.ServeHTTP(rec2, req)
	assert.Equal(t, http.StatusRequestEntityTooLarge, rec2.Code)
}

// A body that stalls under ReadStream is answered 408 and the connection
// closed, as every body the Handler reads.
func TestHandlerReadStreamStall(t *testing.T) {
	const idle = 300 * time.Millisecond
	e := newEnv(t, backends()[0], &envOpts{handler: &attachment.HandlerOptions{Uploads: streamLayer{max: -1}, UploadIdleTimeout: idle}})
	addr, done := startServer(t, e.srv)
	c := dial(t, addr)
	_, err := fmt.Fprintf(c, "PATCH %s/uploads/x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc", e.prefix)
	require.NoError(t, err)
	resp, p := readAnswer(t, c)
	require.Equal(t, http.StatusRequestTimeout, resp.StatusCode, p.Detail)
	assert.True(t, resp.Close)
	assert.Equal(t, http.StatusRequestTimeout, handlerDone(t, done))
}
