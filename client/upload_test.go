package client_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/client"
)

func TestUploadRaw(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	content := []byte("hello, world\n")
	sum := sha256.Sum256(content)
	a, err := e.c.Upload(ctx, client.File{Name: "Grüße/../ünïcode name.txt", Content: bytes.NewReader(content), SHA256: sum[:]},
		&client.UploadOptions{Owner: "document:1", Labels: map[string]string{"workspace": "w 1", "kind": "a&b=c"}})
	require.NoError(t, err)
	assert.Equal(t, "ünïcode name.txt", a.Filename)
	assert.Equal(t, "document:1", a.Owner)
	assert.Equal(t, map[string]string{"workspace": "w 1", "kind": "a&b=c"}, a.Labels)
	assert.Equal(t, int64(len(content)), a.Size)
	assert.Equal(t, hex.EncodeToString(sum[:]), a.SHA256)
	assert.Equal(t, "ready", a.State)
	assert.Equal(t, prefix+"/"+a.ID, a.URL)

	reqs := e.requests()
	last := reqs[len(reqs)-1]
	assert.Equal(t, http.MethodPost, last.method)
	assert.Equal(t, int64(len(content)), last.contentLength, "a known size is sent as Content-Length")
	assert.Equal(t, "application/octet-stream", last.header.Get("Content-Type"))
	assert.Contains(t, last.header.Get("Content-Digest"), "sha-256=:")

	got, err := e.c.Get(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, a.ID, got.ID)
	assert.Equal(t, a.Labels, got.Labels)

	// The content type claim is a tie-breaker for what detection cannot
	// tell apart.
	a, err = e.c.Upload(ctx, client.File{Name: "data", Content: strings.NewReader("a,b\n1,2\n"), ContentType: "text/csv"}, nil)
	require.NoError(t, err)
	assert.Equal(t, "text/csv", a.ContentType)

	// Empty content.
	a, err = e.c.Upload(ctx, client.File{Name: "empty.bin", Content: bytes.NewReader(nil)}, nil)
	require.NoError(t, err)
	assert.Zero(t, a.Size)
}

func TestUploadErrors(t *testing.T) {
	e := newEnv(t, &envOpts{svc: &attachment.Options{MaxFileSize: 1000, AllowedTypes: []string{"text/plain", "image/png"}}})
	ctx := context.Background()

	sum := sha256.Sum256([]byte("something else"))
	_, err := e.c.Upload(ctx, client.File{Name: "a.txt", Content: strings.NewReader("hello"), SHA256: sum[:]}, nil)
	requireCode(t, err, http.StatusBadRequest, client.CodeChecksumMismatch, attachment.ErrChecksumMismatch)

	_, err = e.c.Upload(ctx, client.File{Name: "big.txt", Content: strings.NewReader(strings.Repeat("x", 1001))}, nil)
	requireCode(t, err, http.StatusRequestEntityTooLarge, client.CodeTooLarge, attachment.ErrTooLarge)
	// Unknown size: refused while streaming.
	_, err = e.c.Upload(ctx, client.File{Name: "big.txt", Content: io.LimitReader(xs{}, 5000)}, nil)
	requireCode(t, err, http.StatusRequestEntityTooLarge, client.CodeTooLarge, attachment.ErrTooLarge)

	_, err = e.c.Upload(ctx, client.File{Name: "a.html", Content: strings.NewReader("<!DOCTYPE html><html><body>x</body></html>")}, nil)
	requireCode(t, err, http.StatusUnsupportedMediaType, client.CodeUnsupportedType, attachment.ErrUnsupportedType)

	for _, name := range []string{"", "../", "\x00"} {
		_, err = e.c.Upload(ctx, client.File{Name: name, Content: strings.NewReader("x")}, nil)
		requireCode(t, err, http.StatusBadRequest, client.CodeInvalidFilename, attachment.ErrInvalidFilename)
	}

	_, err = e.c.Upload(ctx, client.File{Name: "a.txt", Content: strings.NewReader("x")}, &client.UploadOptions{Owner: strings.Repeat("o", 2000)})
	requireCode(t, err, http.StatusBadRequest, client.CodeBadRequest, attachment.ErrInvalid)

	// A reader's error is the upload's error, and nothing is stored.
	boom := errors.New("disk on fire")
	_, err = e.c.Upload(ctx, client.File{Name: "a.txt", Content: io.MultiReader(strings.NewReader("abc"), errReader{boom})}, nil)
	assert.ErrorIs(t, err, boom)
	_, err = e.c.UploadMany(ctx, []client.File{{Name: "a.txt", Content: io.MultiReader(strings.NewReader("abc"), errReader{boom})}}, nil)
	assert.ErrorIs(t, err, boom)
	// A Size that the content does not have.
	_, err = e.c.Upload(ctx, client.File{Name: "a.txt", Content: strings.NewReader("abc"), Size: 10}, nil)
	assert.Error(t, err)

	_, err = e.c.Upload(ctx, client.File{Name: "a.txt"}, nil)
	assert.Error(t, err)
	_, err = e.c.UploadMany(ctx, nil, nil)
	assert.Error(t, err)

	page, err := e.c.ListPage(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, page.Attachments, "no failed upload left anything")
}

