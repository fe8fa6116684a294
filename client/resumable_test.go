package client_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/client"
	"github.com/attachkit/attachment/metadata/sqlitestore"
	"github.com/attachkit/attachment/resumable"
	"github.com/attachkit/attachment/storage"
	"github.com/attachkit/attachment/wire"
)

// tusEnv is the real Handler with the tus layer (resumable.New) over a
// file bucket and SQLite, on an httptest.Server, and a Client for it. A
// middleware records every request the upload makes and lets a test
// answer or cut one.
type tusEnv struct {
	t   *testing.T
	svc *attachment.Service
	srv *httptest.Server
	c   *client.Client

	mu   sync.Mutex
	reqs []tusSeen
	// intercept, when set, sees every upload request before the Handler
	// (its index among them from 0) and answers it itself by returning
	// true. It may wrap r.Body.
	intercept func(w http.ResponseWriter, r *http.Request, i int) bool
}

// tusSeen is one request to {prefix}/uploads/… as the server saw it.
type tusSeen struct {
	method string
	offset int64 // Upload-Offset of a PATCH; -1 for none
	header http.Header
	read   int64 // body bytes the Handler read
	at     time.Time
	done   chan struct{} // closed once the request is answered
}

// connKey keys the request's net.Conn in its context.
type connKey struct{}

func newTusEnv(t *testing.T, o *attachment.Options) *tusEnv {
	t.Helper()
	ctx := context.Background()
	cs, err := storage.Open(ctx, "file://"+t.TempDir()+"?create_dir=1&no_tmp_dir=1&metadata=skip")
	require.NoError(t, err)
	meta, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "meta.db"), nil)
	require.NoError(t, err)
	svc, err := attachment.New(cs, meta, o)
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close(); meta.Close(); cs.Close() })
	h := attachment.NewHandler(svc, &attachment.HandlerOptions{Prefix: prefix, Uploads: resumable.New(nil)})
	e := &tusEnv{t: t, svc: svc}
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, prefix+"/uploads") {
			h.ServeHTTP(w, r)
			return
		}
		e.mu.Lock()
		i := len(e.reqs)
		s := tusSeen{method: r.Method, offset: -1, header: r.Header.Clone(), at: time.Now(), done: make(chan struct{})}
		defer close(s.done)
		if v := r.Header.Get("Upload-Offset"); v != "" {
			s.offset, _ = strconv.ParseInt(v, 10, 64)
		}
		e.reqs = append(e.reqs, s)
		intercept := e.intercept
		e.mu.Unlock()
		if intercept != nil && intercept(w, r, i) {
			return
		}
		cb := &countBody{ReadCloser: r.Body}
		r.Body = cb
		h.ServeHTTP(w, r)
		e.mu.Lock()
		e.reqs[i].read = cb.n.Load()
		e.mu.Unlock()
	}))
	e.srv = httptest.NewUnstartedServer(mux)
	e.srv.Config.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, c)
	}
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	e.c, err = client.New(e.srv.URL+prefix, nil)
	require.NoError(t, err)
	return e
}

// requests returns the upload requests seen so far.
func (e *tusEnv) requests() []tusSeen {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]tusSeen(nil), e.reqs...)
}

// setIntercept sets the interceptor.
func (e *tusEnv) setIntercept(f func(w http.ResponseWriter, r *http.Request, i int) bool) {
	e.mu.Lock()
	e.intercept = f
	e.mu.Unlock()
}

// patches returns the PATCH requests among reqs.
func patches(reqs []tusSeen) []tusSeen {
	var out []tusSeen
	for _, r := range reqs {
		if r.method == http.MethodPatch {
			out = append(out, r)
		}
	}
	return out
}

// download returns the attachment's content's SHA-256.
func (e *tusEnv) sha(id string) [32]byte {
	e.t.Helper()
	h := sha256.New()
	_, err := e.c.Download(context.Background(), id, h)
	require.NoError(e.t, err)
	return [32]byte(h.Sum(nil))
}

// countBody counts what is read of a request body.
type countBody struct {
	io.ReadCloser
	n atomic.Int64
}

