package resumable_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A PATCH whose connection drops midway keeps the bytes that arrived:
// HEAD gives the new offset and the client goes on from there, and the
// file is byte-exact. Over a real server, on file+sqlite.
func TestTusResumeAfterDroppedConnection(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	srv := httptest.NewServer(e.srv)
	t.Cleanup(srv.Close)
	data := content(200_000)
	url := e.create("Upload-Length", itoa(len(data)))

	c := rawPatch(t, srv, url, 0, len(data))
	_, err := c.Write(data[:70_000])
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, c.Close())

	var offset int
	require.Eventually(t, func() bool {
		head := e.do("HEAD", url, nil)
		if head.Code != http.StatusNoContent {
			return false // the cut append may still hold the upload (423)
		}
		_, err := fmt.Sscan(head.Header().Get("Upload-Offset"), &offset)
		return err == nil && offset > 0
	}, 5*time.Second, 20*time.Millisecond)
	assert.LessOrEqual(t, offset, 70_000)

	req, err := http.NewRequest("PATCH", srv.URL+url, nil)
	require.NoError(t, err)
	req.Header.Set("X-User", "alice")
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Offset", itoa(offset))
	req.Body = io.NopCloser(bytes.NewReader(data[offset:]))
	req.ContentLength = int64(len(data) - offset)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	got, a := e.download(idOf(url))
	assert.Equal(t, sha(data), sha(got))
	assert.Equal(t, sha(data), a.SHA256)
}

// While a PATCH is reading its body, another PATCH to the upload is 423
// with Retry-After, and changes nothing; the first one then completes.
func TestTusConcurrentPatchLocked(t *testing.T) {
	e := newEnv(t, backends()[1], nil)
	srv := httptest.NewServer(e.srv)
	t.Cleanup(srv.Close)
	data := content(50_000)
	url := e.create("Upload-Length", itoa(len(data)))

	c := rawPatch(t, srv, url, 0, len(data))
	_, err := c.Write(data[:10_000])
	require.NoError(t, err)

	// The first PATCH claims the upload before it reads; the probe is an
	// empty append, which changes nothing should it come first.
	time.Sleep(200 * time.Millisecond)
	require.Eventually(t, func() bool {
		rec := e.patch(url, 0, []byte{})
		if rec.Code != http.StatusLocked {
			return false
		}
		assert.NotEmpty(t, rec.Header().Get("Retry-After"))
		assert.Contains(t, rec.Body.String(), `"locked"`)
		return true
	}, 5*time.Second, 20*time.Millisecond)

	_, err = c.Write(data[10_000:])
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	got, _ := e.download(idOf(url))
	assert.Equal(t, data, got)
}

// A PATCH whose client went silent (the connection open, nothing sent)
// holds the upload only until the client comes back: its HEAD interrupts
// the PATCH, which keeps the bytes it read, and answers with that offset
// at once; the client goes on from there to a byte-exact file. Over a
// real server, on file+sqlite.
func TestTusHeadInterruptsSilentPatch(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	srv := httptest.NewServer(e.srv)
	t.Cleanup(srv.Close)
	data := content(200_000)
	url := e.create("Upload-Length", itoa(len(data)))

	c := rawPatch(t, srv, url, 0, len(data))
	_, err := c.Write(data[:70_000])
	require.NoError(t, err)
	time.Sleep(200 * time.Millisecond) // the server reads what was sent, then waits

	head := e.do("HEAD", url, nil)
	require.Equal(t, http.StatusNoContent, head.Code, head.Body.String())
	var offset int
	_, err = fmt.Sscan(head.Header().Get("Upload-Offset"), &offset)
	require.NoError(t, err)
	assert.Positive(t, offset, "the silent PATCH was interrupted and kept what it read")
	assert.LessOrEqual(t, offset, 70_000)

	// The silent PATCH is over: answered 423 or cut, never left hanging.
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
		resp.Body.Close()
		assert.Equal(t, http.StatusLocked, resp.StatusCode)
	} else {
		var ne net.Error
		assert.False(t, errors.As(err, &ne) && ne.Timeout(), "the interrupted PATCH was left hanging: %v", err)
	}

	rec := e.patch(url, offset, data[offset:])
	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	got, a := e.download(idOf(url))
	assert.Equal(t, sha(data), sha(got))
	assert.Equal(t, sha(data), a.SHA256)
}

// A client that sends a whole PATCH body and hangs up without waiting for
// the answer loses nothing: the chunk is kept (the next PATCH goes on
// after it), and a last chunk commits the file. (The request's context
// ends as soon as the server sees the closed connection, which may be
// before the chunk is saved.)
func TestTusPatchThenHangUp(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			if be.skip != "" {
				t.Skip(be.skip)
			}
			e := newEnv(t, be, nil)
			answered := make(chan struct{}, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				e.srv.ServeHTTP(w, r)
				if r.Method == http.MethodPatch {
					answered <- struct{}{}
				}
			}))
			t.Cleanup(srv.Close)
			data := content(3 << 20)
			url := e.create("Upload-Length", itoa(len(data)))
			send := func(from, to int) {
				c := rawPatch(t, srv, url, from, to-from)
				_, err := c.Write(data[from:to])
				require.NoError(t, err)
				require.NoError(t, c.Close())
				<-answered
			}
			send(0, 2<<20)
			head := e.do("HEAD", url, nil)
			require.Equal(t, http.StatusNoContent, head.Code)
			require.Equal(t, itoa(2<<20), head.Header().Get("Upload-Offset"), "the whole chunk is kept")
			send(2<<20, len(data))
			got, a := e.download(idOf(url))
			assert.Equal(t, sha(data), sha(got))
			assert.Equal(t, sha(data), a.SHA256)
		})
	}
}

// rawPatch opens a connection to srv and sends the head of a PATCH of n
// bytes at offset to url, as alice, for a test to send (or not) the body
// itself. The connection is closed when the test ends.
func rawPatch(t *testing.T, srv *httptest.Server, url string, offset, n int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	_, err = fmt.Fprintf(c, "PATCH %s HTTP/1.1\r\nHost: x\r\nX-User: alice\r\nTus-Resumable: 1.0.0\r\n"+
		"Content-Type: application/offset+octet-stream\r\nUpload-Offset: %d\r\nContent-Length: %d\r\n\r\n", url, offset, n)
	require.NoError(t, err)
	return c
}