func TestUploadMany(t *testing.T) {
	e := newEnv(t, &envOpts{svc: &attachment.Options{MaxFiles: 3}})
	ctx := context.Background()
	img := pngBytes(t, 40, 30)
	sum := sha256.Sum256(img)
	files := func() []client.File {
		return []client.File{
			{Name: "one.txt", Content: strings.NewReader("first file")},
			{Name: "bild-ß.png", Content: bytes.NewReader(img), SHA256: sum[:]},
			{Name: "x.csv", Content: strings.NewReader("a,b\n"), ContentType: "text/csv"},
		}
	}
	atts, err := e.c.UploadMany(ctx, files(), &client.UploadOptions{Owner: "chat:7", Labels: map[string]string{"k": "v"}})
	require.NoError(t, err)
	require.Len(t, atts, 3)
	assert.Equal(t, []string{"one.txt", "bild-ß.png", "x.csv"}, []string{atts[0].Filename, atts[1].Filename, atts[2].Filename})
	assert.Equal(t, "image/png", atts[1].ContentType)
	assert.Equal(t, "text/csv", atts[2].ContentType)
	for _, a := range atts {
		assert.Equal(t, "chat:7", a.Owner)
		assert.Equal(t, map[string]string{"k": "v"}, a.Labels)
	}
	reqs := e.requests()
	last := reqs[len(reqs)-1]
	assert.Contains(t, last.header.Get("Content-Type"), "multipart/form-data; boundary=")
	assert.Positive(t, last.contentLength, "every size known: the form's exact length is sent")

	var buf bytes.Buffer
	_, err = e.c.Download(ctx, atts[1].ID, &buf)
	require.NoError(t, err)
	assert.Equal(t, img, buf.Bytes())

	// Sizes unknown: chunked.
	e.reset()
	atts, err = e.c.UploadMany(ctx, []client.File{
		{Name: "a.txt", Content: io.LimitReader(strings.NewReader("aaaa"), 4)},
		{Name: "b.txt", Content: strings.NewReader("bb")},
	}, nil)
	require.NoError(t, err)
	assert.Equal(t, []int64{4, 2}, []int64{atts[0].Size, atts[1].Size})
	assert.Equal(t, int64(-1), e.requests()[0].contentLength)

	// All or nothing.
	bad := files()
	bad[1].SHA256 = make([]byte, 32)
	_, err = e.c.UploadMany(ctx, bad, nil)
	requireCode(t, err, http.StatusBadRequest, client.CodeChecksumMismatch, attachment.ErrChecksumMismatch)
	_, err = e.c.UploadMany(ctx, append(files(), client.File{Name: "four.txt", Content: strings.NewReader("4")}), nil)
	requireCode(t, err, http.StatusBadRequest, client.CodeTooManyFiles, attachment.ErrTooManyFiles)
	n := 0
	for _, err := range e.c.All(ctx, nil) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 5, n, "only the two successful uploads' files")

	// A multipart claim sends a form, not a raw body that would read as one.
	a, err := e.c.Upload(ctx, client.File{Name: "m.txt", Content: strings.NewReader("--x\r\n"), ContentType: "multipart/form-data; boundary=x"}, nil)
	require.NoError(t, err)
	assert.Equal(t, int64(5), a.Size)
}

