package metadatatest

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

// queueTest is one check of the metadata.Queue contract. It runs only on a
// store that implements metadata.Queue, and is skipped on others.
type queueTest struct {
	name string
	fn   func(t *testing.T, s metadata.Store, q metadata.Queue)
}

// queueTests returns the checks of the Queue contract as tests of Run.
func queueTests() []test {
	qts := []queueTest{
		{"ClaimReturnsTheJobAsClaimed", testClaimFields},
		{"NotDueBeforeRunAt", testClaimNotBeforeRunAt},
		{"EarliestRunAtFirst", testClaimOrder},
		{"ExpiredLeaseDueAtLeaseUntil", testClaimOrderExpiredLease},
		{"Limit", testClaimLimit},
		{"EveryTenant", testClaimTenants},
		{"LeaseHoldsThenRunsOut", testClaimLease},
		{"LateWorkerIsFenced", testLateWorkerFenced},
		{"FinishFinalStates", testFinishFinal},
		{"FinishPendingRetries", testFinishRetry},
		{"FinishAfterLeaseRanOutUnclaimed", testFinishAfterExpiry},
		{"FinishOrExtendUnheldIsLeaseLost", testFinishUnheld},
		{"FinishBadStateChangesNothing", testFinishBadState},
		{"ExtendMovesLease", testExtend},
		{"RetryAndExtendReorder", testReorder},
		{"ProcessingFollowsJobs", testProcessingFollowsJobs},
		{"DeleteCascades", testQueueDelete},
		{"NextDue", testNextDue},
		{"TimesInUTC", testQueueTimes},
		{"ConcurrentClaimsNeverShareAJob", testConcurrentClaims},
		{"FinishRacesReclaim", testFinishRacesReclaim},
		{"ContextCanceled", testQueueContext},
		{"CallsAfterCloseAreErrClosed", testQueueClose},
	}
	out := make([]test, len(qts))
	for i, qt := range qts {
		out[i] = test{qt.name, func(t *testing.T, s metadata.Store) {
			q, ok := s.(metadata.Queue)
			if !ok {
				t.Skipf("%T is not a metadata.Queue", s)
			}
			qt.fn(t, s, q)
		}}
	}
	return out
}

// lease is the lease that claims in these tests take.
const lease = time.Minute

// claim runs q.Claim, failing the test on error, and checks that every job
// it returns is claimed at now: processing, leased until now+lease.
func claim(t *testing.T, q metadata.Queue, now time.Time, limit int) []metadata.Job {
	t.Helper()
	jobs, err := q.Claim(t.Context(), now, lease, limit)
	require.NoError(t, err, "Claim(%v, %v, %d)", now, lease, limit)
	require.LessOrEqual(t, len(jobs), limit, "Claim returned more than limit")
	for _, j := range jobs {
		require.Equal(t, metadata.JobProcessing, j.State, "claimed job %s", key(j))
		require.Positive(t, j.Attempt, "claimed job %s", key(j))
		requireTime(t, "LeaseUntil", now.Add(lease), j.LeaseUntil)
	}
	return jobs
}

// claimOne claims at now and checks that exactly the job (id, processor)
// comes back, with the attempt.
func claimOne(t *testing.T, q metadata.Queue, now time.Time, id, processor string, attempt int) metadata.Job {
	t.Helper()
	jobs := claim(t, q, now, 10)
	require.Len(t, jobs, 1, "claimed %v at %v", keys(jobs), now)
	j := jobs[0]
	require.Equal(t, id+"/"+processor, key(j))
	require.Equal(t, attempt, j.Attempt, "attempt of %s", key(j))
	return j
}

// requireNothingDue checks that Claim at now claims nothing.
func requireNothingDue(t *testing.T, q metadata.Queue, now time.Time) {
	t.Helper()
	jobs := claim(t, q, now, 10)
	require.Empty(t, jobs, "claimed %v at %v", keys(jobs), now)
}

// finish ends the claim j with state at now, failing the test on error.
func finish(t *testing.T, q metadata.Queue, j metadata.Job, state string, now time.Time) {
	t.Helper()
	require.NoError(t, q.Finish(t.Context(), j, metadata.Outcome{State: state, Now: now}), "Finish %s as %s", key(j), state)
}

