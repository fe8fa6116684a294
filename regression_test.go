package attachment_test

// Regression tests for failures known from comparable systems (issue 5):
// each hostile input ends in a clear 4xx or 204 (or, where the input is a
// valid file, a bounded success), with bounded memory and nothing stored.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
)

// allocatedBy returns the bytes allocated while fn ran.
func allocatedBy(fn func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// untouchedBody fails the test if the handler reads it.
type untouchedBody struct{ t *testing.T }

func (b untouchedBody) Read([]byte) (int, error) {
	b.t.Error("the handler read a body it should have refused unread")
	return 0, io.ErrUnexpectedEOF
}

// An upload whose Content-Length is over a limit is refused with 413
// before any of its body is read: raw over MaxFileSize, multipart over
// MaxRequestSize.
func TestRegressionContentLengthOverLimitNotRead(t *testing.T) {
	e := newEnv(t, backends()[0], &envOpts{svc: &attachment.Options{MaxFileSize: 100}, handler: &attachment.HandlerOptions{MaxRequestSize: 1000}})
	cases := []struct {
		name, path, contentType string
		length                  int64
	}{
		{"raw over MaxFileSize", "/?filename=big.bin", "application/octet-stream", 101},
		{"raw over MaxRequestSize", "/?filename=big.bin", "application/octet-stream", 1001},
		{"multipart over MaxRequestSize", "/", "multipart/form-data; boundary=b", 1001},
		{"huge", "/?filename=big.bin", "application/octet-stream", 1 << 62},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", e.prefix+tc.path, untouchedBody{t})
			req.ContentLength = tc.length
			req.Header.Set("Content-Type", tc.contentType)
			rec := httptest.NewRecorder()
			e.srv.ServeHTTP(rec, req)
			requireProblem(t, rec, http.StatusRequestEntityTooLarge, "too_large")
			e.requireNothingStored()
		})
	}
}

// startServer serves h on a real loopback server and returns its address.
// Every request's outcome (the status written, 0 for none) is sent on the
// returned channel once the handler has returned.
func startServer(t *testing.T, h http.Handler) (addr string, done <-chan int) {
	t.Helper()
	ch := make(chan int, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		defer func() { ch <- sw.status }()
		h.ServeHTTP(sw, r)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), ch
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// handlerDone waits for the handler to return and gives its status.
func handlerDone(t *testing.T, done <-chan int) int {
	t.Helper()
	select {
	case s := <-done:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not return")
		return 0
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	return c
}

// requireServerFine checks that the server still takes an ordinary upload,
// then deletes it.
func requireServerFine(t *testing.T, e *env, addr string, done <-chan int) {
	t.Helper()
	resp, err := http.Post("http://"+addr+e.prefix+"/?filename=ok.txt", "text/plain", strings.NewReader("still fine"))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(body))
	require.Equal(t, http.StatusCreated, handlerDone(t, done))
	var res struct{ Attachments []attachment.Attachment }
	require.NoError(t, json.Unmarshal(body, &res))
	rec := e.do("DELETE", res.Attachments[0].URL+"?force=true", nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
}

// A client that sends "Expect: 100-continue" with a Content-Length over
// the limit gets 413 at once and never "100 Continue": it never has to
// send the body. Over a real server, since net/http answers 100 Continue
// when the handler first reads the body.
func TestRegressionExpectContinueOverLimit(t *testing.T) {
	e := newEnv(t, backends()[0], &envOpts{svc: &attachment.Options{MaxFileSize: 100}, handler: &attachment.HandlerOptions{MaxRequestSize: 1000}})
	addr, done := startServer(t, e.srv)
	for _, tc := range []struct{ name, path, contentType, length string }{
		{"raw", "/?filename=big.bin", "application/octet-stream", "101"},
		{"multipart", "/", "multipart/form-data; boundary=b", "5000000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, addr)
			_, err := fmt.Fprintf(c, "POST %s%s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %s\r\nExpect: 100-continue\r\n\r\n",
				e.prefix, tc.path, tc.contentType, tc.length)
			require.NoError(t, err)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "got %s, not 413: %s", resp.Status, body)
			var p attachment.Problem
			require.NoError(t, json.Unmarshal(body, &p))
			assert.Equal(t, "too_large", p.Code)
			assert.Equal(t, http.StatusRequestEntityTooLarge, handlerDone(t, done))
			e.requireNothingStored()
		})
	}
	requireServerFine(t, e, addr, done)
}

