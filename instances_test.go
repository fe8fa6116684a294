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
	// hold, when set, is the ID of an attachment whose job the worker that
	// claims it holds on to: it sends its instance's name on held, then
	// waits for release to be closed before it runs the job.
	hold    string
	held    chan string
	release chan struct{}
}

// holdJob makes the worker that claims the job of the attachment id hold
// on to it (see runs.hold).
func (r *runs) holdJob(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hold, r.held, r.release = id, make(chan string, 1), make(chan struct{})
}

// processor returns the "count" processor as the instance named name runs
// it: it takes a little time, so that instances claim side by side.
func (r *runs) processor(name string) attachment.Processor {
	return attachment.ProcessorFunc("count", nil, func(ctx context.Context, t *attachment.Task) error {
		r.mu.Lock()
		hold, held, release := r.hold == t.Attachment.ID, r.held, r.release
		r.mu.Unlock()
		if hold {
			held <- name
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
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
// instance that stalled is taken over once its lease runs out, and the
// stalled instance's late worker can no longer renew or finish it.
func TestInstancesShareStores(t *testing.T) {
	if reason := pgtest.Skip(); reason != "" {
		t.Skip(reason)
	}
	bucket := s3test.Open(t)
	_, pgURL := pgtest.Schema(t)
	r := &runs{byID: map[string]int{}, byRun: map[string]int{}}
	ctx := t.Context()

	// An instance that stalls after claiming a job (a long GC pause, a
	// frozen VM, a partitioned network): it uploads (its workers are off,
	// so the job waits), its worker claims the job with a short lease, and
	// then nothing finishes the job and nothing renews its lease. Its
	// workers stop; its connection to the store stays, for the late worker
	// that comes back below.
	dead := startInstance(t, "dead", bucket.URL, pgURL, r, attachment.Options{Processing: attachment.ProcessingOptions{Workers: attachment.Off}})
	orphan, err := dead.svc.Upload(ctx, nil, attachment.File{Name: "orphan.txt", Content: strings.NewReader("left behind")})
	require.NoError(t, err)
	jobs, err := dead.meta.(metadata.Queue).Claim(ctx, time.Now(), 500*time.Millisecond, 10)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	require.Equal(t, orphan[0].ID, jobs[0].AttachmentID)
	late := jobs[0] // the stale claim: attempt 1
	require.NoError(t, dead.svc.Close())
	r.holdJob(orphan[0].ID)

	a := startInstance(t, "a", bucket.URL, pgURL, r, attachment.Options{Processing: attachment.ProcessingOptions{Workers: 3}})
	b := startInstance(t, "b", bucket.URL, pgURL, r, attachment.Options{Processing: attachment.ProcessingOptions{Workers: 3}})
	instances := []*instance{a, b}

	requireLateWorkerFenced(t, r, dead.meta.(metadata.Queue), late, a.svc)

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
	t.Logf("jobs run per instance: %v", r.byRun)
}

// requireLateWorkerFenced plays the late worker of an instance that
// stalled holding the claim late, whose lease has run out: once a live
// instance (live, or another sharing its stores, whose processor is
// r.processor) has claimed the job again and runs it, the late worker's
// Extend and Finish (through q, its own connection to the store) must be
// refused with ErrLeaseLost and change nothing; the live instance's outcome
// is the one recorded. The job of late.AttachmentID must have been held
// with r.holdJob before the live instances started.
func requireLateWorkerFenced(t *testing.T, r *runs, q metadata.Queue, late metadata.Job, live *attachment.Service) {
	t.Helper()
	ctx := t.Context()
	id := late.AttachmentID
	t.Cleanup(func() { // a failure below must not leave a worker waiting
		select {
		case <-r.release:
		default:
			close(r.release)
		}
	})

	// Once the lease ran out, a live instance claims the job (the next
	// attempt) and holds it.
	var holder string
	select {
	case holder = <-r.held:
	case <-time.After(10 * time.Second):
		require.FailNow(t, "no live instance claimed the orphaned job after its lease ran out")
	}
	st, err := live.Status(ctx, id)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"count": metadata.JobProcessing}, st.Processing)

	// Now the late worker comes back with its stale claim, while a live
	// instance runs the job: it can neither renew the lease nor record an
	// outcome.
	//
	// Mutation guarded: Extend without its attempt fence (drop "AND
	// attempt = $4" from pgstore's extendJob, "AND attempt = ?" from
	// sqlitestore's extendUpdate, or the Attempt check of memstore's held)
	// takes over the lease of the live instance's claim.
	err = q.Extend(ctx, late, time.Now().Add(time.Hour))
	require.ErrorIs(t, err, metadata.ErrLeaseLost, "a stale claim renewed the lease of the job %s runs", holder)
	// Mutation guarded: Finish without its attempt fence (drop "AND
	// attempt = $7" from pgstore's finishJob, "AND attempt = ?" from
	// sqlitestore's finishUpdate, or the Attempt check of memstore's held)
	// records the late worker's failure over the job another instance is
	// running.
	err = q.Finish(ctx, late, metadata.Outcome{State: metadata.JobFailed, Error: "late worker", Now: time.Now()})
	require.ErrorIs(t, err, metadata.ErrLeaseLost, "a stale claim finished the job %s runs", holder)
	st, err = live.Status(ctx, id)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"count": metadata.JobProcessing}, st.Processing, "the stale Finish changed the job")

	// The live instance finishes the job, and its outcome is the one
	// recorded; the stale claim stays refused.
	close(r.release)
	st, err = live.WaitStatus(ctx, id, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"count": metadata.JobCompleted}, st.Processing)
	require.ErrorIs(t, q.Finish(ctx, late, metadata.Outcome{State: metadata.JobFailed, Now: time.Now()}), metadata.ErrLeaseLost)
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Equal(t, 1, r.byID[id], "runs of the job of %s", id)
}

// The late worker of a stalled instance is fenced on every store: two
// Services share one backend's stores, the first stalls holding a claim,
// the second takes the job over (see requireLateWorkerFenced).
func TestInstancesLateWorkerFenced(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			r := &runs{byID: map[string]int{}, byRun: map[string]int{}}
			proc := func(name string, workers int) *attachment.Options {
				return &attachment.Options{Processing: attachment.ProcessingOptions{
					Workers:           workers,
					Processors:        []attachment.Processor{r.processor(name)},
					NoImageProcessing: true,
					PollInterval:      20 * time.Millisecond,
				}}
			}
			// The stalled instance: its workers are off; the test claims
			// for it.
			e := newEnv(t, be, &envOpts{svc: proc("stalled", attachment.Off)})
			up, err := e.svc.Upload(t.Context(), nil, attachment.File{Name: "orphan.txt", Content: strings.NewReader("left behind")})
			require.NoError(t, err)
			q := e.meta.(metadata.Queue)
			jobs, err := q.Claim(t.Context(), time.Now(), 200*time.Millisecond, 10)
			require.NoError(t, err)
			require.Len(t, jobs, 1)
			require.Equal(t, up[0].ID, jobs[0].AttachmentID)
			r.holdJob(up[0].ID)

			live, err := attachment.New(storage.New(e.bucket), e.meta, proc("live", 1))
			require.NoError(t, err)
			t.Cleanup(func() { _ = live.Close() }) // before the stores close
			requireLateWorkerFenced(t, r, q, jobs[0], live)
		})
	}
}
