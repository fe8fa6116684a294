package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/attachkit/attachment/metadata"
)

var _ metadata.Queue = (*Store)(nil)

// The queue's statements. Every write is fenced: it changes a job only in
// the state (and, for a claim's holder, the attempt) its caller saw, so a
// worker whose lease ran out and was taken over changes nothing.
//
// Claim selects the due jobs and updates them in one IMMEDIATE transaction,
// so two claimers (in this process or another) never select the same row.
// A PostgreSQL store runs the same two statements, with FOR UPDATE SKIP
// LOCKED on the SELECT so that claimers skip each other's rows instead of
// waiting. due_at is a generated column (see 0002_jobs.sql): the SELECT walks
// its partial index from the start, in the order it returns, and stops at
// the limit.
const (
	anyDue      = `SELECT 1 FROM jobs WHERE due_at <= ? LIMIT 1`
	claimSelect = `SELECT attachment_id, processor, tenant, state, attempt, run_at, error
		FROM jobs WHERE due_at <= ? ORDER BY due_at, attachment_id, processor LIMIT ?`
	claimUpdate = `UPDATE jobs SET state = 'processing', attempt = attempt + 1, lease_until = ?, updated_at = ?
		WHERE attachment_id = ? AND processor = ? AND state = ? AND attempt = ?`
	// finishUpdate's run_at is NULL unless the job is re-queued.
	finishUpdate = `UPDATE jobs SET state = ?, run_at = coalesce(?, run_at), lease_until = NULL, error = ?, updated_at = ?
		WHERE attachment_id = ? AND processor = ? AND state = 'processing' AND attempt = ?`
	extendUpdate = `UPDATE jobs SET lease_until = ?
		WHERE attachment_id = ? AND processor = ? AND state = 'processing' AND attempt = ?`
	nextDueSelect = `SELECT due_at FROM jobs WHERE due_at IS NOT NULL ORDER BY due_at LIMIT 1`
)

var (
	errBadClaim   = errors.New("limit and lease must be positive")
	errBadOutcome = errors.New("outcome state must be pending, completed, failed or canceled")
)

// Claim implements metadata.Queue. limit and lease must be positive.
func (s *Store) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) (_ []metadata.Job, err error) {
	if limit <= 0 || lease <= 0 {
		return nil, fmt.Errorf("sqlitestore: claim: limit %d, lease %v: %w", limit, lease, errBadClaim)
	}
	release, err := s.acquire("claim")
	if err != nil {
		return nil, err
	}
	defer release(&err)
	jobs, err := s.claim(ctx, now, lease, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: claim: %w", err)
	}
	return jobs, nil
}

func (s *Store) claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]metadata.Job, error) {
	// Idle workers claim often and mostly find nothing: look first with a
	// reader, so that they do not take the one write lock that uploads
	// need. A job that falls due right after the look waits for the next
	// claim, as one falling due after the claim would.
	var any int
	err := s.r.QueryRowContext(ctx, anyDue, toMicros(now)).Scan(&any)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	due, err := selectDue(ctx, tx, toMicros(now), limit)
	if err != nil {
		return nil, err
	}
	now = normTime(now)
	until := normTime(now.Add(lease))
	out := due[:0]
	for _, j := range due {
		res, err := tx.ExecContext(ctx, claimUpdate, toMicros(until), toMicros(now),
			j.AttachmentID, j.Processor, j.State, j.Attempt)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", j.AttachmentID, j.Processor, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			continue // changed since the SELECT: not ours (cannot happen under one writer)
		}
		j.State = metadata.JobProcessing
		j.Attempt++
		j.LeaseUntil = until
		out = append(out, j)
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return out, nil
}

// selectDue reads up to limit jobs due at now (unix microseconds), in the
// order Claim hands them out, as they are before the claim.
func selectDue(ctx context.Context, tx *sql.Tx, now int64, limit int) ([]metadata.Job, error) {
	rows, err := tx.QueryContext(ctx, claimSelect, now, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []metadata.Job
	for rows.Next() {
		var (
			j     metadata.Job
			runAt int64
		)
		if err := rows.Scan(&j.AttachmentID, &j.Processor, &j.Tenant, &j.State, &j.Attempt, &runAt, &j.Error); err != nil {
			return nil, err
		}
		j.RunAt = fromMicros(runAt)
		out = append(out, j)
	}
	return out, rows.Err()
}

// Finish implements metadata.Queue. An outcome whose State is not one of
// JobPending, JobCompleted, JobFailed and JobCanceled is an error, and
// changes nothing.
func (s *Store) Finish(ctx context.Context, j metadata.Job, o metadata.Outcome) (err error) {
	var runAt any // NULL: run_at stays
	switch o.State {
	case metadata.JobPending:
		runAt = toMicros(o.RetryAt)
	case metadata.JobCompleted, metadata.JobFailed, metadata.JobCanceled:
	default:
		return fmt.Errorf("sqlitestore: finish %s/%s: state %q: %w", j.AttachmentID, j.Processor, o.State, errBadOutcome)
	}
	release, err := s.acquire("finish")
	if err != nil {
		return err
	}
	defer release(&err)
	res, err := s.w.ExecContext(ctx, finishUpdate, o.State, runAt, o.Error, toMicros(o.Now),
		j.AttachmentID, j.Processor, j.Attempt)
	return fenced("finish", j, res, err)
}

// Extend implements metadata.Queue.
func (s *Store) Extend(ctx context.Context, j metadata.Job, until time.Time) (err error) {
	release, err := s.acquire("extend")
	if err != nil {
		return err
	}
	defer release(&err)
	res, err := s.w.ExecContext(ctx, extendUpdate, toMicros(until), j.AttachmentID, j.Processor, j.Attempt)
	return fenced("extend", j, res, err)
}

// fenced is the error of a fenced update of the claim j: metadata.ErrLeaseLost
// when it changed no row.
func fenced(op string, j metadata.Job, res sql.Result, err error) error {
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = metadata.ErrLeaseLost
		}
	}
	if err != nil {
		return fmt.Errorf("sqlitestore: %s %s/%s attempt %d: %w", op, j.AttachmentID, j.Processor, j.Attempt, err)
	}
	return nil
}

// NextDue implements metadata.Queue: it reads the first entry of the
// jobs_due index.
func (s *Store) NextDue(ctx context.Context) (_ time.Time, _ bool, err error) {
	release, err := s.acquire("next due")
	if err != nil {
		return time.Time{}, false, err
	}
	defer release(&err)
	var due int64
	err = s.r.QueryRowContext(ctx, nextDueSelect).Scan(&due)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("sqlitestore: next due: %w", err)
	}
	return fromMicros(due), true, nil
}
