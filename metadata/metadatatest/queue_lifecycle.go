package metadatatest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

// A queue call with a context that is already canceled fails with the
// context's error and changes nothing.
func testQueueContext(t *testing.T, s metadata.Store, q metadata.Queue) {
	r := newRecord(t, "t1", processing("a", "b"))
	mustCreate(t, s, r)
	held := claim(t, q, baseTime(), 1)[0]
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	jobs, err := q.Claim(ctx, baseTime(), lease, 10)
	require.ErrorIs(t, err, context.Canceled, "Claim")
	require.Empty(t, jobs)
	require.ErrorIs(t, q.Finish(ctx, held, metadata.Outcome{State: metadata.JobCompleted, Now: baseTime()}),
		context.Canceled, "Finish")
	require.ErrorIs(t, q.Extend(ctx, held, at(time.Hour)), context.Canceled, "Extend")
	_, _, err = q.NextDue(ctx)
	require.ErrorIs(t, err, context.Canceled, "NextDue")

	other := "a"
	if held.Processor == "a" {
		other = "b"
	}
	requireStates(t, s, "t1", r.ID, map[string]string{held.Processor: metadata.JobProcessing, other: metadata.JobPending})
	claimOne(t, q, baseTime(), r.ID, other, 1)
	requireNextDue(t, q, held.LeaseUntil)
	finish(t, q, held, metadata.JobCompleted, baseTime())
}

// Every queue call after Close returns an error wrapping ErrClosed.
func testQueueClose(t *testing.T, s metadata.Store, q metadata.Queue) {
	r := newRecord(t, "t1", processing("a", "b"))
	mustCreate(t, s, r)
	held := claim(t, q, baseTime(), 1)[0]
	require.NoError(t, s.Close())
	ctx := t.Context()

	jobs, err := q.Claim(ctx, baseTime(), lease, 10)
	require.ErrorIs(t, err, metadata.ErrClosed, "Claim")
	require.Empty(t, jobs)
	require.ErrorIs(t, q.Finish(ctx, held, metadata.Outcome{State: metadata.JobCompleted, Now: baseTime()}),
		metadata.ErrClosed, "Finish")
	require.ErrorIs(t, q.Extend(ctx, held, at(time.Hour)), metadata.ErrClosed, "Extend")
	_, _, err = q.NextDue(ctx)
	require.ErrorIs(t, err, metadata.ErrClosed, "NextDue")
}
