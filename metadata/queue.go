package metadata

import (
	"context"
	"errors"
	"time"

	"github.com/attachkit/attachment/wire"
)

// Job states, as Record.Processing and Job.State report them: package
// wire's, as the API reports them.
const (
	JobPending    = wire.JobPending    // waiting to run (first time or retry)
	JobProcessing = wire.JobProcessing // claimed by a worker whose lease runs
	JobCompleted  = wire.JobCompleted  // done
	JobFailed     = wire.JobFailed     // gave up: a permanent error or no attempts left
	JobCanceled   = wire.JobCanceled   // not run: the attachment went away
)

// ErrLeaseLost: Finish or Extend of a claim that is no longer held,
// because its lease ran out and another worker claimed the job, or the job
// (with its record) was deleted.
var ErrLeaseLost = errors.New("job lease lost")

// Job is one processor's work on one attachment. A job is identified by
// (AttachmentID, Processor).
type Job struct {
	Tenant       string
	AttachmentID string
	Processor    string
	// State is one of the Job* states.
	State string
	// Attempt counts the claims of the job; the Attempt of a claimed Job is
	// its fencing token: Finish and Extend act only on the same Attempt.
	Attempt int
	// RunAt is when a pending job becomes due.
	RunAt time.Time
	// LeaseUntil is when a processing job's claim runs out and the job
	// may be claimed again.
	LeaseUntil time.Time
	// Error is the last failure's message, for the log and the host; may
	// be empty.
	Error string
}

// Outcome is how Finish ends a claimed job.
type Outcome struct {
	// State is JobCompleted, JobFailed, JobCanceled, or JobPending to run
	// the job again at RetryAt (a retry after a transient error, or a
	// release at shutdown).
	State string
	// RetryAt is when a job finished as JobPending becomes due again.
	RetryAt time.Time
	// Error is recorded as the job's Error.
	Error string
	// Now is the time of the change.
	Now time.Time
}

// Queue is an optional capability of a Store: a durable job queue kept
// with the records, so that work survives restarts and is shared by every
// instance using the store. Find it with a type assertion.
//
// Contract (checked by metadatatest.Run for stores that implement it):
//   - Create makes one pending job per key of Record.Processing, in the
//     same transaction as the record; Get and List fill Processing from
//     the jobs' states.
//   - Delete of a record deletes its jobs; a claim held on one of them is
//     then lost (ErrLeaseLost).
//   - Claim is safe under concurrency, also across processes sharing the
//     store: a due job is claimed by at most one caller until its lease
//     runs out (in SQL: SELECT ... FOR UPDATE SKIP LOCKED, or one writer).
type Queue interface {
	// Claim leases up to limit jobs due at now, earliest due first (RunAt
	// of a pending job, LeaseUntil of a processing one): pending jobs
	// whose RunAt <= now, and processing jobs whose LeaseUntil <= now
	// (their worker died). Each claimed job becomes processing, with
	// LeaseUntil = now+lease and Attempt one more than before, and is
	// returned as it is after the claim. No due jobs is not an error.
	Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Job, error)

	// Finish ends the claim j (as Claim returned it) with the outcome. It
	// returns ErrLeaseLost if the job is not processing with j.Attempt.
	Finish(ctx context.Context, j Job, o Outcome) error

	// Extend moves the lease of the claim j to until. It returns
	// ErrLeaseLost if the job is not processing with j.Attempt.
	Extend(ctx context.Context, j Job, until time.Time) error

	// NextDue returns the earliest time at which a job becomes due
	// (RunAt of a pending job, LeaseUntil of a processing one), and false
	// when there are no such jobs.
	NextDue(ctx context.Context) (time.Time, bool, error)
}