// A body without a length (chunked) is cut off at MaxRequestSize even when
// every file in it is under MaxFileSize.
func TestRegressionChunkedOverRequestLimit(t *testing.T) {
	e := newEnv(t, backends()[0], &envOpts{svc: &attachment.Options{MaxFileSize: 8000}, handler: &attachment.HandlerOptions{MaxRequestSize: 10000}})
	var parts []part
	for i := range 3 {
		parts = append(parts, part{filename: fmt.Sprintf("f%d.bin", i), content: bytes.Repeat([]byte{'x'}, 5000)})
	}
	body, ct := multipartBody(t, parts...)
	req := httptest.NewRequest("POST", e.prefix+"/", io.MultiReader(body))
	req.ContentLength = -1
	req.Header.Set("Content-Type", ct)
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	requireProblem(t, rec, http.StatusRequestEntityTooLarge, "too_large")
	e.requireNothingStored()

	// Two of them fit.
	body, ct = multipartBody(t, parts[:1]...)
	rec = e.do("POST", e.prefix+"/", body, "Content-Type", ct)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
}

// tinyParts is a multipart body of n parts of one byte each: text fields,
// or files.
func tinyParts(n int, files bool) (body []byte, contentType string) {
	var b bytes.Buffer
	for i := range n {
		if files {
			fmt.Fprintf(&b, "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"%d\"\r\n\r\nx\r\n", i)
		} else {
			b.WriteString("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nx\r\n")
		}
	}
	b.WriteString("--b--\r\n")
	return b.Bytes(), "multipart/form-data; boundary=b"
}

// A multipart body of 100,000 tiny parts stops at the part or file limit:
// a 400 that says which, little memory, nothing stored.
func TestRegressionHundredThousandParts(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files bool
		code  string
		says  string
	}{
		{"fields", false, "bad_request", "too many parts"},
		{"files", true, "too_many_files", "at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, backends()[0], nil)
			body, ct := tinyParts(100_000, tc.files)
			req := httptest.NewRequest("POST", e.prefix+"/", bytes.NewReader(body))
			req.Header.Set("Content-Type", ct)
			rec := httptest.NewRecorder()
			alloc := allocatedBy(func() { e.srv.ServeHTTP(rec, req) })
			p := requireProblem(t, rec, http.StatusBadRequest, tc.code)
			assert.Contains(t, p.Detail, tc.says)
			t.Logf("%d KiB allocated for a %d KiB body", alloc>>10, len(body)>>10)
			// Each stored file costs some 130 KiB of buffers: the 32 of
			// MaxFiles fit, 100,000 would not.
			assert.Less(t, alloc, uint64(16<<20), "memory grows with the parts")
			e.requireNothingStored()
		})
	}
}

// rangeHeader asks for n one-byte ranges: bytes 0, 2, 4, ...
func rangeHeader(n int) string {
	var b strings.Builder
	b.WriteString("bytes=")
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d-%d", 2*i, 2*i)
	}
	return b.String()
}

// Thousands of one-byte ranges are refused with 416 bad_request; up
// to MaxRanges are served.
func TestRegressionThousandsOfRanges(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	content := make([]byte, 20000)
	for i := range content {
		content[i] = byte(i * 7)
	}
	a := e.mustUpload("data.bin", content)

	for _, method := range []string{"GET", "HEAD"} {
		var rec *httptest.ResponseRecorder
		alloc := allocatedBy(func() { rec = e.do(method, a.URL, nil, "Range", rangeHeader(5000)) })
		require.Equal(t, http.StatusRequestedRangeNotSatisfiable, rec.Code, method)
		assert.Equal(t, "bytes */20000", rec.Header().Get("Content-Range"), method)
		assert.Empty(t, rec.Header().Get("Content-Disposition"), method)
		if method == "GET" {
			p := requireProblem(t, rec, http.StatusRequestedRangeNotSatisfiable, "bad_request")
			assert.Contains(t, p.Detail, fmt.Sprint(attachment.DefaultMaxRanges))
		}
		assert.Less(t, alloc, uint64(1<<20), "allocated for %s", method)
	}
	requireProblem(t, e.do("GET", a.URL, nil, "Range", rangeHeader(attachment.DefaultMaxRanges+1)), http.StatusRequestedRangeNotSatisfiable, "bad_request")
	// Empty elements are not ranges (net/http skips them too).
	rec := e.do("GET", a.URL, nil, "Range", rangeHeader(attachment.DefaultMaxRanges)+strings.Repeat(", ", 100))
	require.Equal(t, http.StatusPartialContent, rec.Code)

	// At the limit: 206 with every range.
	rec = e.do("GET", a.URL, nil, "Range", rangeHeader(attachment.DefaultMaxRanges))
	require.Equal(t, http.StatusPartialContent, rec.Code)
	got := byteranges(t, rec)
	require.Len(t, got, attachment.DefaultMaxRanges)
	for i, b := range got {
		require.Equal(t, content[2*i:2*i+1], b)
	}

	// Overlapping ranges adding up to more than the content: net/http
	// ignores them and serves the whole.
	rec = e.do("GET", a.URL, nil, "Range", "bytes=0-,0-")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, content, rec.Body.Bytes())

	// The cap is an option.
	e2 := newEnv(t, backends()[0], &envOpts{handler: &attachment.HandlerOptions{MaxRanges: 2}})
	b := e2.mustUpload("data.bin", content)
	require.Equal(t, http.StatusPartialContent, e2.do("GET", b.URL, nil, "Range", "bytes=0-0,5-5").Code)
	requireProblem(t, e2.do("GET", b.URL, nil, "Range", "bytes=0-0,5-5,9-9"), http.StatusRequestedRangeNotSatisfiable, "bad_request")
}

