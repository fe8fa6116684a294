package attachment_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/internal/faultblob"
	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/metadata/sqlitestore"
	"github.com/attachkit/attachment/storage"
)

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// stallingStore is a metadata store whose Get can fail or hang (until its
// context ends) on demand.
type stallingStore struct {
	metadata.Store
	mu    sync.Mutex
	fail  error
	stall bool
}

func (s *stallingStore) set(fail error, stall bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail, s.stall = fail, stall
}

func (s *stallingStore) Get(ctx context.Context, tenant, id string) (*metadata.Record, error) {
	s.mu.Lock()
	fail, stall := s.fail, s.stall
	s.mu.Unlock()
	if stall {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if fail != nil {
		return nil, fail
	}
	return s.Store.Get(ctx, tenant, id)
}

// outageEnv is a handler over a memblob bucket behind faultblob and a
// memstore whose Get can fail or hang.
type outageEnv struct {
	*env
	faults *faultblob.Faults
	meta   *stallingStore
	log    *syncBuffer
}

func newOutageEnv(t *testing.T, opts attachment.Options) *outageEnv {
	t.Helper()
	var faults faultblob.Faults
	meta := &stallingStore{Store: memstore.New()}
	log := &syncBuffer{}
	opts.Logger = slog.New(slog.NewTextHandler(log, nil))
	opts.Processing.NoImageProcessing = true
	be := backend{name: "fault+mem", open: func(testing.TB) stores {
		return stores{bucket: faultblob.OpenBucket(memblob.OpenBucket(nil), &faults), meta: meta}
	}}
	e := newEnv(t, be, &envOpts{svc: &opts})
	// A caller who gives up after a while, so that a call nothing bounds
	// fails the test instead of hanging it.
	inner := e.srv
	e.srv = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		inner.ServeHTTP(w, r.WithContext(ctx))
	})
	return &outageEnv{env: e, faults: &faults, meta: meta, log: log}
}

// An unreachable bucket or store is a 503 unavailable with Retry-After, a
// full bucket or store a 507; the cause is logged, never sent; and once
// the outage ends the same Service answers again.
func TestOutageAnswers(t *testing.T) {
	e := newOutageEnv(t, attachment.Options{})
	a := e.mustUpload("a.txt", []byte("hello"))
	content := e.prefix + "/" + a.ID

	refused := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 7), Port: 9000},
		Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	e.faults.Set(func(op, _ string) error {
		if op == faultblob.OpRead {
			return refused
		}
		return nil
	})
	rec := e.do("GET", content, nil)
	p := requireProblem(t, rec, http.StatusServiceUnavailable, "unavailable")
	assert.Equal(t, "5", rec.Header().Get("Retry-After"))
	assert.NotContains(t, p.Detail, "10.0.0.7", "the cause stays on the server")
	assert.Contains(t, e.log.String(), "connection refused", "the cause is logged")
	assert.NotContains(t, e.log.String(), "content missing", "an outage is not missing content")

	e.faults.Set(func(op, _ string) error {
		if op == faultblob.OpWrite {
			return &os.PathError{Op: "write", Path: "/data/x", Err: syscall.ENOSPC}
		}
		return nil
	})
	rec = e.uploadRaw("b.txt", []byte("more"))
	requireProblem(t, rec, http.StatusInsufficientStorage, "insufficient_storage")
	assert.Empty(t, rec.Header().Get("Retry-After"))

	e.meta.set(fmt.Errorf("store: get: %w: dial tcp: connection refused", metadata.ErrUnavailable), false)
	rec = e.do("GET", content+"/metadata", nil)
	requireProblem(t, rec, http.StatusServiceUnavailable, "unavailable")
	assert.Equal(t, "5", rec.Header().Get("Retry-After"))

	// Recovery needs no restart.
	e.faults.Set(nil)
	e.meta.set(nil, false)
	rec = e.do("GET", content, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "hello", rec.Body.String())
	e.mustUpload("b.txt", []byte("more"))

	// Content that is really missing is still a 500, logged as such.
	require.NoError(t, e.bucket.Delete(t.Context(), storage.ContentKey(a.ID)))
	rec = e.do("GET", content, nil)
	requireProblem(t, rec, http.StatusInternalServerError, "internal")
	assert.Contains(t, e.log.String(), "content missing")
}

