package attachment_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/internal/faultblob"
	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
)

// logRecorder keeps the records of a slog.Logger at Warn and above.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecorder) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelWarn }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecorder) WithGroup(string) slog.Handler      { return l }
func (l *logRecorder) logged() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.msgs...)
}

// A download whose record is read before a Delete and whose content is
// opened after it is a 404, as if the record had been read after it, and
// nothing is logged; content missing under a record that is still there
// stays a 500. The race is forced: opening the content runs the Delete
// first.
func TestDownloadRacingDeleteNotFound(t *testing.T) {
	inner := memblob.OpenBucket(nil)
	faults := &faultblob.Faults{}
	logs := &logRecorder{}
	svc, err := attachment.New(storage.New(faultblob.OpenBucket(inner, faults)), memstore.New(), &attachment.Options{
		Processing: attachment.ProcessingOptions{NoImageProcessing: true},
		Logger:     slog.New(logs),
	})
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() })
	h := attachment.NewHandler(svc, nil)
	upload := func() string {
		as, err := svc.Upload(t.Context(), nil, attachment.File{Name: "a.txt", Content: strings.NewReader("abc")})
		require.NoError(t, err)
		return as[0].ID
	}
	deleteOnOpen := func(id string) {
		var fired atomic.Bool
		faults.Set(func(op, key string) error {
			if op == faultblob.OpRead && key == storage.ContentKey(id) && fired.CompareAndSwap(false, true) {
				require.NoError(t, svc.Delete(context.Background(), id, &attachment.DeleteOptions{Force: true}))
			}
			return nil
		})
		t.Cleanup(func() { faults.Set(nil) })
	}

	for _, method := range []string{"GET", "HEAD"} {
		id := upload()
		deleteOnOpen(id)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, "/"+id, nil))
		if method == "GET" {
			requireProblem(t, rec, http.StatusNotFound, "not_found")
		} else {
			require.Equal(t, http.StatusNotFound, rec.Code)
		}
	}
	// The Go API alike.
	id := upload()
	deleteOnOpen(id)
	_, _, err = svc.OpenContent(t.Context(), id)
	require.ErrorIs(t, err, attachment.ErrNotFound)
	assert.Empty(t, logs.logged(), "a race with a delete is nothing to log")

	// Content lost from under a record that is still there is a fault.
	faults.Set(nil)
	id = upload()
	require.NoError(t, inner.Delete(t.Context(), storage.ContentKey(id)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/"+id, nil))
	requireProblem(t, rec, http.StatusInternalServerError, "internal")
	assert.NotEmpty(t, logs.logged())
}

// countingStore counts the reads of each record.
type countingStore struct {
	*memstore.Store
	mu   sync.Mutex
	gets map[string]int
}

func (s *countingStore) Get(ctx context.Context, tenant, id string) (*metadata.Record, error) {
	s.mu.Lock()
	s.gets[id]++
	s.mu.Unlock()
	return s.Store.Get(ctx, tenant, id)
}

func (s *countingStore) count(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gets[id]
}

// holdProcessor holds the jobs of files named hold*.txt until release,
// and finishes the others at once.
type holdProcessor struct {
	release chan struct{}
	started chan struct{} // gets a value, if there is room, when a held job starts
}

func (holdProcessor) Name() string                         { return "hold" }
func (holdProcessor) Accept(a *attachment.Attachment) bool { return true }
func (p holdProcessor) Process(ctx context.Context, t *attachment.Task) error {
	if !strings.HasPrefix(t.Attachment.Filename, "hold") {
		return nil
	}
	select {
	case p.started <- struct{}{}:
	default:
	}
	select {
	case <-p.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitEnv is a handler over a service whose hold*.txt files stay in
// processing until release is closed, and whose status waits never poll
// (a wait wakes only when a job of this service finishes).
type waitEnv struct {
	t       *testing.T
	svc     *attachment.Service
	meta    *countingStore
	h       http.Handler
	release chan struct{}
	started chan struct{} // a held job started (its worker has read the record)
	once    sync.Once
}

// free lets the held jobs finish.
func (e *waitEnv) free() { e.once.Do(func() { close(e.release) }) }

func newWaitEnv(t *testing.T, ho *attachment.HandlerOptions) *waitEnv {
	t.Helper()
	e := &waitEnv{t: t, meta: &countingStore{Store: memstore.New(), gets: map[string]int{}},
		release: make(chan struct{}), started: make(chan struct{}, 16)}
	svc, err := attachment.New(storage.New(memblob.OpenBucket(nil)), e.meta, &attachment.Options{
		Processing: attachment.ProcessingOptions{
			NoImageProcessing: true,
			Processors:        []attachment.Processor{holdProcessor{e.release, e.started}},
			Workers:           2,
			PollInterval:      time.Hour,
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { e.free(); svc.Close() })
	e.svc, e.h = svc, attachment.NewHandler(svc, ho)
	return e
}

func (e *waitEnv) upload(name string) string {
	e.t.Helper()
	as, err := e.svc.Upload(e.t.Context(), nil, attachment.File{Name: name, Content: strings.NewReader("x")})
	require.NoError(e.t, err)
	return as[0].ID
}

// waitStatus starts GET /{id}/status?wait=20s and returns once it waits
// (it has read the status), with a channel that gets its answer.
func (e *waitEnv) waitStatus(id string) <-chan *httptest.ResponseRecorder {
	e.t.Helper()
	before := e.meta.count(id)
	ch := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, httptest.NewRequest("GET", "/"+id+"/status?wait=20s", nil))
		ch <- rec
	}()
	// It reads the record twice: the access check and the status.
	require.Eventually(e.t, func() bool { return e.meta.count(id) >= before+2 }, 5*time.Second, time.Millisecond)
	return ch
}

func (e *waitEnv) get(path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec
}

// A status wait is woken when a job of its attachment finishes, and by no
// other: jobs of other attachments finishing do not make it read its
// status again.
func TestStatusWaitWokenOnlyForItsAttachment(t *testing.T) {
	e := newWaitEnv(t, nil)
	held := e.upload("hold.txt")
	select { // its worker has read the record: no read of it is left but the wait's
	case <-e.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the held job did not start")
	}
	answer := e.waitStatus(held)
	reads := e.meta.count(held)

	for i := range 5 {
		id := e.upload("other.txt")
		st, err := e.svc.WaitStatus(t.Context(), id, 10*time.Second)
		require.NoError(t, err)
		require.True(t, st.Done(), "other %d: %+v", i, st)
	}
	select {
	case rec := <-answer:
		t.Fatalf("the wait ended with other attachments' jobs: %d %s", rec.Code, rec.Body.String())
	default:
	}
	assert.Equal(t, reads, e.meta.count(held), "the wait read its status again when other attachments' jobs finished")

	e.free()
	select {
	case rec := <-answer:
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var st attachment.Status
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &st))
		assert.True(t, st.Done(), "%+v", st)
	case <-time.After(10 * time.Second):
		t.Fatal("the wait was not woken by its own attachment's job")
	}
}

// Status requests with ?wait= beyond HandlerOptions.MaxStatusWaits are
// answered 503 unavailable with a Retry-After at once; those without
// ?wait= never are; a slot freed is taken again.
func TestStatusWaitsCapped(t *testing.T) {
	e := newWaitEnv(t, &attachment.HandlerOptions{MaxStatusWaits: 1})
	held := e.upload("hold.txt")
	answer := e.waitStatus(held)

	start := time.Now()
	rec := e.get("/" + held + "/status?wait=2s")
	requireProblem(t, rec, http.StatusServiceUnavailable, "unavailable")
	assert.Equal(t, "5", rec.Header().Get("Retry-After"))
	assert.Less(t, time.Since(start), time.Second, "refused at once, not after waiting")
	rec = e.get("/" + held + "/status")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	e.free()
	select {
	case rec := <-answer:
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	case <-time.After(10 * time.Second):
		t.Fatal("the wait did not end")
	}
	rec = e.get("/" + held + "/status?wait=2s")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	opts := attachment.NewHandler(e.svc, nil).Options()
	assert.Equal(t, attachment.DefaultMaxStatusWaits, opts.MaxStatusWaits)
	assert.Equal(t, attachment.DefaultUploadIdleTimeout, opts.UploadIdleTimeout)
}