// byteranges returns the parts of a multipart/byteranges answer.
func byteranges(t *testing.T, rec *httptest.ResponseRecorder) [][]byte {
	t.Helper()
	mt, params, err := mime.ParseMediaType(rec.Header().Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/byteranges", mt)
	mr := multipart.NewReader(rec.Body, params["boundary"])
	var got [][]byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return got
		}
		require.NoError(t, err)
		b, err := io.ReadAll(p)
		require.NoError(t, err)
		got = append(got, b)
	}
}

// A body that ends before its Content-Length (the client stopped, here by
// shutting its side of the connection) is a 400 and leaves nothing; so is
// a body without a length that goes on past the limit and then stops.
func TestRegressionTruncatedBody(t *testing.T) {
	e := newEnv(t, backends()[0], &envOpts{svc: &attachment.Options{MaxFileSize: 1 << 20}})
	addr, done := startServer(t, e.srv)
	mp := "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.bin\"\r\n\r\n"
	for _, tc := range []struct {
		name, head string
		body       []byte
		status     int
	}{
		{"raw short of its length", "POST " + e.prefix + "/?filename=a.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\n\r\n",
			make([]byte, 300000), http.StatusBadRequest},
		{"multipart short of its length", "POST " + e.prefix + "/ HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 500000\r\n\r\n",
			append([]byte(mp), make([]byte, 300000)...), http.StatusBadRequest},
		{"chunked past the limit, then cut", "POST " + e.prefix + "/?filename=a.bin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
			chunked(make([]byte, 4<<20)), http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, addr)
			_, err := io.WriteString(c, tc.head)
			require.NoError(t, err)
			// The server may answer (and stop reading) before all is sent.
			_, _ = c.Write(tc.body)
			_ = c.(*net.TCPConn).CloseWrite()
			assert.Equal(t, tc.status, handlerDone(t, done))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err == nil { // the answer may be lost to a reset
				b, _ := io.ReadAll(resp.Body)
				assert.Equal(t, tc.status, resp.StatusCode, string(b))
				resp.Body.Close()
			}
			e.requireNothingStored()
		})
	}
	requireServerFine(t, e, addr, done)
}

// chunked encodes b as HTTP/1.1 chunks of 4 KiB, without the last chunk:
// the body never ends.
func chunked(b []byte) []byte {
	var out bytes.Buffer
	for len(b) > 0 {
		n := min(len(b), 4096)
		fmt.Fprintf(&out, "%x\r\n", n)
		out.Write(b[:n])
		out.WriteString("\r\n")
		b = b[n:]
	}
	return out.Bytes()
}