// The progress callback counts up to the total; the total is -1 when a
// size is unknown.
func TestUploadProgress(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	content := bytes.Repeat([]byte("0123456789"), 100_000) // 1 MB

	type call struct{ sent, total int64 }
	record := func() (*[]call, func(int64, int64)) {
		var calls []call
		return &calls, func(s, tot int64) { calls = append(calls, call{s, tot}) }
	}
	check := func(calls []call, size, total int64) {
		t.Helper()
		require.NotEmpty(t, calls)
		prev := int64(0)
		for _, c := range calls {
			assert.Equal(t, total, c.total)
			assert.Greater(t, c.sent, prev, "sent grows")
			prev = c.sent
		}
		assert.Equal(t, size, calls[len(calls)-1].sent, "the last call has everything sent")
	}

	calls, fn := record()
	_, err := e.c.Upload(ctx, client.File{Name: "a.bin", Content: bytes.NewReader(content)}, &client.UploadOptions{Progress: fn})
	require.NoError(t, err)
	check(*calls, int64(len(content)), int64(len(content)))
	assert.Greater(t, len(*calls), 1, "progress is reported as the upload goes")

	calls, fn = record()
	_, err = e.c.Upload(ctx, client.File{Name: "a.bin", Content: io.LimitReader(bytes.NewReader(content), 1<<30)}, &client.UploadOptions{Progress: fn})
	require.NoError(t, err)
	check(*calls, int64(len(content)), -1)

	// A file on disk: its size from Stat, from the current offset.
	path := filepath.Join(t.TempDir(), "f.bin")
	require.NoError(t, os.WriteFile(path, content, 0o600))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	_, err = f.Seek(10, io.SeekStart)
	require.NoError(t, err)
	calls, fn = record()
	a, err := e.c.Upload(ctx, client.File{Name: "f.bin", Content: f}, &client.UploadOptions{Progress: fn})
	require.NoError(t, err)
	check(*calls, int64(len(content)-10), int64(len(content)-10))
	assert.Equal(t, int64(len(content)-10), a.Size)

	// Many files: the sum of the sizes.
	calls, fn = record()
	_, err = e.c.UploadMany(ctx, []client.File{
		{Name: "a.bin", Content: bytes.NewReader(content)},
		{Name: "b.bin", Content: io.NewSectionReader(bytes.NewReader(content), 5, 100)},
	}, &client.UploadOptions{Progress: fn})
	require.NoError(t, err)
	check(*calls, int64(len(content))+100, int64(len(content))+100)

	calls, fn = record()
	_, err = e.c.UploadMany(ctx, []client.File{
		{Name: "a.bin", Content: bytes.NewReader(content)},
		{Name: "b.bin", Content: strings.NewReader("xyz"), Size: -1},
	}, &client.UploadOptions{Progress: fn})
	require.NoError(t, err)
	check(*calls, int64(len(content))+3, -1)
}

// The upload streams: the server receives the first MiB while the reader
// still holds back the rest, which it gives only once the server has it.
// A client that read the content whole before sending would deadlock here.
func TestUploadStreams(t *testing.T) {
	var (
		mu       sync.Mutex
		received = make(chan struct{})
		once     sync.Once
	)
	const head = 1 << 20
	e := newEnv(t, &envOpts{wrap: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				r.Body = &watchBody{ReadCloser: r.Body, after: head, fn: func() { once.Do(func() { close(received) }) }}
			}
			h.ServeHTTP(w, r)
		})
	}})
	ctx := context.Background()
	for _, many := range []bool{false, true} {
		mu.Lock()
		received = make(chan struct{})
		once = sync.Once{}
		ch := received
		mu.Unlock()
		r := &gatedReader{head: 2 * head, total: 4 * head, gate: ch, timeout: 10 * time.Second}
		var err error
		var atts []*attachment.Attachment
		if many {
			atts, err = e.c.UploadMany(ctx, []client.File{{Name: "s.bin", Content: r}}, nil)
		} else {
			var a *attachment.Attachment
			a, err = e.c.Upload(ctx, client.File{Name: "s.bin", Content: r}, nil)
			atts = []*attachment.Attachment{a}
		}
		require.NoError(t, err, "many=%v", many)
		assert.Equal(t, int64(4*head), atts[0].Size)
	}
}

