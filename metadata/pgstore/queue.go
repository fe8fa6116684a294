package pgstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/attachkit/attachment/metadata"
)

var _ metadata.Queue = (*Store)(nil)

// The queue's statements. Every write is fenced: it changes a job only in
// the state (and, for a claim's holder, the attempt) its caller saw, so a
// worker whose lease ran out and was taken over changes nothing.
//
// claimJobs is sqlitestore's claim in one statement: the CTE selects the
// due jobs FOR UPDATE SKIP LOCKED, walking the partial index
// attachment_jobs_due from its start in the order it hands them out, and
// the UPDATE claims exactly those, in the same transaction. Claimers skip
// each other's locked rows instead of waiting, and a row that another
// claimer changed after this one's snapshot is checked again by the
// server before it is locked (a job claimed meanwhile is no longer due).
// RETURNING gives no order, so each row carries the due_at it was claimed
// at, and the jobs are sorted in Go.
const (
	claimJobs = `WITH due AS MATERIALIZED (
		SELECT attachment_id, processor, due_at FROM attachment_jobs
		WHERE due_at <= $1 ORDER BY due_at, attachment_id, processor LIMIT $2
		FOR UPDATE SKIP LOCKED
	)
	UPDATE attachment_jobs j SET state = 'processing', attempt = j.attempt + 1, lease_until = $3, updated_at = $1
	FROM due WHERE j.attachment_id = due.attachment_id AND j.processor = due.processor
	RETURNING j.attachment_id, j.processor, j.tenant, j.attempt, j.run_at, j.error, due.due_at`
	// finishJob's run_at is NULL unless the job is re-queued.
	finishJob = `UPDATE attachment_jobs SET state = $1, run_at = coalesce($2, run_at), lease_until = NULL, error = $3, updated_at = $4
		WHERE attachment_id = $5 AND processor = $6 AND state = 'processing' AND attempt = $7`
	extendJob = `UPDATE attachment_jobs SET lease_until = $1
		WHERE attachment_id = $2 AND processor = $3 AND state = 'processing' AND attempt = $4`
	nextDue = `SELECT due_at FROM attachment_jobs WHERE due_at IS NOT NULL ORDER BY due_at LIMIT 1`
)

var (
	errBadClaim   = errors.New("limit and lease must be positive")
	errBadOutcome = errors.New("outcome state must be pending, completed, failed or canceled")
)

// Claim implements metadata.Queue. limit and lease must be positive.
func (s *Store) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) (_ []metadata.Job, err error) {
	if limit <= 0 || lease <= 0 {
		return nil, fmt.Errorf("pgstore: claim: limit %d, lease %v: %w", limit, lease, errBadClaim)
	}
	release, err := s.acquire("claim")
	if err != nil {
		return nil, err
	}
	defer release(&err)
	jobs, err := s.claim(ctx, now, lease, limit)
	if err != nil {
		return nil, fmt.Errorf("pgstore: claim: %w", err)
	}
	return jobs, nil
}

// claimed is a job as claimJobs returns it, with the time it was due.
type claimed struct {
	job metadata.Job
	due time.Time
}

func (s *Store) claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]metadata.Job, error) {
	now = normTime(now)
	until := normTime(now.Add(lease))
	rows, err := s.pool.Query(ctx, claimJobs, now, limit, until)
	if err != nil {
		return nil, err
	}
	var got []claimed
	for rows.Next() {
		var (
			c     claimed
			runAt time.Time
		)
		if err := rows.Scan(&c.job.AttachmentID, &c.job.Processor, &c.job.Tenant, &c.job.Attempt, &runAt, &c.job.Error, &c.due); err != nil {
			rows.Close()
			return nil, err
		}
		c.job.State = metadata.JobProcessing
		c.job.RunAt = runAt.UTC()
		c.job.LeaseUntil = until
		got = append(got, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Earliest due first, as the index walk chose them: ids compare as
	// bytes, as the columns (COLLATE "C") do.
	slices.SortFunc(got, func(a, b claimed) int {
		return cmp.Or(a.due.Compare(b.due),
			strings.Compare(a.job.AttachmentID, b.job.AttachmentID),
			strings.Compare(a.job.Processor, b.job.Processor))
	})
	out := make([]metadata.Job, len(got))
	for i, c := range got {
		out[i] = c.job
	}
	return out, nil
}

// Finish implements metadata.Queue. An outcome whose State is not one of
// JobPending, JobCompleted, JobFailed and JobCanceled is an error, and
// changes nothing.
func (s *Store) Finish(ctx context.Context, j metadata.Job, o metadata.Outcome) (err error) {
	var runAt *time.Time // NULL: run_at stays
	switch o.State {
	case metadata.JobPending:
		t := normTime(o.RetryAt)
		runAt = &t
	case metadata.JobCompleted, metadata.JobFailed, metadata.JobCanceled:
	default:
		return fmt.Errorf("pgstore: finish %s/%s: state %q: %w", j.AttachmentID, j.Processor, o.State, errBadOutcome)
	}
	release, err := s.acquire("finish")
	if err != nil {
		return err
	}
	defer release(&err)
	tag, err := s.pool.Exec(ctx, finishJob, o.State, runAt, o.Error, normTime(o.Now),
		j.AttachmentID, j.Processor, j.Attempt)
	return fenced("finish", j, tag, err)
}

// Extend implements metadata.Queue.
func (s *Store) Extend(ctx context.Context, j metadata.Job, until time.Time) (err error) {
	release, err := s.acquire("extend")
	if err != nil {
		return err
	}
	defer release(&err)
	tag, err := s.pool.Exec(ctx, extendJob, normTime(until), j.AttachmentID, j.Processor, j.Attempt)
	return fenced("extend", j, tag, err)
}

// fenced is the error of a fenced update of the claim j: metadata.ErrLeaseLost
// when it changed no row.
func fenced(op string, j metadata.Job, tag pgconn.CommandTag, err error) error {
	if err == nil && tag.RowsAffected() == 0 {
		err = metadata.ErrLeaseLost
	}
	if err != nil {
		return fmt.Errorf("pgstore: %s %s/%s attempt %d: %w", op, j.AttachmentID, j.Processor, j.Attempt, err)
	}
	return nil
}

// NextDue implements metadata.Queue: it reads the first entry of the
// attachment_jobs_due index.
func (s *Store) NextDue(ctx context.Context) (_ time.Time, _ bool, err error) {
	release, err := s.acquire("next due")
	if err != nil {
		return time.Time{}, false, err
	}
	defer release(&err)
	var due time.Time
	err = s.pool.QueryRow(ctx, nextDue).Scan(&due)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("pgstore: next due: %w", err)
	}
	return due.UTC(), true, nil
}