// A client that closes its connection in the middle of an upload (one file
// done, the next half sent) leaves nothing, and the server goes on.
func TestRegressionClientDisconnectMidway(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			e := newEnv(t, be, nil)
			addr, done := startServer(t, e.srv)
			first := "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"one.bin\"\r\n\r\n" +
				strings.Repeat("1", 200000) + "\r\n"
			second := "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"two.bin\"\r\n\r\n" +
				strings.Repeat("2", 200000)
			c := dial(t, addr)
			_, err := fmt.Fprintf(c, "POST %s/ HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: %d\r\n\r\n%s%s",
				e.prefix, 2*len(first)+100, first, second)
			require.NoError(t, err)
			require.NoError(t, c.Close())
			status := handlerDone(t, done)
			assert.True(t, status >= 400 && status < 500, "status %d", status)
			e.requireNothingStored()
			requireServerFine(t, e, addr, done)
		})
	}
}

// pngChunk frames a PNG chunk with its length and CRC.
func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// claimPNG is a tiny PNG whose header claims w x h RGBA pixels.
func claimPNG(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	b := append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", ihdr)...)
	b = append(b, pngChunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(b, pngChunk("IEND", nil)...)
}

// claimGIF is a tiny GIF whose screen and only frame claim w x h pixels.
func claimGIF(w, h uint16) []byte {
	le := binary.LittleEndian
	b := le.AppendUint16([]byte("GIF89a"), w)
	b = le.AppendUint16(b, h)
	b = append(b, 0x80, 0, 0, 0, 0, 0, 255, 255, 255)
	b = append(b, ',', 0, 0, 0, 0)
	b = le.AppendUint16(b, w)
	b = le.AppendUint16(b, h)
	b = append(b, 0, 2, 2, 0x4c, 0x01, 0, ';')
	return b
}

// Tiny images whose headers claim tens of thousands of pixels a side get
// no thumbnail (204) and no dimensions, at little memory.
func TestRegressionHugeImageClaims(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"png 60000x60000", claimPNG(60000, 60000)},
		{"png 1x2000000000", claimPNG(1, 2_000_000_000)},
		{"gif 65535x65535", claimGIF(65535, 65535)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Workers: -1 keeps the background processors out of the
			// measurement; the thumbnail is made on request.
			e := newEnv(t, backends()[0], &envOpts{svc: &attachment.Options{Processing: attachment.ProcessingOptions{Workers: attachment.Off}}})
			a := e.mustUpload("bomb.img", tc.data)
			var rec *httptest.ResponseRecorder
			alloc := allocatedBy(func() { rec = e.do("GET", a.URL+"/thumbnail", nil) })
			require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
			assert.Empty(t, rec.Body.Bytes())
			assert.Less(t, alloc, uint64(4<<20), "allocated for the thumbnail")
			for _, k := range e.keys() {
				if strings.HasPrefix(k, "derived/") {
					attrs, err := e.bucket.Attributes(t.Context(), k)
					require.NoError(t, err)
					assert.Zero(t, attrs.Size, "%s: only an empty no-thumbnail marker is stored", k)
				}
			}

			// The processors (analyze and thumbnail) refuse it as cheaply.
			e2 := newEnv(t, backends()[0], nil)
			b := e2.mustUpload("bomb.img", tc.data)
			st := waitProcessed(t, e2, b.ID)
			assert.Zero(t, st.Width)
			assert.Zero(t, st.Height)
			assert.Equal(t, http.StatusNoContent, e2.do("GET", b.URL+"/thumbnail", nil).Code)
		})
	}
}