func (b *countBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// cutAfter makes the PATCH's body close the connection once after bytes
// were read: the client sees its connection drop mid-request.
func cutAfter(r *http.Request, after int64) {
	conn := r.Context().Value(connKey{}).(net.Conn)
	r.Body = &cutBody{ReadCloser: r.Body, left: after, conn: conn}
}

type cutBody struct {
	io.ReadCloser
	left int64
	conn net.Conn
}

func (b *cutBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		b.conn.Close()
		return 0, errors.New("test: connection cut")
	}
	n, err := b.ReadCloser.Read(p[:min(int64(len(p)), b.left)])
	b.left -= int64(n)
	return n, err
}

// randomBytes is n bytes of a seeded stream.
func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	_, _ = r.Read(b)
	return b
}

// readsCounted is content whose ReadAt reads are counted: the bytes the
// client took from it to send.
type readsCounted struct {
	*bytes.Reader
	n atomic.Int64
}

func (r *readsCounted) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.Reader.ReadAt(p, off)
	r.n.Add(int64(n))
	return n, err
}

// progressLog records Progress calls.
type progressLog struct {
	mu    sync.Mutex
	calls [][2]int64
}

func (p *progressLog) fn(acked, total int64) {
	p.mu.Lock()
	p.calls = append(p.calls, [2]int64{acked, total})
	p.mu.Unlock()
}

// check asserts that acked only grew, total was size throughout, and the
// last call was (size, size).
func (p *progressLog) check(t *testing.T, size int64) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	require.NotEmpty(t, p.calls)
	for i, c := range p.calls {
		assert.Equal(t, size, c[1], "call %d: total", i)
		if i > 0 {
			require.Greater(t, c[0], p.calls[i-1][0], "call %d: acked goes backwards or repeats", i)
		}
	}
	assert.Equal(t, [2]int64{size, size}, p.calls[len(p.calls)-1])
}

// A 20 MiB file in 1 MiB PATCHes arrives byte-exact; Progress only grows
// and ends at the size.
func TestUploadResumableLarge(t *testing.T) {
	e := newTusEnv(t, nil)
	data := randomBytes(20<<20, 1)
	var pl progressLog
	var created string
	a, err := e.c.UploadResumable(context.Background(), client.File{Name: "big.bin", Content: bytes.NewReader(data)},
		&client.ResumableOptions{ChunkSize: 1 << 20, Progress: pl.fn, OnCreate: func(u string) { created = u }})
	require.NoError(t, err)
	assert.Equal(t, int64(len(data)), a.Size)
	assert.Equal(t, "big.bin", a.Filename)
	assert.Equal(t, sha256.Sum256(data), e.sha(a.ID))
	pl.check(t, int64(len(data)))
	assert.Equal(t, e.srv.URL+prefix+"/uploads/"+a.ID, created, "OnCreate has the absolute upload URL, which ends in the ID")

	reqs := e.requests()
	require.Equal(t, http.MethodPost, reqs[0].method)
	assert.Equal(t, strconv.Itoa(len(data)), reqs[0].header.Get("Upload-Length"))
	assert.Equal(t, resumable.Version, reqs[0].header.Get("Tus-Resumable"))
	ps := patches(reqs)
	require.Len(t, ps, 20)
	for i, p := range ps {
		assert.Equal(t, int64(i)<<20, p.offset, "PATCH %d", i)
		assert.Equal(t, int64(1<<20), p.read, "PATCH %d", i)
		assert.Equal(t, resumable.ContentType, p.header.Get("Content-Type"))
	}
	assert.Len(t, reqs, 21, "a POST and 20 PATCHes, nothing more")

	off, length, err := e.c.UploadOffset(context.Background(), created)
	require.NoError(t, err)
	assert.Equal(t, [2]int64{int64(len(data)), int64(len(data))}, [2]int64{off, length}, "a committed upload")
}

