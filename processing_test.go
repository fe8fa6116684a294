package attachment_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/fileblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/metadata/sqlitestore"
	"github.com/attachkit/attachment/storage"
)

// waitDone waits (bounded) until every processor of the attachment has
// finished, through the ?wait= status route.
func (e *env) waitDone(id string) attachment.Status {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rec := e.do("GET", e.prefix+"/"+id+"/status?wait=5s", nil)
		require.Equal(e.t, http.StatusOK, rec.Code, rec.Body.String())
		var st attachment.Status
		require.NoError(e.t, json.Unmarshal(rec.Body.Bytes(), &st))
		if st.Done() {
			return st
		}
		require.True(e.t, time.Now().Before(deadline), "processing did not finish: %+v", st)
	}
}

func TestImageProcessingAndThumbnails(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			e := newEnv(t, be, nil)
			a := e.mustUpload("photo.png", pngBytes(t, 600, 300))
			assert.Equal(t, e.prefix+"/"+a.ID+"/thumbnail", a.ThumbnailURL)
			assert.Equal(t, "ready", a.State, "processing never holds back ready")

			st := e.waitDone(a.ID)
			assert.Equal(t, map[string]string{"analyze": "completed", "thumbnail": "completed"}, st.Processing)
			got := decodeRecord(t, e.do("GET", a.URL+"/metadata", nil).Body.Bytes())
			assert.Equal(t, 600, got.Width)
			assert.Equal(t, 300, got.Height)
			assert.Equal(t, st.Processing, got.Processing)

			for _, tc := range []struct {
				q    string
				w, h int
			}{{"", 256, 128}, {"?size=64", 64, 32}, {"?size=1024", 600, 300}} {
				rec := e.do("GET", a.ThumbnailURL+tc.q, nil)
				require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				assert.Equal(t, "image/jpeg", rec.Header().Get("Content-Type"), "an opaque PNG makes a JPEG")
				cfg, format, err := image.DecodeConfig(bytes.NewReader(rec.Body.Bytes()))
				require.NoError(t, err)
				assert.Equal(t, "jpeg", format)
				assert.Equal(t, [2]int{tc.w, tc.h}, [2]int{cfg.Width, cfg.Height}, "size%s: aspect kept, never upscaled", tc.q)
				etag := rec.Header().Get("ETag")
				require.NotEmpty(t, etag)
				assert.Equal(t, http.StatusNotModified, e.do("GET", a.ThumbnailURL+tc.q, nil, "If-None-Match", etag).Code)
			}
			requireProblem(t, e.do("GET", a.ThumbnailURL+"?size=100", nil), http.StatusBadRequest, "invalid_size")
			requireProblem(t, e.do("GET", a.ThumbnailURL+"?size=x", nil), http.StatusBadRequest, "invalid_size")

			// Thumbnails go with the attachment.
			require.NotEmpty(t, e.keys())
			require.Equal(t, http.StatusOK, e.do("DELETE", a.URL, nil).Code)
			e.requireNothingStored()
		})
	}
}

func TestThumbnailNoneCanBeMade(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			e := newEnv(t, be, nil)
			txt := e.mustUpload("a.txt", []byte("not an image"))
			assert.Empty(t, txt.ThumbnailURL)
			assert.Empty(t, txt.Processing, "no processor accepts text")
			rec := e.do("GET", txt.URL+"/thumbnail", nil)
			assert.Equal(t, http.StatusNoContent, rec.Code)

			// A PNG header that claims 60000 x 60000 pixels, in a few bytes.
			huge := pngBytes(t, 1, 1)
			copy(huge[16:24], []byte{0, 0, 0xEA, 0x60, 0, 0, 0xEA, 0x60})
			bomb := e.mustUpload("bomb.png", huge)
			st := e.waitDone(bomb.ID)
			assert.Equal(t, "failed", st.Processing["analyze"])
			assert.Equal(t, "failed", st.Processing["thumbnail"])
			assert.Equal(t, http.StatusNoContent, e.do("GET", bomb.URL+"/thumbnail", nil).Code)
			assert.Equal(t, http.StatusNoContent, e.do("GET", bomb.URL+"/thumbnail?size=64", nil).Code)
			// What remembers it is an empty object beside the content.
			attrs, err := e.bucket.Attributes(context.Background(), storage.DerivativeKey(bomb.ID, "thumb-256"))
			require.NoError(t, err)
			assert.Zero(t, attrs.Size)
			// The server goes on.
			assert.Equal(t, http.StatusOK, e.do("GET", bomb.URL, nil).Code)
		})
	}
}