// waitProcessed polls the service until no job of the attachment is
// pending and returns its record.
func waitProcessed(t *testing.T, e *env, id string) *attachment.Attachment {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, err := e.svc.Get(t.Context(), id)
		require.NoError(t, err)
		st, err := e.svc.Status(t.Context(), id)
		require.NoError(t, err)
		if st.Done() {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("processing not done: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// animatedGIF is a w x h GIF of n frames, each the same solid colour:
// encoded once and repeated, so it stays small however large it claims.
func animatedGIF(t *testing.T, w, h, n int) []byte {
	t.Helper()
	pal := color.Palette{color.RGBA{200, 0, 0, 255}, color.RGBA{0, 0, 200, 255}}
	frame := image.NewPaletted(image.Rect(0, 0, w, h), pal)
	var buf bytes.Buffer
	require.NoError(t, gif.EncodeAll(&buf, &gif.GIF{Image: []*image.Paletted{frame, frame}, Delay: []int{1, 1}}))
	two := buf.Bytes()
	first := bytes.Index(two, []byte{0x21, 0xf9})
	second := first + 1 + bytes.Index(two[first+1:], []byte{0x21, 0xf9})
	require.Positive(t, first)
	require.Greater(t, second, first)
	data := append([]byte{}, two[:second]...)
	for range n - 1 {
		data = append(data, two[second:len(two)-1]...)
	}
	return append(data, ';')
}

// An animated GIF of 300 frames of 1000x1000 (300 million pixels in all)
// gets a thumbnail of its first frame, at the memory of one frame.
func TestRegressionAnimatedGIFManyLargeFrames(t *testing.T) {
	e := newEnv(t, backends()[0], &envOpts{svc: &attachment.Options{Processing: attachment.ProcessingOptions{Workers: attachment.Off}}})
	one := e.mustUpload("one.gif", animatedGIF(t, 1000, 1000, 1))
	many := e.mustUpload("many.gif", animatedGIF(t, 1000, 1000, 300))
	var recOne, recMany *httptest.ResponseRecorder
	allocOne := allocatedBy(func() { recOne = e.do("GET", one.URL+"/thumbnail?size=64", nil) })
	allocMany := allocatedBy(func() { recMany = e.do("GET", many.URL+"/thumbnail?size=64", nil) })
	require.Equal(t, http.StatusOK, recOne.Code, recOne.Body.String())
	require.Equal(t, http.StatusOK, recMany.Code, recMany.Body.String())
	t.Logf("thumbnail of 1 frame: %d KiB allocated; of 300: %d KiB", allocOne>>10, allocMany>>10)
	// Decoding every frame would take 300 MB.
	assert.Less(t, allocMany, allocOne*3/2+4<<20, "300 frames cost more than one")
	m, _, err := image.Decode(recMany.Body)
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 64, 64), m.Bounds())
	assert.Equal(t, "nosniff", recMany.Header().Get("X-Content-Type-Options"))
	assert.Equal(t, "sandbox", recMany.Header().Get("Content-Security-Policy"))
}

// isBidiOrControl reports the characters that must not survive in a name.
func isBidiOrControl(r rune) bool {
	switch {
	case unicode.IsControl(r), r == '\u2028', r == '\u2029':
		return true
	case r >= '\u202A' && r <= '\u202E', r >= '\u2066' && r <= '\u2069', r == '\u200E', r == '\u200F', r == '\u061C':
		return true
	}
	return false
}

// Filenames built to break headers (CR LF, quotes, parameter injection,
// bidirectional overrides, controls, long non-ASCII) are cleaned when
// stored, and go out in a Content-Disposition that is ASCII, parses back
// to the stored name, and has an ASCII fallback filename= beside
// filename*=. Names that clean to nothing are refused.
func TestRegressionFilenamesBuiltToBreakHeaders(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	names := []string{
		"a\r\nSet-Cookie: x=y.txt",
		"invoice\u202Efdp.exe",
		`a.txt"; filename="evil.html`,
		"a.txt; filename*=UTF-8''evil.html",
		"x\x00y\x07z\x1b[31m.txt",
		"\u2066r\u200Fl\u061C\u2069.pdf",
		"日本語\u2028報告.pdf",
		strings.Repeat("é", 1000) + ".pdf",
		"%22%0d%0a.txt",
		"=?UTF-8?B?ZXZpbC5odG1s?=",
		"\\\\server\\share\\..\\a.txt",
	}
	for _, name := range names {
		for _, multi := range []bool{false, true} {
			var rec *httptest.ResponseRecorder
			if multi {
				body := "--b\r\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8''" + encode5987(name) + "\r\n\r\nx\r\n--b--\r\n"
				rec = e.do("POST", e.prefix+"/", strings.NewReader(body), "Content-Type", "multipart/form-data; boundary=b")
			} else {
				rec = e.uploadRaw(name, []byte("x"))
			}
			require.Equal(t, http.StatusCreated, rec.Code, "%q: %s", name, rec.Body.String())
			var res struct{ Attachments []attachment.Attachment }
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &res))
			a := res.Attachments[0]
			require.True(t, utf8.ValidString(a.Filename))
			require.LessOrEqual(t, len(a.Filename), attachment.DefaultMaxFilenameBytes)
			for _, r := range a.Filename {
				require.False(t, isBidiOrControl(r), "%q kept %U", a.Filename, r)
			}
			require.NotContains(t, a.Filename, "/")
			require.NotContains(t, a.Filename, `\`)

			for _, method := range []string{"GET", "HEAD"} {
				rec := e.do(method, a.URL+"?disposition=inline", nil)
				require.Equal(t, http.StatusOK, rec.Code)
				cd := rec.Header().Get("Content-Disposition")
				for i := 0; i < len(cd); i++ {
					require.True(t, cd[i] >= 0x20 && cd[i] < 0x7f, "byte %#x in %q", cd[i], cd)
				}
				disp, params, err := mime.ParseMediaType(cd)
				require.NoError(t, err, cd)
				assert.Equal(t, "inline", disp) // text/plain
				assert.Equal(t, a.Filename, params["filename"], cd)
				assert.Contains(t, cd, `filename="`, "ASCII fallback")
				if !isASCII(a.Filename) {
					assert.Contains(t, cd, `filename*=UTF-8''`, cd)
				}
				assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
				assert.Equal(t, "sandbox", rec.Header().Get("Content-Security-Policy"))
			}
			require.Equal(t, http.StatusOK, e.do("DELETE", a.URL+"?force=true", nil).Code)
		}
	}
	// Names with nothing left once cleaned.
	for _, name := range []string{"\u202E", "..", "\x00\x01", " . ", "/"} {
		requireProblem(t, e.uploadRaw(name, []byte("x")), http.StatusBadRequest, "invalid_filename")
	}
	e.requireNothingStored()
}