// requireLeaseLost checks that neither Finish nor Extend of the claim j
// holds any more.
func requireLeaseLost(t *testing.T, q metadata.Queue, j metadata.Job) {
	t.Helper()
	ctx := t.Context()
	for _, state := range []string{metadata.JobCompleted, metadata.JobPending} {
		err := q.Finish(ctx, j, metadata.Outcome{State: state, RetryAt: baseTime(), Now: baseTime()})
		require.ErrorIs(t, err, metadata.ErrLeaseLost, "Finish %s (attempt %d) as %s", key(j), j.Attempt, state)
	}
	err := q.Extend(ctx, j, baseTime().Add(100*time.Hour))
	require.ErrorIs(t, err, metadata.ErrLeaseLost, "Extend %s (attempt %d)", key(j), j.Attempt)
}

// requireNextDue checks what NextDue reports.
func requireNextDue(t *testing.T, q metadata.Queue, want time.Time) {
	t.Helper()
	got, ok, err := q.NextDue(t.Context())
	require.NoError(t, err)
	require.True(t, ok, "NextDue found no job, want %v", want)
	requireTime(t, "NextDue", want, got)
}

func requireNoNextDue(t *testing.T, q metadata.Queue) {
	t.Helper()
	got, ok, err := q.NextDue(t.Context())
	require.NoError(t, err)
	require.False(t, ok, "NextDue reported %v, want no job", got)
}

// requireStates checks the Processing map of the record, from Get and List.
func requireStates(t *testing.T, s metadata.Store, tenant, id string, want map[string]string) {
	t.Helper()
	require.Equal(t, want, mustGet(t, s, tenant, id).Processing, "Processing from Get")
	page, err := s.List(t.Context(), metadata.Query{Tenant: tenant, Limit: 1000})
	require.NoError(t, err)
	for _, r := range page {
		if r.ID == id {
			require.Equal(t, want, r.Processing, "Processing from List")
			return
		}
	}
	require.Fail(t, "record not listed", id)
}

// key names a job in messages and maps.
func key(j metadata.Job) string { return j.AttachmentID + "/" + j.Processor }

func keys(jobs []metadata.Job) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = key(j)
	}
	return out
}

// at is baseTime plus d: the now of a queue call.
func at(d time.Duration) time.Time { return baseTime().Add(d) }

// createdAt is a record mod that sets CreatedAt, and so the RunAt of its
// jobs.
func createdAt(t time.Time) func(*metadata.Record) {
	return func(r *metadata.Record) { r.CreatedAt = t }
}

// A claim returns the job with every field: the record's tenant and ID, the
// processor, processing, the first attempt, RunAt the record's CreatedAt,
// LeaseUntil now+lease, and no error.
func testClaimFields(t *testing.T, s metadata.Store, q metadata.Queue) {
	r := newRecord(t, "tenant:a", processing("analyze", "thumbnail"))
	mustCreate(t, s, r)
	now := at(5 * time.Second)
	jobs := claim(t, q, now, 10)
	require.Len(t, jobs, 2)
	slices.SortFunc(jobs, func(a, b metadata.Job) int { return cmp.Compare(a.Processor, b.Processor) })
	for i, p := range []string{"analyze", "thumbnail"} {
		j := jobs[i]
		requireTime(t, "RunAt", baseTime(), j.RunAt)
		requireTime(t, "LeaseUntil", now.Add(lease), j.LeaseUntil)
		j.RunAt, j.LeaseUntil = time.Time{}, time.Time{}
		require.Equal(t, metadata.Job{
			Tenant: "tenant:a", AttachmentID: r.ID, Processor: p, State: metadata.JobProcessing, Attempt: 1,
		}, j)
	}
	requireStates(t, s, "tenant:a", r.ID, map[string]string{"analyze": metadata.JobProcessing, "thumbnail": metadata.JobProcessing})
	requireNothingDue(t, q, now)
}