// A bucket or store that stops answering is a 503 after
// Options.StoreTimeout, not a request that hangs.
func TestStoreTimeout(t *testing.T) {
	const d = 200 * time.Millisecond
	e := newOutageEnv(t, attachment.Options{StoreTimeout: d})
	a := e.mustUpload("a.txt", []byte("hello"))
	content := e.prefix + "/" + a.ID

	e.faults.Set(func(string, string) error { return faultblob.ErrStall })
	for _, call := range []func() *httpResult{
		func() *httpResult { return result(e.do("GET", content, nil)) },
		func() *httpResult { return result(e.uploadRaw("b.txt", []byte("more"))) },
	} {
		start := time.Now()
		r := call()
		assert.Less(t, time.Since(start), 20*d)
		assert.Equal(t, http.StatusServiceUnavailable, r.status, r.body)
		assert.Equal(t, "5", r.retryAfter)
	}
	e.faults.Set(nil)

	e.meta.set(nil, true)
	start := time.Now()
	rec := e.do("GET", content+"/metadata", nil)
	assert.Less(t, time.Since(start), 20*d)
	requireProblem(t, rec, http.StatusServiceUnavailable, "unavailable")
	e.meta.set(nil, false)

	rec = e.do("GET", content, nil)
	require.Equal(t, http.StatusOK, rec.Code)
}

type httpResult struct {
	status           int
	body, retryAfter string
}

func result(rec interface {
	Result() *http.Response
}) *httpResult {
	res := rec.Result()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	return &httpResult{status: res.StatusCode, body: b.String(), retryAfter: res.Header.Get("Retry-After")}
}

// With file+sqlite on one small disk (a tmpfs), uploads that fill it are
// 507, a delete through the API still works, and uploads work again,
// without a restart.
func TestFullDiskThroughTheAPI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tmpfs")
	require.NoError(t, os.Mkdir(dir, 0o755))
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	be := backend{name: "file+sqlite on tmpfs", open: func(t testing.TB) stores {
		cs, err := storage.Open(context.Background(), "file://"+filepath.Join(dir, "blobs")+"?create_dir=1&no_tmp_dir=1&metadata=skip")
		require.NoError(t, err)
		st, err := sqlitestore.Open(context.Background(), filepath.Join(dir, "meta.db"), nil)
		require.NoError(t, err)
		return stores{bucket: cs.Bucket(), meta: st, content: cs}
	}}
	e := newEnv(t, be, &envOpts{svc: &attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true}}})
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 256<<10/16)
	var ids []string
	var rec = e.uploadRaw("f.txt", chunk)
	for i := 0; rec.Code == http.StatusCreated; i++ {
		require.Less(t, i, 100, "the disk never filled up")
		ids = append(ids, e.mustUploadResult(rec))
		rec = e.uploadRaw(fmt.Sprintf("f%d.txt", i), chunk)
	}
	requireProblem(t, rec, http.StatusInsufficientStorage, "insufficient_storage")
	require.NotEmpty(t, ids)
	t.Logf("%d uploads of %d KiB filled the disk", len(ids), len(chunk)>>10)
	// The failed upload's content was removed: take up what it left, to
	// the last byte, as the many writers of a disk that fills up do.
	fill(t, filepath.Join(dir, "filler"))
	rec = e.uploadRaw("small.txt", []byte("x"))
	requireProblem(t, rec, http.StatusInsufficientStorage, "insufficient_storage")

	for _, id := range ids[:2] {
		rec = e.do("DELETE", e.prefix+"/"+id, nil)
		require.Equal(t, http.StatusOK, rec.Code, "a delete on a full disk: %s", rec.Body.String())
	}
	rec = e.do("GET", e.prefix+"/"+ids[0]+"/metadata", nil)
	requireProblem(t, rec, http.StatusNotFound, "not_found")
	e.mustUpload("again.txt", chunk[:64<<10])
}

// fill writes a file at path until the disk is full to the last byte.
func fill(t *testing.T, path string) {
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	for _, n := range []int{64 << 10, 4 << 10, 1} {
		buf := make([]byte, n)
		for {
			if _, err := f.Write(buf); err != nil {
				break
			}
		}
	}
}

// mustUploadResult is the ID of the one attachment of a 201 answer.
func (e *env) mustUploadResult(rec interface{ Result() *http.Response }) string {
	e.t.Helper()
	r := result(rec)
	_, after, ok := strings.Cut(r.body, `"id":"`)
	require.True(e.t, ok, r.body)
	id, _, _ := strings.Cut(after, `"`)
	return id
}