// encode5987 percent-encodes s as an RFC 5987 ext-value's value.
func encode5987(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 && (unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)) || strings.IndexByte("!#$&+-.^_`|~", c) >= 0) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Types that run code in a browser (HTML, SVG, XML, scripts) are never
// served inline, whatever the client claimed and however the bytes sniff;
// every answer that carries content has nosniff and a sandbox CSP: GET,
// HEAD, 206, thumbnails.
func TestRegressionNeverInline(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	cases := []struct {
		name, claim string
		content     []byte
	}{
		{"page.html", "text/html", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")},
		{"page.png", "image/png", []byte("<html><body onload=alert(1)>")},
		{"i.svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)},
		{"d.xml", "application/xml", []byte(`<?xml version="1.0"?><x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script>`)},
		{"a.js", "application/javascript", []byte("alert(document.cookie)")},
		{"a.txt", "text/plain", []byte("<script>alert(1)</script>")},
		{"x.xhtml", "application/xhtml+xml", []byte(`<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>`)},
	}
	for _, tc := range cases {
		a := e.mustUpload(tc.name, tc.content, "Content-Type", tc.claim)
		mt, _, _ := mime.ParseMediaType(a.ContentType)
		for _, req := range []struct {
			method string
			hdr    []string
		}{{"GET", nil}, {"HEAD", nil}, {"GET", []string{"Range", "bytes=0-3"}}} {
			rec := e.do(req.method, a.URL+"?disposition=inline", nil, req.hdr...)
			require.Contains(t, []int{http.StatusOK, http.StatusPartialContent}, rec.Code)
			disp, _, err := mime.ParseMediaType(rec.Header().Get("Content-Disposition"))
			require.NoError(t, err)
			if isScriptable(mt) {
				assert.Equal(t, "attachment", disp, "%s stored as %s", tc.name, a.ContentType)
			}
			assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), "%s %s", req.method, tc.name)
			assert.Equal(t, "sandbox", rec.Header().Get("Content-Security-Policy"), "%s %s", req.method, tc.name)
		}
		// A text/plain stored file is inline only as text/plain, which
		// nosniff keeps from being rendered as HTML.
		if !isScriptable(mt) {
			assert.Equal(t, "text/plain", mt, tc.name)
		}
	}
	// Thumbnails (GET and HEAD), JSON answers and problems too.
	img := e.mustUpload("p.png", pngBytes(t, 40, 30))
	for _, tc := range []struct {
		method, url string
		status      int
	}{
		{"GET", img.URL + "/thumbnail", http.StatusOK},
		{"HEAD", img.URL + "/thumbnail", http.StatusOK},
		{"GET", img.URL + "/metadata", http.StatusOK},
		{"GET", e.prefix + "/", http.StatusOK},
		{"GET", img.URL + "?disposition=evil", http.StatusBadRequest},
		{"GET", img.URL, http.StatusRequestedRangeNotSatisfiable},
	} {
		method := tc.method
		var hdr []string
		if tc.status == http.StatusRequestedRangeNotSatisfiable {
			hdr = []string{"Range", rangeHeader(1000)}
		}
		rec := e.do(method, tc.url, nil, hdr...)
		require.Equal(t, tc.status, rec.Code, tc.url)
		assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), "%s %s", method, tc.url)
		assert.Equal(t, "sandbox", rec.Header().Get("Content-Security-Policy"), "%s %s", method, tc.url)
		if strings.HasSuffix(tc.url, "/thumbnail") {
			assert.Equal(t, "no-referrer", rec.Header().Get("Referrer-Policy"), "%s %s", method, tc.url)
		}
	}
}