// A job is due from its RunAt (the record's CreatedAt), not before.
func testClaimNotBeforeRunAt(t *testing.T, s metadata.Store, q metadata.Queue) {
	requireNothingDue(t, q, at(time.Hour))
	r := newRecord(t, "t1", processing("analyze"))
	mustCreate(t, s, r)
	requireNothingDue(t, q, at(-time.Millisecond))
	requireNothingDue(t, q, at(-time.Hour))
	claimOne(t, q, baseTime(), r.ID, "analyze", 1)
}

// Claim hands out the earliest RunAt first, whatever the order the jobs
// were made in, and only jobs due at now.
func testClaimOrder(t *testing.T, s metadata.Store, q metadata.Queue) {
	offsets := []time.Duration{40, 10, 30, 0, 20, 50} // seconds after baseTime
	byOffset := map[time.Duration]string{}
	for _, off := range offsets {
		r := newRecord(t, "t1", processing("p"), createdAt(at(off*time.Second)))
		mustCreate(t, s, r)
		byOffset[off] = r.ID
	}
	var got []string
	for _, j := range claim(t, q, at(25*time.Second), 2) {
		got = append(got, j.AttachmentID)
	}
	require.Equal(t, []string{byOffset[0], byOffset[10]}, got, "the first claim of two")
	got = got[:0]
	for _, j := range claim(t, q, at(45*time.Second), 10) {
		got = append(got, j.AttachmentID)
	}
	require.Equal(t, []string{byOffset[20], byOffset[30], byOffset[40]}, got, "the jobs due at +45s, in RunAt order")
	claimOne(t, q, at(50*time.Second), byOffset[50], "p", 1) // the others' leases hold
}

// A processing job whose lease ran out is due from its LeaseUntil, not its
// RunAt: a pending job due before the lease ran out comes first.
func testClaimOrderExpiredLease(t *testing.T, s metadata.Store, q metadata.Queue) {
	early := newRecord(t, "t1", processing("p"))                                  // RunAt +0
	pending := newRecord(t, "t1", processing("p"), createdAt(at(30*time.Second))) // RunAt +30s
	mustCreate(t, s, early, pending)
	claimOne(t, q, baseTime(), early.ID, "p", 1) // leased until +1m

	jobs := claim(t, q, at(2*time.Minute), 1)
	require.Len(t, jobs, 1)
	require.Equal(t, pending.ID, jobs[0].AttachmentID, "due at +30s, before the lease that ran out at +1m")
	claimOne(t, q, at(2*time.Minute), early.ID, "p", 2)
}

func testClaimLimit(t *testing.T, s metadata.Store, q metadata.Queue) {
	r := newRecord(t, "t1", processing("a", "b", "c", "d", "e"))
	mustCreate(t, s, r)
	seen := map[string]bool{}
	for _, n := range []int{2, 1, 10} {
		jobs := claim(t, q, baseTime(), n)
		require.Len(t, jobs, min(n, 5-len(seen)), "limit %d", n)
		for _, j := range jobs {
			require.False(t, seen[j.Processor], "%s claimed twice", key(j))
			seen[j.Processor] = true
		}
	}
	require.Len(t, seen, 5)
}

// Jobs of every tenant are claimed, each with its record's tenant.
func testClaimTenants(t *testing.T, s metadata.Store, q metadata.Queue) {
	recs := []*metadata.Record{
		newRecord(t, "t1", processing("p")), newRecord(t, "", processing("p")), newRecord(t, "t2", processing("p")),
	}
	mustCreate(t, s, recs...)
	jobs := claim(t, q, baseTime(), 10)
	require.Len(t, jobs, 3)
	tenants := map[string]string{}
	for _, j := range jobs {
		tenants[j.AttachmentID] = j.Tenant
	}
	for _, r := range recs {
		require.Equal(t, r.Tenant, tenants[r.ID], "tenant of the job of %s", r.ID)
	}
}