// A connection cut in the middle of the 3rd PATCH ends an upload without
// retries; UploadResumable with the URL OnCreate gave goes on from the
// server's offset, sending at most one chunk again.
func TestUploadResumableResumeFromURL(t *testing.T) {
	e := newTusEnv(t, nil)
	const chunk = 1 << 20
	data := randomBytes(8<<20, 2)
	e.setIntercept(func(w http.ResponseWriter, r *http.Request, i int) bool {
		if r.Method == http.MethodPatch && len(patches(e.requests())) == 3 {
			cutAfter(r, chunk/2)
		}
		return false
	})
	content := &readsCounted{Reader: bytes.NewReader(data)}
	var saved string
	_, err := e.c.UploadResumable(context.Background(), client.File{Name: "cut.bin", Content: content},
		&client.ResumableOptions{ChunkSize: chunk, Retries: -1, OnCreate: func(u string) { saved = u }})
	require.Error(t, err)
	var ue interface{ Timeout() bool }
	assert.ErrorAs(t, err, &ue, "a network error: %v", err)
	require.NotEmpty(t, saved)
	e.setIntercept(nil)
	before := len(patches(e.requests()))
	require.Equal(t, 3, before)
	// A process resuming after a crash comes later than this one: let
	// the server finish with the cut request (while it does, the upload
	// is locked: 423).
	<-patches(e.requests())[2].done
	kept, _, err := e.c.UploadOffset(context.Background(), saved)
	require.NoError(t, err)
	require.GreaterOrEqual(t, kept, int64(2*chunk))
	start := len(e.requests())

	var pl progressLog
	a, err := e.c.UploadResumable(context.Background(), client.File{Name: "cut.bin", Content: content},
		&client.ResumableOptions{ChunkSize: chunk, URL: saved, Progress: pl.fn})
	require.NoError(t, err)
	assert.Equal(t, sha256.Sum256(data), e.sha(a.ID))
	assert.Equal(t, "cut.bin", a.Filename)
	pl.check(t, int64(len(data)))

	reqs := e.requests()
	ps := patches(reqs)
	resumed := ps[before]
	assert.Equal(t, kept, resumed.offset, "the first PATCH after the resume starts from the server's offset")
	assert.Equal(t, http.MethodHead, reqs[start].method, "the resume asks for the offset first")
	assert.LessOrEqual(t, content.n.Load(), int64(len(data)+chunk), "bytes read to send: at most one chunk again")
	var read int64
	for _, p := range ps {
		read += p.read
	}
	assert.LessOrEqual(t, read, int64(len(data)+chunk))
}

// Without Retries set, a dropped connection is retried within the call:
// HEAD, then on from the server's offset; Progress never goes back.
func TestUploadResumableRetriesCutConnection(t *testing.T) {
	e := newTusEnv(t, nil)
	const chunk = 256 << 10
	data := randomBytes(2<<20, 3)
	var cut atomic.Bool
	e.setIntercept(func(w http.ResponseWriter, r *http.Request, i int) bool {
		if r.Method == http.MethodPatch && len(patches(e.requests())) == 3 && !cut.Swap(true) {
			cutAfter(r, chunk/2)
		}
		return false
	})
	var pl progressLog
	a, err := e.c.UploadResumable(context.Background(), client.File{Name: "r.bin", Content: bytes.NewReader(data)},
		&client.ResumableOptions{ChunkSize: chunk, Progress: pl.fn})
	require.NoError(t, err)
	require.True(t, cut.Load())
	assert.Equal(t, sha256.Sum256(data), e.sha(a.ID))
	pl.check(t, int64(len(data)))
	var methods []string
	for _, r := range e.requests()[:5] {
		methods = append(methods, r.method)
	}
	assert.Equal(t, []string{"POST", "PATCH", "PATCH", "PATCH", "HEAD"}, methods)
}

