package pgstore_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/pgstore"
)

// Two stores on one schema, each with its own pool, as two instances of a
// host would have, claim at once from many goroutines: every job is
// claimed exactly once, by one of them.
func TestTwoStoresClaim(t *testing.T) {
	ctx := t.Context()
	_, connString := pgstore.FreshSchema(t)
	stores := []*pgstore.Store{open(t, connString), open(t, connString)}
	const records, perStore = 200, 8
	var recs []*metadata.Record
	for range records {
		r := record("t1")
		r.Processing = map[string]string{"a": "", "b": "", "c": ""}
		recs = append(recs, r)
	}
	require.NoError(t, stores[0].Create(ctx, recs))
	const jobs = 3 * records

	now := recs[0].CreatedAt
	var mu sync.Mutex
	claims := map[string]int{}
	byStore := make([]int, len(stores))
	start := make(chan struct{})
	// Every worker makes its first claim before any makes its second, so
	// that both stores claim whatever the scheduler does (a pool still
	// dialing could otherwise find every job taken by the other store).
	var firsts sync.WaitGroup
	firsts.Add(len(stores) * perStore)
	var wg sync.WaitGroup
	for i, s := range stores {
		for range perStore {
			wg.Go(func() {
				<-start
				first := true
				defer func() {
					if first {
						firsts.Done()
					}
				}()
				for range jobs + 1 {
					got, err := s.Claim(ctx, now, time.Hour, 3)
					if !assert.NoError(t, err) || len(got) == 0 {
						return
					}
					mu.Lock()
					for _, j := range got {
						claims[j.AttachmentID+"/"+j.Processor]++
						byStore[i]++
					}
					mu.Unlock()
					for _, j := range got {
						if j.Processor == "a" { // the others stay claimed
							assert.NoError(t, s.Finish(ctx, j, metadata.Outcome{State: metadata.JobCompleted, Now: now}))
						}
					}
					if first {
						first = false
						firsts.Done()
						firsts.Wait()
					}
				}
				assert.Fail(t, "Claim keeps handing out jobs")
			})
		}
	}
	close(start)
	wg.Wait()
	require.Len(t, claims, jobs)
	for k, n := range claims {
		require.Equal(t, 1, n, "%s claimed %d times", k, n)
	}
	t.Logf("claims by store: %v", byStore)
	for i, n := range byStore {
		require.Positive(t, n, "store %d claimed nothing", i)
	}
	next, ok, err := stores[1].NextDue(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, now.Add(time.Hour), next)
}

// A worker claims a job and dies (its store is closed, the job never
// finished). Another instance sees the claim hold until its lease runs
// out, then claims the job again, and the dead worker's claim is fenced
// off.
func TestClaimOutlivesItsStore(t *testing.T) {
	ctx := t.Context()
	_, connString := pgstore.FreshSchema(t)
	t0 := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	const lease = 30 * time.Second

	s := open(t, connString)
	r := record("t1")
	r.CreatedAt = t0
	r.Processing = map[string]string{"thumbnail": ""}
	require.NoError(t, s.Create(ctx, []*metadata.Record{r}))
	jobs, err := s.Claim(ctx, t0, lease, 2)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	dead := jobs[0]
	require.NoError(t, s.Close())

	s = open(t, connString)
	jobs, err = s.Claim(ctx, t0.Add(lease-time.Microsecond), lease, 10)
	require.NoError(t, err)
	require.Empty(t, jobs, "claimed while the dead worker's lease holds")
	jobs, err = s.Claim(ctx, t0.Add(lease), lease, 10)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	again := jobs[0]
	require.Equal(t, 2, again.Attempt)
	require.Equal(t, t0.Add(2*lease), again.LeaseUntil)
	require.ErrorIs(t, s.Finish(ctx, dead, metadata.Outcome{State: metadata.JobCompleted, Now: t0}), metadata.ErrLeaseLost)
	require.NoError(t, s.Finish(ctx, again, metadata.Outcome{State: metadata.JobCompleted, Now: t0.Add(lease)}))
}

func TestClaimArguments(t *testing.T) {
	_, connString := pgstore.FreshSchema(t)
	s := open(t, connString)
	_, err := s.Claim(t.Context(), time.Now(), time.Minute, 0)
	require.ErrorContains(t, err, "must be positive")
	_, err = s.Claim(t.Context(), time.Now(), 0, 1)
	require.ErrorContains(t, err, "must be positive")
}

// A lease shorter than the microsecond the store keeps runs out at once:
// the job is claimed once per call, not again within the call.
func TestClaimTinyLease(t *testing.T) {
	_, connString := pgstore.FreshSchema(t)
	s := open(t, connString)
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

// Claim returns jobs in the order they fell due, however the server
// returned the rows it updated.
func TestClaimOrder(t *testing.T) {
	_, connString := pgstore.FreshSchema(t)
	s := open(t, connString)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var want []string
	var recs []*metadata.Record
	for i := range 50 {
		r := record("t1")
		r.CreatedAt = base.Add(time.Duration((i*37)%50) * time.Second)
		r.Processing = map[string]string{"b": "", "a": ""}
		recs = append(recs, r)
	}
	require.NoError(t, s.Create(t.Context(), recs))
	for sec := range 50 {
		for _, r := range recs {
			if r.CreatedAt.Equal(base.Add(time.Duration(sec) * time.Second)) {
				want = append(want, r.ID+"/a", r.ID+"/b")
			}
		}
	}
	jobs, err := s.Claim(t.Context(), base.Add(time.Hour), time.Minute, 1000)
	require.NoError(t, err)
	var got []string
	for _, j := range jobs {
		got = append(got, fmt.Sprint(j.AttachmentID, "/", j.Processor))
	}
	require.Equal(t, want, got)
}