// A claim holds until LeaseUntil; at LeaseUntil the job is due again (the
// worker died) and the next claim has the next attempt.
func testClaimLease(t *testing.T, s metadata.Store, q metadata.Queue) {
	r := newRecord(t, "t1", processing("p"))
	mustCreate(t, s, r)
	first := claimOne(t, q, at(time.Second), r.ID, "p", 1)
	requireNothingDue(t, q, at(time.Second))
	requireNothingDue(t, q, first.LeaseUntil.Add(-time.Millisecond))
	requireNextDue(t, q, first.LeaseUntil)

	second := claimOne(t, q, first.LeaseUntil, r.ID, "p", 2)
	requireTime(t, "RunAt", baseTime(), second.RunAt)
	requireNothingDue(t, q, second.LeaseUntil.Add(-time.Millisecond))
	claimOne(t, q, second.LeaseUntil.Add(time.Hour), r.ID, "p", 3)
}

// Once a job is claimed again, the earlier claim can neither finish it nor
// move its lease: the newer claim is untouched and still finishes.
func testLateWorkerFenced(t *testing.T, s metadata.Store, q metadata.Queue) {
	r := newRecord(t, "t1", processing("p"))
	mustCreate(t, s, r)
	old := claimOne(t, q, baseTime(), r.ID, "p", 1)
	cur := claimOne(t, q, old.LeaseUntil, r.ID, "p", 2)

	requireLeaseLost(t, q, old)
	requireStates(t, s, "t1", r.ID, map[string]string{"p": metadata.JobProcessing})
	requireNextDue(t, q, cur.LeaseUntil)
	requireNothingDue(t, q, cur.LeaseUntil.Add(-time.Millisecond))

	finish(t, q, cur, metadata.JobCompleted, cur.LeaseUntil)
	requireStates(t, s, "t1", r.ID, map[string]string{"p": metadata.JobCompleted})
	requireLeaseLost(t, q, old)
	requireStates(t, s, "t1", r.ID, map[string]string{"p": metadata.JobCompleted})
}

// Completed, failed and canceled are final: the job is never claimed
// again, is not due, and its claim is over.
func testFinishFinal(t *testing.T, s metadata.Store, q metadata.Queue) {
	for _, state := range []string{metadata.JobCompleted, metadata.JobFailed, metadata.JobCanceled} {
		t.Run(state, func(t *testing.T) {
			r := newRecord(t, "t1", processing("p"))
			mustCreate(t, s, r)
			j := claimOne(t, q, baseTime(), r.ID, "p", 1)
			require.NoError(t, q.Finish(t.Context(), j, metadata.Outcome{
				State: state, Error: "why: " + state, RetryAt: at(time.Second), Now: at(time.Second),
			}))
			requireStates(t, s, "t1", r.ID, map[string]string{"p": state})
			requireNoNextDue(t, q)
			requireNothingDue(t, q, j.LeaseUntil.Add(1000*time.Hour))
			requireLeaseLost(t, q, j)
			requireStates(t, s, "t1", r.ID, map[string]string{"p": state})
			require.NoError(t, s.Delete(t.Context(), "t1", r.ID, true))
		})
	}
}

// Finish as pending re-queues the job at RetryAt, with the error; the next
// claim is the next attempt.
func testFinishRetry(t *testing.T, s metadata.Store, q metadata.Queue) {
	r := newRecord(t, "t1", processing("p"))
	mustCreate(t, s, r)
	j := claimOne(t, q, baseTime(), r.ID, "p", 1)
	retry := at(10 * time.Minute) // after the lease would have run out
	require.NoError(t, q.Finish(t.Context(), j, metadata.Outcome{
		State: metadata.JobPending, RetryAt: retry, Error: "connection reset", Now: at(time.Second),
	}))
	requireStates(t, s, "t1", r.ID, map[string]string{"p": metadata.JobPending})
	requireLeaseLost(t, q, j)
	requireNextDue(t, q, retry)
	requireNothingDue(t, q, j.LeaseUntil)
	requireNothingDue(t, q, retry.Add(-time.Millisecond))

	again := claimOne(t, q, retry, r.ID, "p", 2)
	requireTime(t, "RunAt", retry, again.RunAt)
	require.Equal(t, "connection reset", again.Error, "the last failure's message")
	requireLeaseLost(t, q, j)

	// Released at once (RetryAt now): due again at now.
	require.NoError(t, q.Finish(t.Context(), again, metadata.Outcome{State: metadata.JobPending, RetryAt: retry, Now: retry}))
	third := claimOne(t, q, retry, r.ID, "p", 3)
	require.Empty(t, third.Error, "Finish records the outcome's (empty) Error")
}

