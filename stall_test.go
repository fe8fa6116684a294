package attachment_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
)

// readAnswer reads the server's answer on c and its problem body.
func readAnswer(t *testing.T, c net.Conn) (*http.Response, attachment.Problem) {
	t.Helper()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var p attachment.Problem
	if resp.Header.Get("Content-Type") == "application/problem+json" {
		require.NoError(t, json.Unmarshal(body, &p), string(body))
	}
	return resp, p
}

// stalledRequest is the start of an upload whose client then stops
// sending: a request head and the first bytes of its body.
type stalledRequest struct {
	name, head string
	body       []byte
}

func stalledRequests(prefix string) []stalledRequest {
	first := bytes.Repeat([]byte("x"), 64<<10)
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_, _ = mw.CreateFormFile("files", "big.bin")
	mp.Write(first)
	return []stalledRequest{
		{"raw", "POST " + prefix + "/?filename=big.bin HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\r\n", first},
		{"chunked", "POST " + prefix + "/?filename=big.bin HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
			append([]byte(strconv.FormatInt(int64(len(first)), 16)+"\r\n"), append(first, "\r\n"...)...)},
		{"multipart", "POST " + prefix + "/ HTTP/1.1\r\nHost: x\r\nContent-Type: " + mw.FormDataContentType() + "\r\nContent-Length: 1048576\r\n\r\n", mp.Bytes()},
		{"expect-continue", "POST " + prefix + "/?filename=big.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\nExpect: 100-continue\r\n\r\n", nil},
	}
}

// An upload whose client stops sending is cut once
// HandlerOptions.UploadIdleTimeout passes without data: 408 bad_request,
// the connection closed, nothing stored; and the server goes on serving.
// Over a real loopback server, since the limit is a read deadline on the
// connection.
func TestUploadStalledCut(t *testing.T) {
	const idle = 300 * time.Millisecond
	for _, sr := range stalledRequests("/api/files") {
		t.Run(sr.name, func(t *testing.T) {
			e := newEnv(t, backends()[0], &envOpts{handler: &attachment.HandlerOptions{UploadIdleTimeout: idle}})
			addr, done := startServer(t, e.srv)
			c := dial(t, addr)
			start := time.Now()
			_, err := io.WriteString(c, sr.head)
			require.NoError(t, err)
			_, err = c.Write(sr.body)
			require.NoError(t, err)

			resp, p := readAnswer(t, c)
			if resp.StatusCode == http.StatusContinue {
				resp, p = readAnswer(t, c)
			}
			took := time.Since(start)
			require.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
			assert.Equal(t, "bad_request", p.Code)
			assert.Equal(t, http.StatusRequestTimeout, p.Status)
			assert.True(t, resp.Close, "the connection is closed after a 408")
			assert.GreaterOrEqual(t, took, idle-idle/16)
			assert.Less(t, took, idle+2*time.Second)
			require.Equal(t, http.StatusRequestTimeout, handlerDone(t, done))
			_, err = c.Read(make([]byte, 1))
			assert.ErrorIs(t, err, io.EOF, "the server closed the connection")
			e.requireNothingStored()
			requireServerFine(t, e, addr, done)
		})
	}
}

// A client sending a byte at a time, never idle for the timeout, is cut
// all the same: the deadline moves only for 1 KiB.
func TestUploadTrickleCut(t *testing.T) {
	const idle = 300 * time.Millisecond
	e := newEnv(t, backends()[0], &envOpts{handler: &attachment.HandlerOptions{UploadIdleTimeout: idle}})
	addr, done := startServer(t, e.srv)
	c := dial(t, addr)
	_, err := io.WriteString(c, "POST "+e.prefix+"/?filename=slow.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
	require.NoError(t, err)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(idle / 6):
				if _, err := c.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}()
	resp, _ := readAnswer(t, c)
	require.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
	require.Equal(t, http.StatusRequestTimeout, handlerDone(t, done))
	e.requireNothingStored()
}

// An upload that keeps sending, however long it takes overall, is not
// cut: the deadline rolls forward as data comes.
func TestUploadSlowButSteadyNotCut(t *testing.T) {
	const idle = 300 * time.Millisecond
	e := newEnv(t, backends()[0], &envOpts{handler: &attachment.HandlerOptions{UploadIdleTimeout: idle}})
	addr, done := startServer(t, e.srv)
	c := dial(t, addr)
	const chunks, size = 12, 16 << 10 // 12 pieces, idle/3 apart: 4 idle timeouts in all
	_, err := fmt.Fprintf(c, "POST %s/?filename=steady.bin HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", e.prefix, chunks*size)
	require.NoError(t, err)
	for range chunks {
		time.Sleep(idle / 3)
		_, err := c.Write(bytes.Repeat([]byte("s"), size))
		require.NoError(t, err)
	}
	resp, _ := readAnswer(t, c)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	require.Equal(t, http.StatusCreated, handlerDone(t, done))
	assert.Equal(t, 1, e.count())
}

// heapInUse is the heap in use after a collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// The memory a stalled upload holds is bounded (the chunk buffers of the
// content store and net/http's, not what the client sent), and it is all
// given back when the upload is cut. N uploads send 4 MiB each and stall.
func TestUploadStalledMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("holds stalled uploads for seconds; skipped with -short")
	}
	const (
		n    = 12
		sent = 4 << 20
		idle = 1500 * time.Millisecond
	)
	e := newEnv(t, backends()[0], &envOpts{handler: &attachment.HandlerOptions{UploadIdleTimeout: idle}})
	addr, done := startServer(t, e.srv)
	block := bytes.Repeat([]byte("m"), 64<<10)
	base := heapInUse()
	conns := make([]net.Conn, n)
	for i := range conns {
		c := dial(t, addr)
		conns[i] = c
		_, err := fmt.Fprintf(c, "POST %s/?filename=m%d.bin HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", e.prefix, i, 64<<20)
		require.NoError(t, err)
		for range sent / len(block) {
			_, err := c.Write(block)
			require.NoError(t, err)
		}
	}
	time.Sleep(idle / 3) // the server reads what was sent
	stalled := heapInUse()
	for _, c := range conns {
		resp, _ := readAnswer(t, c)
		require.Equal(t, http.StatusRequestTimeout, resp.StatusCode)
	}
	for range n {
		require.Equal(t, http.StatusRequestTimeout, handlerDone(t, done))
	}
	after := heapInUse()
	per := (int64(stalled) - int64(base)) / n
	t.Logf("heap in use: %d KiB before, %d KiB with %d uploads stalled after %d KiB each (%d KiB each), %d KiB after they were cut",
		base>>10, stalled>>10, n, sent>>10, per>>10, after>>10)
	assert.Less(t, per, int64(2<<20), "a stalled upload holds more than 2 MiB")
	assert.Less(t, int64(after)-int64(base), int64(4<<20), "cut uploads left memory held")
	e.requireNothingStored()
}