func TestStatusRoutes(t *testing.T) {
	release := make(chan struct{})
	block := attachment.ProcessorFunc("block", nil, func(ctx context.Context, t *attachment.Task) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	e := newEnv(t, backends()[0], &envOpts{svc: &attachment.Options{Processing: attachment.ProcessingOptions{Processors: []attachment.Processor{block}, NoImageProcessing: true}}})
	a := e.mustUpload("a.txt", []byte("x"))
	assert.Equal(t, map[string]string{"block": "pending"}, a.Processing)

	rec := e.do("GET", a.URL+"/status", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	var st attachment.Status
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &st))
	assert.Equal(t, a.ID, st.ID)
	assert.Equal(t, "ready", st.State)
	assert.False(t, st.Done())

	// ?wait= ends at its bound while the job runs...
	start := time.Now()
	rec = e.do("GET", a.URL+"/status?wait=300ms", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
	assert.NotContains(t, rec.Body.String(), "completed")

	// ...and as soon as processing ends, long before its bound.
	go func() { time.Sleep(200 * time.Millisecond); close(release) }()
	start = time.Now()
	rec = e.do("GET", a.URL+"/status?wait=30s", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.JSONEq(t, `{"id":"`+a.ID+`","state":"ready","processing":{"block":"completed"}}`, rec.Body.String())
	requireProblem(t, e.do("GET", a.URL+"/status?wait=forever", nil), http.StatusBadRequest, "bad_request")

	// Many at once; missing and malformed IDs map to not_found.
	b := e.mustUpload("b.txt", []byte("y"))
	missing := "0193b1a2-0000-7000-8000-000000000000"
	rec = e.do("POST", e.prefix+"/_status", strings.NewReader(`{"attachments":["`+a.ID+`","`+b.ID+`","`+missing+`","junk"]}`))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var many map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &many))
	assert.Len(t, many, 4)
	assert.JSONEq(t, `{"id":"`+a.ID+`","state":"ready","processing":{"block":"completed"}}`, string(many[a.ID]))
	assert.JSONEq(t, `{"error":"not_found"}`, string(many[missing]))
	assert.JSONEq(t, `{"error":"not_found"}`, string(many["junk"]))
	requireProblem(t, e.do("POST", e.prefix+"/_status", strings.NewReader(`{"attachments":"x"}`)), http.StatusBadRequest, "bad_request")
	requireProblem(t, e.do("GET", e.prefix+"/_status", nil), http.StatusMethodNotAllowed, "bad_request")
}