// A claim whose lease ran out, but which no one claimed again, still holds:
// Finish and Extend check the attempt, not the clock.
func testFinishAfterExpiry(t *testing.T, s metadata.Store, q metadata.Queue) {
	r := newRecord(t, "t1", processing("a", "b"))
	mustCreate(t, s, r)
	jobs := claim(t, q, baseTime(), 10)
	require.Len(t, jobs, 2)
	late := jobs[0].LeaseUntil.Add(time.Hour)
	finish(t, q, jobs[0], metadata.JobCompleted, late)
	require.NoError(t, q.Extend(t.Context(), jobs[1], late.Add(lease)))
	requireNothingDue(t, q, late)
	requireNextDue(t, q, late.Add(lease))
	requireStates(t, s, "t1", r.ID, map[string]string{jobs[0].Processor: metadata.JobCompleted, jobs[1].Processor: metadata.JobProcessing})
}

// Finish and Extend of a job that was never claimed, of another attempt,
// or of no job at all, are ErrLeaseLost and change nothing.
func testFinishUnheld(t *testing.T, s metadata.Store, q metadata.Queue) {
	r := newRecord(t, "t1", processing("held", "pending"))
	mustCreate(t, s, r)
	held := claim(t, q, baseTime(), 1)[0]
	other := "pending"
	if held.Processor == "pending" {
		other = "held"
	}
	never := metadata.Job{Tenant: "t1", AttachmentID: r.ID, Processor: other, State: metadata.JobPending}
	requireLeaseLost(t, q, never)
	never.Attempt = 1
	requireLeaseLost(t, q, never)
	ahead := held
	ahead.Attempt++
	requireLeaseLost(t, q, ahead)
	behind := held
	behind.Attempt--
	requireLeaseLost(t, q, behind)
	missing := held
	missing.AttachmentID = newID(t)
	requireLeaseLost(t, q, missing)
	noProcessor := held
	noProcessor.Processor = "nosuch"
	requireLeaseLost(t, q, noProcessor)

	requireStates(t, s, "t1", r.ID, map[string]string{held.Processor: metadata.JobProcessing, other: metadata.JobPending})
	requireNextDue(t, q, baseTime()) // the pending job's RunAt
	finish(t, q, held, metadata.JobCompleted, baseTime())
	claimOne(t, q, baseTime(), r.ID, other, 1)
}

// An outcome that is not a final state or pending is an error (not
// ErrLeaseLost) and leaves the claim held.
func testFinishBadState(t *testing.T, s metadata.Store, q metadata.Queue) {
	r := newRecord(t, "t1", processing("p"))
	mustCreate(t, s, r)
	j := claimOne(t, q, baseTime(), r.ID, "p", 1)
	for _, state := range []string{metadata.JobProcessing, "", "done"} {
		err := q.Finish(t.Context(), j, metadata.Outcome{State: state, Now: baseTime()})
		require.Error(t, err, "Finish as %q", state)
		require.NotErrorIs(t, err, metadata.ErrLeaseLost, "Finish as %q", state)
	}
	requireStates(t, s, "t1", r.ID, map[string]string{"p": metadata.JobProcessing})
	requireNextDue(t, q, j.LeaseUntil)
	finish(t, q, j, metadata.JobCompleted, baseTime())
}

// Extend moves LeaseUntil, later or earlier; the job is due at the new time.
func testExtend(t *testing.T, s metadata.Store, q metadata.Queue) {
	r := newRecord(t, "t1", processing("p"))
	mustCreate(t, s, r)
	j := claimOne(t, q, baseTime(), r.ID, "p", 1)
	require.NoError(t, q.Extend(t.Context(), j, at(10*time.Minute)))
	requireNextDue(t, q, at(10*time.Minute))
	requireNothingDue(t, q, j.LeaseUntil)
	requireNothingDue(t, q, at(10*time.Minute-time.Millisecond))
	require.NoError(t, q.Extend(t.Context(), j, at(20*time.Minute)), "extended twice")
	requireNothingDue(t, q, at(15*time.Minute))
	require.NoError(t, q.Extend(t.Context(), j, at(5*time.Minute)), "moved earlier")
	requireNextDue(t, q, at(5*time.Minute))
	requireStates(t, s, "t1", r.ID, map[string]string{"p": metadata.JobProcessing})

	next := claimOne(t, q, at(5*time.Minute), r.ID, "p", 2)
	requireLeaseLost(t, q, j)
	requireNextDue(t, q, next.LeaseUntil)
	finish(t, q, next, metadata.JobCompleted, at(5*time.Minute))
}

