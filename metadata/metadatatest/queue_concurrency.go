package metadatatest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

// Many workers claim at once, each in a loop until nothing is due: while
// the leases hold, every job is claimed exactly once, at its first attempt,
// and each worker's Finish of its own claims succeeds.
func testConcurrentClaims(t *testing.T, s metadata.Store, q metadata.Queue) {
	const workers, records = 8, 40
	processors := []string{"a", "b", "c"}
	recs := newRecords(t, records, "t1", processing(processors...))
	mustCreate(t, s, recs[:records/2]...)
	mustCreate(t, s, recs[records/2:]...)
	ctx := t.Context()
	now := baseTime()

	var mu sync.Mutex
	claimedBy := map[string][]int{}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			<-start
			// Each round claims a job at least, so a worker that goes on
			// longer than there are jobs is handed some twice.
			for range records*len(processors) + 1 {
				jobs, err := q.Claim(ctx, now, time.Hour, 3)
				if !assert.NoError(t, err, "worker %d", w) || len(jobs) == 0 {
					return
				}
				mu.Lock()
				for _, j := range jobs {
					claimedBy[key(j)] = append(claimedBy[key(j)], w)
				}
				mu.Unlock()
				for _, j := range jobs {
					assert.Equal(t, 1, j.Attempt, "%s", key(j))
					if j.Processor == "a" { // the others stay claimed
						assert.NoError(t, q.Finish(ctx, j, metadata.Outcome{State: metadata.JobCompleted, Now: now}), "%s", key(j))
					}
				}
			}
			assert.Fail(t, "Claim keeps handing out jobs", "worker %d", w)
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	require.Len(t, claimedBy, records*len(processors), "jobs claimed")
	for k, ws := range claimedBy {
		require.Len(t, ws, 1, "%s claimed by workers %v", k, ws)
	}
	requireNothingDue(t, q, now.Add(time.Hour-time.Millisecond))
	requireNextDue(t, q, now.Add(time.Hour))
	for _, r := range recs {
		require.Equal(t, map[string]string{"a": metadata.JobCompleted, "b": metadata.JobProcessing, "c": metadata.JobProcessing},
			mustGet(t, s, "t1", r.ID).Processing)
	}
}

// The first workers finish their claims just as their leases run out and
// others claim the jobs again: for each job either the Finish lands (and
// the job is not claimed again) or the new claim does (and the Finish is
// ErrLeaseLost), never both.
func testFinishRacesReclaim(t *testing.T, s metadata.Store, q metadata.Queue) {
	const n, claimers = 30, 4
	recs := newRecords(t, n, "t1", processing("p"))
	mustCreate(t, s, recs...)
	old := claim(t, q, baseTime(), n)
	require.Len(t, old, n)
	ctx := t.Context()
	expiry := baseTime().Add(lease)

	finishErr := make(map[string]error, n)
	reclaimed := map[string]int{}
	var mu sync.Mutex
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, j := range old {
		wg.Go(func() {
			<-start
			err := q.Finish(ctx, j, metadata.Outcome{State: metadata.JobCompleted, Now: expiry})
			mu.Lock()
			finishErr[j.AttachmentID] = err
			mu.Unlock()
		})
	}
	for range claimers {
		wg.Go(func() {
			<-start
			for range n + 1 {
				jobs, err := q.Claim(ctx, expiry, lease, 2)
				if !assert.NoError(t, err) || len(jobs) == 0 {
					return
				}
				mu.Lock()
				for _, j := range jobs {
					assert.Equal(t, 2, j.Attempt, "%s", key(j))
					reclaimed[j.AttachmentID]++
				}
				mu.Unlock()
			}
			assert.Fail(t, "Claim keeps handing out jobs")
		})
	}
	close(start)
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, r := range recs {
		state := mustGet(t, s, "t1", r.ID).Processing["p"]
		if err := finishErr[r.ID]; err == nil {
			require.Zero(t, reclaimed[r.ID], "%s: finished, yet claimed again", r.ID)
			require.Equal(t, metadata.JobCompleted, state, r.ID)
		} else {
			require.ErrorIs(t, err, metadata.ErrLeaseLost, r.ID)
			require.Equal(t, 1, reclaimed[r.ID], "%s: the Finish lost, so the job was claimed again, once", r.ID)
			require.Equal(t, metadata.JobProcessing, state, r.ID)
		}
	}
}