// A 65 MiB upload, of unknown and of known size, raw and multipart,
// allocates far less than its size in this process, which runs both the
// client and the server (with a file:// blob store, so the server keeps
// no content in memory either).
func TestUploadMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("65 MiB uploads")
	}
	e := newEnv(t, &envOpts{blobURL: "file://" + t.TempDir() + "?no_tmp_dir=true&metadata=skip"})
	ctx := context.Background()
	const size = 65 << 20
	for _, tc := range []struct {
		name      string
		known     bool
		multipart bool
	}{{"raw unknown", false, false}, {"raw known", true, false}, {"multipart unknown", false, true}, {"multipart known", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			src := newPatternReader(size)
			f := client.File{Name: "big.bin", Content: src}
			if tc.known {
				f.Size = size
			}
			var last atomic.Int64
			opts := &client.UploadOptions{Progress: func(sent, _ int64) { last.Store(sent) }}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			var a *attachment.Attachment
			var err error
			if tc.multipart {
				var atts []*attachment.Attachment
				atts, err = e.c.UploadMany(ctx, []client.File{f}, opts)
				if err == nil {
					a = atts[0]
				}
			} else {
				a, err = e.c.Upload(ctx, f, opts)
			}
			runtime.ReadMemStats(&after)
			require.NoError(t, err)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%s: %d MiB allocated for a %d MiB upload", tc.name, alloc>>20, size>>20)
			assert.Less(t, alloc, uint64(16<<20), "the upload must stream, not buffer")
			assert.Equal(t, int64(size), a.Size)
			assert.Equal(t, hex.EncodeToString(src.h.Sum(nil)), a.SHA256)
			assert.Equal(t, int64(size), last.Load())
		})
	}
}

// watchBody calls fn once after bytes have been read.
type watchBody struct {
	io.ReadCloser
	n, after int64
	fn       func()
}

func (b *watchBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if b.n >= b.after {
		b.fn()
	}
	return n, err
}

// gatedReader gives head bytes, then waits for gate before giving the
// rest of total; without the gate it fails.
type gatedReader struct {
	head, total, n int64
	gate           <-chan struct{}
	timeout        time.Duration
}

func (r *gatedReader) Read(p []byte) (int, error) {
	if r.n >= r.total {
		return 0, io.EOF
	}
	if r.n >= r.head {
		select {
		case <-r.gate:
		case <-time.After(r.timeout):
			return 0, errors.New("the server received nothing while the client read the first bytes: the upload does not stream")
		}
	}
	limit := r.total
	if r.n < r.head {
		limit = r.head
	}
	n := int(min(int64(len(p)), limit-r.n))
	for i := range p[:n] {
		p[i] = byte(r.n + int64(i))
	}
	r.n += int64(n)
	return n, nil
}

// patternReader gives n bytes of a pattern and hashes them.
type patternReader struct {
	n, off int64
	h      hash.Hash
}

func newPatternReader(n int64) *patternReader { return &patternReader{n: n, h: sha256.New()} }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), r.n-r.off))
	for i := range p[:n] {
		p[i] = byte((r.off + int64(i)) % 251)
	}
	r.h.Write(p[:n])
	r.off += int64(n)
	return n, nil
}

// xs is an endless text of x.
type xs struct{}

func (xs) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// A canceled upload returns at once, even while the reader blocks, and
// leaves nothing on the server.
func TestUploadCanceled(t *testing.T) {
	e := newEnv(t, nil)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	for _, many := range []bool{false, true} {
		r := &gatedReader{head: 1000, total: 2000, gate: release, timeout: time.Minute}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		var err error
		if many {
			_, err = e.c.UploadMany(ctx, []client.File{{Name: "a.txt", Content: r}}, nil)
		} else {
			_, err = e.c.Upload(ctx, client.File{Name: "a.txt", Content: r}, nil)
		}
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded, "many=%v", many)
		assert.Less(t, time.Since(start), 5*time.Second)
	}
	time.Sleep(50 * time.Millisecond)
	page, err := e.c.ListPage(context.Background(), nil)
	require.NoError(t, err)
	assert.Empty(t, page.Attachments)
}