// A retry and an extension move a job among the others: Claim and NextDue
// follow its new due time, earlier or later than theirs.
func testReorder(t *testing.T, s metadata.Store, q metadata.Queue) {
	var id []string // records due at +0s, +10s, +20s, +30s
	for i := range 4 {
		r := newRecord(t, "t1", processing("p"), createdAt(at(time.Duration(i)*10*time.Second)))
		mustCreate(t, s, r)
		id = append(id, r.ID)
	}
	a := claimOne(t, q, baseTime(), id[0], "p", 1) // leased until +60s
	requireNextDue(t, q, at(10*time.Second))
	require.NoError(t, q.Finish(t.Context(), a, metadata.Outcome{
		State: metadata.JobPending, RetryAt: at(5 * time.Second), Now: baseTime(),
	}))
	requireNextDue(t, q, at(5*time.Second))

	jobs := claim(t, q, at(15*time.Second), 1)
	require.Equal(t, []string{id[0] + "/p"}, keys(jobs), "the retry at +5s comes before +10s")
	a = jobs[0]                                            // leased until +75s
	b := claimOne(t, q, at(15*time.Second), id[1], "p", 1) // leased until +75s
	require.NoError(t, q.Extend(t.Context(), a, at(17*time.Second)))
	requireNextDue(t, q, at(17*time.Second))
	require.NoError(t, q.Extend(t.Context(), b, at(25*time.Second)))

	jobs = claim(t, q, at(40*time.Second), 10)
	require.Equal(t, []string{id[0] + "/p", id[2] + "/p", id[1] + "/p", id[3] + "/p"}, keys(jobs),
		"due at +17s (extended), +20s, +25s (extended), +30s")
}

// Get and List report each job's current state, one record's jobs in all
// five states at once; another record's jobs are its own.
func testProcessingFollowsJobs(t *testing.T, s metadata.Store, q metadata.Queue) {
	r := newRecord(t, "t1", processing("a", "b", "c", "d", "e"))
	other := newRecord(t, "t1", processing("a"), createdAt(at(time.Hour)))
	mustCreate(t, s, r, other)
	jobs := claim(t, q, baseTime(), 10)
	require.Len(t, jobs, 5)
	byProcessor := map[string]metadata.Job{}
	for _, j := range jobs {
		byProcessor[j.Processor] = j
	}
	finish(t, q, byProcessor["a"], metadata.JobCompleted, baseTime())
	finish(t, q, byProcessor["b"], metadata.JobFailed, baseTime())
	finish(t, q, byProcessor["c"], metadata.JobCanceled, baseTime())
	require.NoError(t, q.Finish(t.Context(), byProcessor["d"], metadata.Outcome{
		State: metadata.JobPending, RetryAt: at(2 * time.Hour), Now: baseTime(),
	}))
	requireStates(t, s, "t1", r.ID, map[string]string{
		"a": metadata.JobCompleted, "b": metadata.JobFailed, "c": metadata.JobCanceled,
		"d": metadata.JobPending, "e": metadata.JobProcessing,
	})
	requireStates(t, s, "t1", other.ID, map[string]string{"a": metadata.JobPending})
	got, err := s.Update(t.Context(), "t1", r.ID, metadata.Update{Width: ptr(3), UpdatedAt: later()})
	require.NoError(t, err)
	require.Equal(t, map[string]string{
		"a": metadata.JobCompleted, "b": metadata.JobFailed, "c": metadata.JobCanceled,
		"d": metadata.JobPending, "e": metadata.JobProcessing,
	}, got.Processing, "Processing from Update")
}

