package sqlitestore_test

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/sqlitestore"
)

// A worker claims a job and dies (the store is closed, the job never
// finished). After a restart on the same file the claim still holds until
// its lease runs out, then the job is claimed again, and the dead worker's
// claim is fenced off. Pending jobs and finished ones survive too.
func TestQueueSurvivesRestart(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "meta.db")
	t0 := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	const lease = 30 * time.Second

	s := open(t, path)
	r := record("t1")
	r.CreatedAt = t0
	r.Processing = map[string]string{"thumbnail": "", "analyze": ""}
	later := record("t1")
	later.CreatedAt = t0.Add(time.Hour)
	later.Processing = map[string]string{"thumbnail": ""}
	require.NoError(t, s.Create(ctx, []*metadata.Record{r, later}))
	jobs, err := s.Claim(ctx, t0, lease, 2)
	require.NoError(t, err)
	require.Len(t, jobs, 2)
	done, dead := jobs[0], jobs[1]
	require.NoError(t, s.Finish(ctx, done, metadata.Outcome{State: metadata.JobCompleted, Now: t0}))
	require.NoError(t, s.Close()) // the worker holding dead never finishes

	s = open(t, path)
	got, err := s.Get(ctx, "t1", r.ID)
	require.NoError(t, err)
	require.Equal(t, map[string]string{done.Processor: metadata.JobCompleted, dead.Processor: metadata.JobProcessing}, got.Processing)
	next, ok, err := s.NextDue(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, t0.Add(lease), next)
	jobs, err = s.Claim(ctx, t0.Add(lease-time.Microsecond), lease, 10)
	require.NoError(t, err)
	require.Empty(t, jobs, "claimed while the dead worker's lease holds")

	jobs, err = s.Claim(ctx, t0.Add(lease), lease, 10)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	again := jobs[0]
	require.Equal(t, [3]any{r.ID, dead.Processor, 2}, [3]any{again.AttachmentID, again.Processor, again.Attempt})
	require.Equal(t, t0.Add(2*lease), again.LeaseUntil)
	require.ErrorIs(t, s.Finish(ctx, dead, metadata.Outcome{State: metadata.JobCompleted, Now: t0}), metadata.ErrLeaseLost)
	require.NoError(t, s.Finish(ctx, again, metadata.Outcome{State: metadata.JobCompleted, Now: t0.Add(lease)}))
	require.NoError(t, s.Close())

	s = open(t, path)
	got, err = s.Get(ctx, "t1", r.ID)
	require.NoError(t, err)
	require.Equal(t, map[string]string{done.Processor: metadata.JobCompleted, dead.Processor: metadata.JobCompleted}, got.Processing)
	next, ok, err = s.NextDue(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, later.CreatedAt, next, "the pending job outlived both restarts")
	jobs, err = s.Claim(ctx, t0.Add(1000*time.Hour), lease, 10)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	require.Equal(t, later.ID, jobs[0].AttachmentID)
}

// Two stores on one file, as two processes would have, claim at once:
// every job is claimed once, by one of them.
func TestTwoStoresClaim(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "meta.db")
	stores := []*sqlitestore.Store{open(t, path), open(t, path)}
	const records, perStore = 50, 4
	var recs []*metadata.Record
	for range records {
		r := record("t1")
		r.Processing = map[string]string{"a": "", "b": ""}
		recs = append(recs, r)
	}
	require.NoError(t, stores[0].Create(ctx, recs))

	now := recs[0].CreatedAt
	var mu sync.Mutex
	claims := map[string]int{}
	var wg sync.WaitGroup
	for _, s := range stores {
		for range perStore {
			wg.Go(func() {
				for range 2*records + 1 {
					jobs, err := s.Claim(ctx, now, time.Hour, 4)
					if !assert.NoError(t, err) || len(jobs) == 0 {
						return
					}
					mu.Lock()
					for _, j := range jobs {
						claims[j.AttachmentID+"/"+j.Processor]++
					}
					mu.Unlock()
				}
				assert.Fail(t, "Claim keeps handing out jobs")
			})
		}
	}
	wg.Wait()
	require.Len(t, claims, 2*records)
	for k, n := range claims {
		require.Equal(t, 1, n, "%s claimed %d times", k, n)
	}
}

func TestClaimArguments(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "meta.db"))
	_, err := s.Claim(t.Context(), time.Now(), time.Minute, 0)
	require.ErrorContains(t, err, "must be positive")
	_, err = s.Claim(t.Context(), time.Now(), 0, 1)
	require.ErrorContains(t, err, "must be positive")
}

// A lease shorter than the microsecond the store keeps runs out at once:
// the job is claimed once per call, not again within the call.
func TestClaimTinyLease(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "meta.db"))
	r := record("t1")
	r.Processing = map[string]string{"p": ""}
	require.NoError(t, s.Create(t.Context(), []*metadata.Record{r}))
	for attempt := 1; attempt <= 3; attempt++ {
		jobs, err := s.Claim(t.Context(), r.CreatedAt, time.Nanosecond, 10)
		require.NoError(t, err)
		require.Len(t, jobs, 1)
		require.Equal(t, attempt, jobs[0].Attempt)
	}
}