func TestStatusManyHidesOtherTenants(t *testing.T) {
	e := newEnv(t, backends()[0], &envOpts{handler: &attachment.HandlerOptions{Access: headerAccess()}})
	a := e.mustUpload("a.txt", []byte("x"), "X-Tenant", "t1", "X-User", "u")
	rec := e.do("POST", e.prefix+"/_status", strings.NewReader(`{"attachments":["`+a.ID+`"]}`), "X-Tenant", "t2", "X-User", "m")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"`+a.ID+`":{"error":"not_found"}}`, rec.Body.String())
	requireProblem(t, e.do("GET", a.URL+"/status", nil, "X-Tenant", "t2", "X-User", "m"), http.StatusNotFound, "not_found")
	requireProblem(t, e.do("GET", a.URL+"/thumbnail", nil, "X-Tenant", "t2", "X-User", "m"), http.StatusNotFound, "not_found")
}

func TestProcessingRetriesAndFailures(t *testing.T) {
	var flakyRuns, permRuns, panicRuns atomic.Int32
	flaky := attachment.ProcessorFunc("flaky", nil, func(ctx context.Context, t *attachment.Task) error {
		if n := flakyRuns.Add(1); n < 3 {
			return fmt.Errorf("transient failure %d", n)
		}
		if t.Attempt != 3 {
			return fmt.Errorf("%w: attempt %d, want 3", attachment.ErrPermanent, t.Attempt)
		}
		return nil
	})
	perm := attachment.ProcessorFunc("perm", nil, func(ctx context.Context, t *attachment.Task) error {
		permRuns.Add(1)
		return fmt.Errorf("%w: cannot", attachment.ErrPermanent)
	})
	panicky := attachment.ProcessorFunc("panicky", nil, func(ctx context.Context, t *attachment.Task) error {
		panicRuns.Add(1)
		panic("boom")
	})
	onlyPDF := attachment.ProcessorFunc("pdf", func(a *attachment.Attachment) bool { return a.ContentType == "application/pdf" },
		func(ctx context.Context, t *attachment.Task) error { return errors.New("never") })
	e := newEnv(t, backends()[0], &envOpts{svc: &attachment.Options{
		Processing: attachment.ProcessingOptions{Processors: []attachment.Processor{flaky, perm, panicky, onlyPDF}, NoImageProcessing: true, RetryDelay: 10 * time.Millisecond, MaxAttempts: 5},
	}})
	a := e.mustUpload("a.txt", []byte("x"))
	st := e.waitDone(a.ID)
	assert.Equal(t, map[string]string{"flaky": "completed", "perm": "failed", "panicky": "failed"}, st.Processing)
	assert.Equal(t, int32(3), flakyRuns.Load())
	assert.Equal(t, int32(1), permRuns.Load(), "a permanent error is not retried")
	assert.Equal(t, int32(1), panicRuns.Load(), "a panic is a permanent failure, not a crash")
}

func TestProcessingGivesUpAfterMaxAttempts(t *testing.T) {
	var runs atomic.Int32
	failing := attachment.ProcessorFunc("failing", nil, func(ctx context.Context, t *attachment.Task) error {
		runs.Add(1)
		return errors.New("always")
	})
	e := newEnv(t, backends()[0], &envOpts{svc: &attachment.Options{
		Processing: attachment.ProcessingOptions{Processors: []attachment.Processor{failing}, NoImageProcessing: true, RetryDelay: time.Millisecond, MaxAttempts: 3},
	}})
	a := e.mustUpload("a.txt", []byte("x"))
	assert.Equal(t, "failed", e.waitDone(a.ID).Processing["failing"])
	assert.Equal(t, int32(3), runs.Load())
}

func TestProcessorNamesAreChecked(t *testing.T) {
	p := attachment.ProcessorFunc("Bad Name", nil, func(context.Context, *attachment.Task) error { return nil })
	e := newEnv(t, backends()[2], nil)
	_, err := attachment.New(storage.New(e.bucket), e.meta, &attachment.Options{Processing: attachment.ProcessingOptions{Processors: []attachment.Processor{p}}})
	assert.Error(t, err)
	dup := attachment.ProcessorFunc("analyze", nil, func(context.Context, *attachment.Task) error { return nil })
	_, err = attachment.New(storage.New(e.bucket), e.meta, &attachment.Options{Processing: attachment.ProcessingOptions{Processors: []attachment.Processor{dup}}})
	assert.Error(t, err)
}

// TestProcessingSurvivesRestart closes the service while a processor
// blocks, reopens it on the same SQLite file, and checks that the job
// then completes exactly once.
func TestProcessingSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	open := func(p attachment.Processor) *attachment.Service {
		b, err := fileblob.OpenBucket(dir, &fileblob.Options{NoTempDir: true, Metadata: fileblob.MetadataDontWrite, CreateDir: true})
		require.NoError(t, err)
		st, err := sqlitestore.Open(context.Background(), filepath.Join(dir, "meta.db"), nil)
		require.NoError(t, err)
		svc, err := attachment.New(storage.New(b), st, &attachment.Options{
			Processing: attachment.ProcessingOptions{Processors: []attachment.Processor{p}, NoImageProcessing: true, DrainTimeout: 100 * time.Millisecond, PollInterval: 50 * time.Millisecond},
		})
		require.NoError(t, err)
		t.Cleanup(func() { st.Close(); b.Close() })
		return svc
	}
	started := make(chan struct{})
	var once sync.Once
	blocking := attachment.ProcessorFunc("work", nil, func(ctx context.Context, t *attachment.Task) error {
		once.Do(func() { close(started) })
		<-ctx.Done() // blocks until Close cancels it
		return ctx.Err()
	})
	svc := open(blocking)
	atts, err := svc.Upload(context.Background(), nil, attachment.File{Name: "a.txt", Content: strings.NewReader("x")})
	require.NoError(t, err)
	id := atts[0].ID
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the job never started")
	}
	require.NoError(t, svc.Close())
	st, err := svc.Status(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, "pending", st.Processing["work"], "a job cancelled by Close is queued again")

	var completions atomic.Int32
	counting := attachment.ProcessorFunc("work", nil, func(ctx context.Context, t *attachment.Task) error {
		completions.Add(1)
		return nil
	})
	svc2 := open(counting)
	defer svc2.Close()
	st, err = svc2.WaitStatus(context.Background(), id, 20*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "completed", st.Processing["work"])
	time.Sleep(200 * time.Millisecond) // a second run, if there were one, would show now
	assert.Equal(t, int32(1), completions.Load(), "the job completes exactly once")
}
