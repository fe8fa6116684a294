package attachment_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/internal/pgtest"
	"github.com/attachkit/attachment/internal/s3test"
	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/pgstore"
	"github.com/attachkit/attachment/storage"
)

// runs counts the runs of the processor "count", per attachment and per
// instance, across every instance of a test.
type runs struct {
	mu    sync.Mutex
	byID  map[string]int
	byRun map[string]int // instance name -> runs
}

// processor returns the "count" processor as the instance named name runs
// it: it takes a little time, so that instances claim side by side.
func (r *runs) processor(name string) attachment.Processor {
	return attachment.ProcessorFunc("count", nil, func(ctx context.Context, t *attachment.Task) error {
		time.Sleep(5 * time.Millisecond)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.byID[t.Attachment.ID]++
		r.byRun[name]++
		return nil
	})
}

// instance is one app server: its own pool of PostgreSQL connections, its
// own S3 client, its own workers and handler.
type instance struct {
	name string
	svc  *attachment.Service
	meta metadata.Store
	srv  http.Handler
}

const instancePrefix = "/files"

func startInstance(t *testing.T, name, bucketURL, pgURL string, r *runs, o attachment.Options) *instance {
	t.Helper()
	ctx := context.Background()
	content, err := storage.Open(ctx, bucketURL)
	require.NoError(t, err)
	meta, err := pgstore.Open(ctx, pgURL, nil)
	require.NoError(t, err)
	o.Processing.Processors = []attachment.Processor{r.processor(name)}
	o.Processing.NoImageProcessing = true
	o.Processing.PollInterval = 20 * time.Millisecond
	svc, err := attachment.New(content, meta, &o)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = svc.Close() // stops the workers before the stores close
		_ = meta.Close()
		_ = content.Close()
	})
	mux := http.NewServeMux()
	mux.Handle(instancePrefix+"/", attachment.NewHandler(svc, &attachment.HandlerOptions{Prefix: instancePrefix}))
	return &instance{name: name, svc: svc, meta: meta, srv: mux}
}

func (in *instance) do(t *testing.T, method, path string, body []byte, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, instancePrefix+path, bytes.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	in.srv.ServeHTTP(rec, req)
	return rec
}

// Two instances of an app share one PostgreSQL schema and one S3 bucket, as
// a host that outgrew one machine runs them: what is uploaded through
// either is visible, downloadable and listed through both; every job runs
// exactly once, whichever instance claims it; and a job claimed by an
// instance that died is taken over once its lease runs out.
func TestInstancesShareStores(t *testing.T) {
	if reason := pgtest.Skip(); reason != "" {
		t.Skip(reason)
	}
	bucket := s3test.Open(t)
	_, pgURL := pgtest.Schema(t)
	r := &runs{byID: map[string]int{}, byRun: map[string]int{}}
	ctx := t.Context()

	// An instance that dies after claiming a job: it uploads (its workers
	// are off, so the job waits), its worker claims the job with a short
	// lease, and then the process is gone: nothing finishes the job and
	// nothing renews its lease.
	dead := startInstance(t, "dead", bucket.URL, pgURL, r, attachment.Options{Processing: attachment.ProcessingOptions{Workers: attachment.Off}})
	orphan, err := dead.svc.Upload(ctx, nil, attachment.File{Name: "orphan.txt", Content: strings.NewReader("left behind")})
	require.NoError(t, err)
	jobs, err := dead.meta.(metadata.Queue).Claim(ctx, time.Now(), 500*time.Millisecond, 10)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	require.Equal(t, orphan[0].ID, jobs[0].AttachmentID)
	require.NoError(t, dead.svc.Close())
	require.NoError(t, dead.meta.Close())

	a := startInstance(t, "a", bucket.URL, pgURL, r, attachment.Options{Processing: attachment.ProcessingOptions{Workers: 3}})
	b := startInstance(t, "b", bucket.URL, pgURL, r, attachment.Options{Processing: attachment.ProcessingOptions{Workers: 3}})
	instances := []*instance{a, b}

	// The orphaned job is finished by a live instance, on its second
	// attempt.
	st, err := a.svc.WaitStatus(ctx, orphan[0].ID, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"count": metadata.JobCompleted}, st.Processing)

	// Uploads through both, at once.
	const perInstance = 12
	var wg sync.WaitGroup
	ids := make([][]string, len(instances))
	for i, in := range instances {
		wg.Go(func() {
			for n := range perInstance {
				body := fmt.Appendf(nil, "file %d from %s", n, in.name)
				rec := in.do(t, http.MethodPost, fmt.Sprintf("/?filename=%s-%d.txt&owner=doc:1", in.name, n), body,
					"Content-Type", "application/octet-stream")
				if !assert.Equal(t, http.StatusCreated, rec.Code, rec.Body.String()) {
					return
				}
				var res struct{ Attachments []attachment.Attachment }
				if assert.NoError(t, json.Unmarshal(rec.Body.Bytes(), &res)) && assert.Len(t, res.Attachments, 1) {
					ids[i] = append(ids[i], res.Attachments[0].ID)
				}
			}
		})
	}
	wg.Wait()
	require.Len(t, ids[0], perInstance)
	require.Len(t, ids[1], perInstance)

	// Each upload is visible and downloadable through the other instance,
	// and both list all of them.
	for i, in := range instances {
		other := instances[1-i]
		for n, id := range ids[i] {
			rec := other.do(t, http.MethodGet, "/"+id, nil)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			require.Equal(t, fmt.Sprintf("file %d from %s", n, in.name), rec.Body.String())
		}
	}
	for _, in := range instances {
		page, err := in.svc.List(ctx, &attachment.ListOptions{Owner: "doc:1", Limit: 100})
		require.NoError(t, err)
		require.Len(t, page.Attachments, 2*perInstance, "instance %s lists", in.name)
	}

	// Every job completes, and ran exactly once.
	all := append(append([]string{orphan[0].ID}, ids[0]...), ids[1]...)
	for _, id := range all {
		st, err := b.svc.WaitStatus(ctx, id, 10*time.Second)
		require.NoError(t, err)
		require.Equal(t, map[string]string{"count": metadata.JobCompleted}, st.Processing, "attachment %s", id)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range all {
		require.Equal(t, 1, r.byID[id], "runs of the job of %s", id)
	}
	require.Len(t, r.byID, len(all))
	require.Zero(t, r.byRun["dead"], "the dead instance ran a job")
	t.Logf("jobs run per instance: %v", r.byRun)
}