// A 423 with Retry-After is waited out (not the shorter backoff), then
// the upload goes on; so does one after a 500 or a 409.
func TestUploadResumableRetriedAnswers(t *testing.T) {
	e := newTusEnv(t, nil)
	data := randomBytes(300_000, 4)
	var once atomic.Bool
	e.setIntercept(func(w http.ResponseWriter, r *http.Request, i int) bool {
		if r.Method != http.MethodPatch || r.Header.Get("Upload-Offset") == "0" || once.Swap(true) {
			return false
		}
		w.Header().Set("Tus-Resumable", resumable.Version)
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusLocked)
		_, _ = io.WriteString(w, `{"type":"about:blank","title":"Locked","status":423,"code":"locked"}`)
		return true
	})
	a, err := e.c.UploadResumable(context.Background(), client.File{Name: "l.bin", Content: bytes.NewReader(data)},
		&client.ResumableOptions{ChunkSize: 100_000})
	require.NoError(t, err)
	assert.Equal(t, sha256.Sum256(data), e.sha(a.ID))
	reqs := e.requests()
	var methods []string
	for _, r := range reqs {
		methods = append(methods, r.method+" "+strconv.FormatInt(r.offset, 10))
	}
	assert.Equal(t, []string{"POST -1", "PATCH 0", "PATCH 100000", "HEAD -1", "PATCH 100000", "PATCH 200000"}, methods)
	assert.GreaterOrEqual(t, reqs[3].at.Sub(reqs[2].at), time.Second, "Retry-After: 1 was honoured")

	// A 500 once, without Retry-After: retried after the backoff.
	once.Store(false)
	e.setIntercept(func(w http.ResponseWriter, r *http.Request, i int) bool {
		if r.Method != http.MethodPatch || r.Header.Get("Upload-Offset") != "200000" || once.Swap(true) {
			return false
		}
		w.WriteHeader(http.StatusInternalServerError)
		return true
	})
	start := len(e.requests())
	a, err = e.c.UploadResumable(context.Background(), client.File{Name: "l.bin", Content: bytes.NewReader(data)},
		&client.ResumableOptions{ChunkSize: 100_000})
	require.NoError(t, err)
	assert.Equal(t, sha256.Sum256(data), e.sha(a.ID))
	methods = nil
	for _, r := range e.requests()[start:] {
		methods = append(methods, r.method+" "+strconv.FormatInt(r.offset, 10))
	}
	assert.Equal(t, []string{"POST -1", "PATCH 0", "PATCH 100000", "PATCH 200000", "HEAD -1", "PATCH 200000"}, methods)

	// A 409 (the server's own answer to a wrong offset, made here by
	// changing the request's): HEAD, then on from the server's offset.
	once.Store(false)
	e.setIntercept(func(w http.ResponseWriter, r *http.Request, i int) bool {
		if r.Method == http.MethodPatch && r.Header.Get("Upload-Offset") == "100000" && !once.Swap(true) {
			r.Header.Set("Upload-Offset", "99999")
		}
		return false
	})
	start = len(e.requests())
	a, err = e.c.UploadResumable(context.Background(), client.File{Name: "l.bin", Content: bytes.NewReader(data)},
		&client.ResumableOptions{ChunkSize: 100_000})
	require.NoError(t, err)
	assert.Equal(t, sha256.Sum256(data), e.sha(a.ID))
	methods = nil
	for _, r := range e.requests()[start:] {
		methods = append(methods, r.method+" "+strconv.FormatInt(r.offset, 10))
	}
	assert.Equal(t, []string{"POST -1", "PATCH 0", "PATCH 100000", "HEAD -1", "PATCH 100000", "PATCH 200000"}, methods)

	// Retries exhausted: the 423 is the error.
	e.setIntercept(func(w http.ResponseWriter, r *http.Request, i int) bool {
		if r.Method != http.MethodPatch {
			return false
		}
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusLocked)
		return true
	})
	_, err = e.c.UploadResumable(context.Background(), client.File{Name: "l.bin", Content: bytes.NewReader(data)},
		&client.ResumableOptions{ChunkSize: 100_000, Retries: 1})
	requireCode(t, err, http.StatusLocked, "", wire.ErrLocked)
}

// An upload terminated (CancelUpload) or expired is a clear error:
// wire.ErrNotFound or wire.ErrGone, for UploadOffset and for a resume.
func TestUploadResumableCancelAndExpired(t *testing.T) {
	data := randomBytes(1000, 5)
	ctx := context.Background()
	// abandon starts an upload on e and stops it right after creation.
	abandon := func(e *tusEnv) string {
		actx, cancel := context.WithCancel(ctx)
		defer cancel()
		var saved string
		_, err := e.c.UploadResumable(actx, client.File{Name: "x.bin", Content: bytes.NewReader(data)},
			&client.ResumableOptions{OnCreate: func(u string) { saved = u; cancel() }})
		require.ErrorIs(t, err, context.Canceled)
		return saved
	}

	e := newTusEnv(t, nil)
	u := abandon(e)
	off, length, err := e.c.UploadOffset(ctx, u)
	require.NoError(t, err)
	assert.Equal(t, [2]int64{0, 1000}, [2]int64{off, length})
	relative := strings.TrimPrefix(u, e.srv.URL)
	require.NotEqual(t, u, relative)
	require.NoError(t, e.c.CancelUpload(ctx, relative), "a relative upload URL resolves against the base URL")
	_, _, err = e.c.UploadOffset(ctx, u)
	requireCode(t, err, http.StatusNotFound, "", wire.ErrNotFound)
	_, err = e.c.UploadResumable(ctx, client.File{Name: "x.bin", Content: bytes.NewReader(data)}, &client.ResumableOptions{URL: u})
	requireCode(t, err, http.StatusNotFound, "", wire.ErrNotFound)
	err = e.c.CancelUpload(ctx, u)
	requireCode(t, err, http.StatusNotFound, client.CodeNotFound, wire.ErrNotFound)

	// An upload URL on another server is refused before any request: the
	// client's credentials would go with it.
	_, _, err = e.c.UploadOffset(ctx, "http://elsewhere.example"+relative)
	assert.ErrorContains(t, err, "not on")

	e = newTusEnv(t, &attachment.Options{UploadExpiry: 50 * time.Millisecond})
	u = abandon(e)
	time.Sleep(100 * time.Millisecond)
	_, _, err = e.c.UploadOffset(ctx, u)
	requireCode(t, err, http.StatusGone, "", wire.ErrGone)
	_, err = e.c.UploadResumable(ctx, client.File{Name: "x.bin", Content: bytes.NewReader(data)}, &client.ResumableOptions{URL: u})
	requireCode(t, err, http.StatusGone, "", wire.ErrGone)
	_, err = e.svc.Maintain(ctx)
	require.NoError(t, err)
	_, _, err = e.c.UploadOffset(ctx, u)
	requireCode(t, err, http.StatusNotFound, "", wire.ErrNotFound)

}