func isScriptable(mt string) bool {
	return strings.Contains(mt, "html") || strings.Contains(mt, "xml") || strings.Contains(mt, "script") || strings.HasPrefix(mt, "text/") && mt != "text/plain"
}

// Concurrent hostile uploads do not disturb one another (run with -race).
func TestRegressionConcurrentLimits(t *testing.T) {
	e := newEnv(t, backends()[0], &envOpts{svc: &attachment.Options{MaxFileSize: 1000}})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			body, ct := tinyParts(500, i%2 == 0)
			req := httptest.NewRequest("POST", e.prefix+"/", bytes.NewReader(body))
			req.Header.Set("Content-Type", ct)
			rec := httptest.NewRecorder()
			e.srv.ServeHTTP(rec, req)
			assert.Equal(t, http.StatusBadRequest, rec.Code)
		})
	}
	wg.Wait()
	e.requireNothingStored()
}

// Range headers net/http gets wrong on its own: an empty suffix range
// ("-0") was served as a 206 of no bytes with Content-Range "bytes
// 20-19/20"; a unit other than bytes was refused where RFC 9110 says to
// ignore it; a malformed range's 416 had no Content-Range.
func TestRegressionRangeEdgeCases(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	content := []byte("0123456789abcdefghij")
	a := e.mustUpload("r.bin", content)
	for _, tc := range []struct {
		rng    string
		status int
		body   string
	}{
		{"bytes=-0", http.StatusRequestedRangeNotSatisfiable, ""},
		{"bytes=-000, ,", http.StatusRequestedRangeNotSatisfiable, ""},
		{"bytes= - +0", http.StatusRequestedRangeNotSatisfiable, ""},
		{"bytes=-0,2-3", http.StatusPartialContent, "23"},
		{"bytes=1-0", http.StatusRequestedRangeNotSatisfiable, ""},
		{"bytes=x", http.StatusRequestedRangeNotSatisfiable, ""},
		{"items=0-1", http.StatusOK, string(content)},
		{"BYTES = 0-1", http.StatusPartialContent, "01"},
		{"bytes=18-", http.StatusPartialContent, "ij"},
	} {
		rec := e.do("GET", a.URL, nil, "Range", tc.rng)
		require.Equal(t, tc.status, rec.Code, "%q: %s", tc.rng, rec.Body.String())
		if tc.status == http.StatusRequestedRangeNotSatisfiable {
			requireProblem(t, rec, tc.status, "bad_request")
			assert.Equal(t, "bytes */20", rec.Header().Get("Content-Range"), tc.rng)
			continue
		}
		assert.Equal(t, tc.body, rec.Body.String(), tc.rng)
	}
}

// Empty content is served whole whatever the Range header says: net/http
// answered "bytes=-1" with a 206 and Content-Range "bytes 0--1/0".
func TestRegressionRangeOfEmptyContent(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	a := e.mustUpload("empty.bin", nil)
	for _, rng := range []string{"bytes=-1", "bytes=0-0", "bytes=-0", "bytes=0-"} {
		rec := e.do("GET", a.URL, nil, "Range", rng)
		require.Equal(t, http.StatusOK, rec.Code, rng)
		assert.Empty(t, rec.Header().Get("Content-Range"), rng)
		assert.Equal(t, "0", rec.Header().Get("Content-Length"), rng)
	}
}

// Thumbnails are served with the same range rules as downloads: the cap on
// ranges, and the edge cases fixed there.
func TestRegressionThumbnailRanges(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	a := e.mustUpload("p.png", pngBytes(t, 300, 200))
	requireProblem(t, e.do("GET", a.URL+"/thumbnail?size=64", nil, "Range", rangeHeader(attachment.DefaultMaxRanges+1)),
		http.StatusRequestedRangeNotSatisfiable, "bad_request")
	rec := e.do("GET", a.URL+"/thumbnail?size=64", nil, "Range", "bytes=0-0")
	require.Equal(t, http.StatusPartialContent, rec.Code, rec.Body.String())
	require.Equal(t, 1, rec.Body.Len())
}