// Delete of a record deletes its jobs: a claim on one is lost, the others
// are never claimed, and NextDue forgets them. A refused Delete keeps them.
func testQueueDelete(t *testing.T, s metadata.Store, q metadata.Queue) {
	r := newRecord(t, "t1", processing("a", "b"), func(r *metadata.Record) { r.Refs = []string{"doc:1"} })
	keep := newRecord(t, "t1", processing("a"), createdAt(at(time.Hour)))
	mustCreate(t, s, r, keep)
	j := claim(t, q, baseTime(), 1)[0]
	require.Equal(t, r.ID, j.AttachmentID)

	require.ErrorIs(t, s.Delete(t.Context(), "t1", r.ID, false), metadata.ErrReferenced)
	require.ErrorIs(t, s.Delete(t.Context(), "t2", r.ID, true), metadata.ErrNotFound)
	require.NoError(t, q.Extend(t.Context(), j, j.LeaseUntil), "the claim is lost by a refused Delete")

	require.NoError(t, s.Delete(t.Context(), "t1", r.ID, true))
	requireLeaseLost(t, q, j)
	requireNextDue(t, q, at(time.Hour))
	requireNothingDue(t, q, at(time.Hour-time.Millisecond))
	claimOne(t, q, at(100*time.Hour), keep.ID, "a", 1)
}

// NextDue is the earliest RunAt of a pending job or LeaseUntil of a
// processing one; final jobs and records without jobs do not count.
func testNextDue(t *testing.T, s metadata.Store, q metadata.Queue) {
	requireNoNextDue(t, q)
	mustCreate(t, s, newRecord(t, "t1"), newRecord(t, "t1", processing()))
	requireNoNextDue(t, q)

	a := newRecord(t, "t1", processing("p"), createdAt(at(10*time.Minute)))
	b := newRecord(t, "t2", processing("p"), createdAt(at(3*time.Minute)))
	mustCreate(t, s, a, b)
	requireNextDue(t, q, at(3*time.Minute))

	jb := claimOne(t, q, at(3*time.Minute), b.ID, "p", 1) // leased until +4m
	requireNextDue(t, q, at(4*time.Minute))
	require.NoError(t, q.Extend(t.Context(), jb, at(30*time.Minute)))
	requireNextDue(t, q, at(10*time.Minute))
	ja := claimOne(t, q, at(10*time.Minute), a.ID, "p", 1) // leased until +11m
	requireNextDue(t, q, at(11*time.Minute))
	finish(t, q, ja, metadata.JobFailed, at(10*time.Minute))
	requireNextDue(t, q, at(30*time.Minute))
	require.NoError(t, q.Finish(t.Context(), jb, metadata.Outcome{
		State: metadata.JobPending, RetryAt: at(-time.Hour), Now: at(5 * time.Minute),
	}))
	requireNextDue(t, q, at(-time.Hour))
	jb = claimOne(t, q, at(5*time.Minute), b.ID, "p", 2)
	finish(t, q, jb, metadata.JobCompleted, at(5*time.Minute))
	requireNoNextDue(t, q)
}

// Job times come back in UTC, whatever zone now was in, to the millisecond
// at least.
func testQueueTimes(t *testing.T, s metadata.Store, q metadata.Queue) {
	zone := time.FixedZone("UTC+5:30", 5*60*60+30*60)
	created := time.Date(2026, 6, 1, 12, 0, 0, 250_000_000, zone)
	r := newRecord(t, "t1", processing("p"), createdAt(created))
	mustCreate(t, s, r)
	now := time.Date(2026, 6, 1, 12, 0, 1, 123_456_789, zone)
	j := claimOne(t, q, now, r.ID, "p", 1)
	requireTime(t, "RunAt", created, j.RunAt)
	requireTime(t, "LeaseUntil", now.Add(lease), j.LeaseUntil)
	due, ok, err := q.NextDue(t.Context())
	require.NoError(t, err)
	require.True(t, ok)
	requireTime(t, "NextDue", now.Add(lease), due)
	requireNothingDue(t, q, now.Add(lease-time.Millisecond))
	claimOne(t, q, now.Add(lease).Add(time.Millisecond), r.ID, "p", 2)
}