// A zero-byte file: committed at creation (known size) or by a last
// PATCH declaring the length (unknown size); Progress ends at (0, 0).
func TestUploadResumableEmpty(t *testing.T) {
	e := newTusEnv(t, nil)
	for _, tc := range []struct {
		name    string
		content io.Reader
		reqs    []string
	}{
		{"known size", bytes.NewReader(nil), []string{"POST"}},
		{"unknown size", io.MultiReader(), []string{"POST", "PATCH"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := len(e.requests())
			var pl progressLog
			a, err := e.c.UploadResumable(context.Background(), client.File{Name: "empty.txt", Content: tc.content}, &client.ResumableOptions{Progress: pl.fn})
			require.NoError(t, err)
			assert.Zero(t, a.Size)
			assert.Equal(t, "empty.txt", a.Filename)
			assert.Equal(t, sha256.Sum256(nil), e.sha(a.ID))
			assert.Equal(t, [][2]int64{{0, 0}}, pl.calls)
			var methods []string
			for _, r := range e.requests()[start:] {
				methods = append(methods, r.method)
			}
			assert.Equal(t, tc.reqs, methods)
		})
	}
}

// Owner, labels, the name and the type claim travel in Upload-Metadata
// and land on the record.
func TestUploadResumableMetadata(t *testing.T) {
	e := newTusEnv(t, nil)
	ctx := context.Background()
	a, err := e.c.UploadResumable(ctx, client.File{Name: "Grüße, Welt.csv", ContentType: "text/csv", Content: strings.NewReader("a,b\n1,2\n")},
		&client.ResumableOptions{Owner: "document:7", Labels: map[string]string{"workspace": "w 1", "kind": "a,b=c"}})
	require.NoError(t, err)
	assert.Equal(t, "Grüße, Welt.csv", a.Filename)
	assert.Equal(t, "text/csv", a.ContentType)
	assert.Equal(t, "document:7", a.Owner)
	assert.Equal(t, map[string]string{"workspace": "w 1", "kind": "a,b=c"}, a.Labels)
	page, err := e.c.ListPage(ctx, &wire.ListOptions{Owner: "document:7", Labels: map[string]string{"workspace": "w 1"}})
	require.NoError(t, err)
	require.Len(t, page.Attachments, 1)
	assert.Equal(t, a.ID, page.Attachments[0].ID)

	_, err = e.c.UploadResumable(ctx, client.File{Name: "a.txt", Content: strings.NewReader("x")},
		&client.ResumableOptions{Labels: map[string]string{"bad key": "v"}})
	assert.ErrorContains(t, err, "label key")
	_, err = e.c.UploadResumable(ctx, client.File{Name: "a.txt", Content: strings.NewReader("x")},
		&client.ResumableOptions{Owner: strings.Repeat("o", 2000)})
	requireCode(t, err, http.StatusBadRequest, client.CodeBadRequest, wire.ErrInvalid)
}

// A plain io.Reader of unknown size: the length is deferred and declared
// by an empty PATCH once the content has ended. It cannot go back: a cut that loses bytes read
// ends the call, and a resume with the content given again skips what
// the server has.
func TestUploadResumablePlainReader(t *testing.T) {
	e := newTusEnv(t, nil)
	const chunk = 64 << 10
	data := randomBytes(5*chunk+123, 6)
	ctx := context.Background()
	a, err := e.c.UploadResumable(ctx, client.File{Name: "p.bin", Content: io.MultiReader(bytes.NewReader(data))},
		&client.ResumableOptions{ChunkSize: chunk})
	require.NoError(t, err)
	assert.Equal(t, int64(len(data)), a.Size)
	assert.Equal(t, sha256.Sum256(data), e.sha(a.ID))
	reqs := e.requests()
	assert.Equal(t, "1", reqs[0].header.Get("Upload-Defer-Length"))
	ps := patches(reqs)
	require.Len(t, ps, 7, "six chunks, then an empty PATCH declaring the length")
	for _, p := range ps[:6] {
		assert.Empty(t, p.header.Get("Upload-Length"))
	}
	assert.Equal(t, strconv.Itoa(len(data)), ps[6].header.Get("Upload-Length"), "the last PATCH declares the length")
	assert.Equal(t, int64(len(data)), ps[6].offset)
	assert.Zero(t, ps[6].read)

	var cut atomic.Bool
	e.setIntercept(func(w http.ResponseWriter, r *http.Request, i int) bool {
		if r.Method == http.MethodPatch && r.Header.Get("Upload-Offset") == strconv.Itoa(2*chunk) && !cut.Swap(true) {
			// Not a multiple of the client's 32 KiB reads: the server can
			// never have just the bytes read so far.
			cutAfter(r, chunk/2+1000)
		}
		return false
	})
	var saved string
	_, err = e.c.UploadResumable(ctx, client.File{Name: "p.bin", Content: io.MultiReader(bytes.NewReader(data))},
		&client.ResumableOptions{ChunkSize: chunk, OnCreate: func(u string) { saved = u }})
	require.ErrorContains(t, err, "cannot go back")
	off, length, err := e.c.UploadOffset(ctx, saved)
	require.NoError(t, err)
	assert.Equal(t, int64(-1), length, "deferred")
	require.GreaterOrEqual(t, off, int64(2*chunk))

	start := len(e.requests())
	a, err = e.c.UploadResumable(ctx, client.File{Name: "p.bin", Content: io.MultiReader(bytes.NewReader(data))},
		&client.ResumableOptions{ChunkSize: chunk, URL: saved})
	require.NoError(t, err)
	assert.Equal(t, sha256.Sum256(data), e.sha(a.ID))
	ps = patches(e.requests()[start:])
	require.NotEmpty(t, ps)
	assert.Equal(t, off, ps[0].offset, "on from the server's offset, the bytes before it skipped")
}

// Resuming with another file than the upload's is refused.
func TestUploadResumableWrongFile(t *testing.T) {
	e := newTusEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var saved string
	_, err := e.c.UploadResumable(ctx, client.File{Name: "x", Content: bytes.NewReader(make([]byte, 100))},
		&client.ResumableOptions{OnCreate: func(u string) { saved = u; cancel() }})
	require.ErrorIs(t, err, context.Canceled)
	_, err = e.c.UploadResumable(context.Background(), client.File{Name: "x", Content: bytes.NewReader(make([]byte, 99))},
		&client.ResumableOptions{URL: saved})
	assert.ErrorContains(t, err, "not the same file")
}

// A Size the content does not have ends the upload with a clear error;
// a server without resumable uploads says so.
func TestUploadResumableMisuse(t *testing.T) {
	e := newTusEnv(t, nil)
	_, err := e.c.UploadResumable(context.Background(), client.File{Name: "x", Content: bytes.NewReader([]byte("abc")), Size: 10}, nil)
	assert.ErrorContains(t, err, "the content ended at 3 bytes, before its size 10")
	_, err = e.c.UploadResumable(context.Background(), client.File{Name: "x"}, nil)
	assert.Error(t, err)

	plain := newEnv(t, nil) // no HandlerOptions.Uploads
	_, err = plain.c.UploadResumable(context.Background(), client.File{Name: "x", Content: strings.NewReader("abc")}, nil)
	assert.ErrorIs(t, err, wire.ErrNotFound)
	assert.ErrorContains(t, err, "no resumable uploads")
}
