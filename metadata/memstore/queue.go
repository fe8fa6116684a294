package memstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/attachkit/attachment/metadata"
)

var _ metadata.Queue = (*Store)(nil)

// jobKey identifies a job: its attachment and its processor.
type jobKey struct{ id, processor string }

// jobTable holds the jobs of a Store, under Store.mu. Every job is in
// byRecord, which Get, List and Delete use; the pending and processing ones
// are also in active, which Claim and NextDue scan. A scan costs the number
// of active jobs, which suits the store's purpose (tests, small programs)
// better than an index that every claim and finish would have to re-sort.
type jobTable struct {
	byRecord map[string]map[string]*metadata.Job // attachment ID → processor → job
	active   map[jobKey]*metadata.Job
}

func newJobTable() jobTable {
	return jobTable{
		byRecord: make(map[string]map[string]*metadata.Job),
		active:   make(map[jobKey]*metadata.Job),
	}
}

// create makes a pending job, due at r.CreatedAt, for each key of
// r.Processing.
func (jt jobTable) create(r *metadata.Record) {
	if len(r.Processing) == 0 {
		return
	}
	jobs := make(map[string]*metadata.Job, len(r.Processing))
	for p := range r.Processing {
		j := &metadata.Job{
			Tenant:       r.Tenant,
			AttachmentID: r.ID,
			Processor:    p,
			State:        metadata.JobPending,
			RunAt:        normTime(r.CreatedAt),
		}
		jobs[p] = j
		jt.active[jobKey{r.ID, p}] = j
	}
	jt.byRecord[r.ID] = jobs
}

// deleteRecord drops the jobs of the attachment.
func (jt jobTable) deleteRecord(id string) {
	for p := range jt.byRecord[id] {
		delete(jt.active, jobKey{id, p})
	}
	delete(jt.byRecord, id)
}

// states returns the Processing map of the attachment: each job's state,
// or nil when it has none.
func (jt jobTable) states(id string) map[string]string {
	jobs := jt.byRecord[id]
	if len(jobs) == 0 {
		return nil
	}
	out := make(map[string]string, len(jobs))
	for p, j := range jobs {
		out[p] = j.State
	}
	return out
}

// held returns the job that j claimed, if that claim still holds: the job
// is processing with j's Attempt.
func (jt jobTable) held(j metadata.Job) (*metadata.Job, bool) {
	cur := jt.byRecord[j.AttachmentID][j.Processor]
	if cur == nil || cur.State != metadata.JobProcessing || cur.Attempt != j.Attempt {
		return nil, false
	}
	return cur, true
}

// dueAt is when an active job becomes due: RunAt when pending, LeaseUntil
// when processing.
func dueAt(j *metadata.Job) time.Time {
	if j.State == metadata.JobProcessing {
		return j.LeaseUntil
	}
	return j.RunAt
}

var (
	errBadClaim   = errors.New("limit and lease must be positive")
	errBadOutcome = errors.New("outcome state must be pending, completed, failed or canceled")
)

// Claim implements metadata.Queue. limit and lease must be positive.
func (s *Store) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]metadata.Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: claim: %w", err)
	}
	if limit <= 0 || lease <= 0 {
		return nil, fmt.Errorf("memstore: claim: limit %d, lease %v: %w", limit, lease, errBadClaim)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("memstore: claim: %w", metadata.ErrClosed)
	}
	now = normTime(now)
	var due []*metadata.Job
	for _, j := range s.jobs.active {
		if !dueAt(j).After(now) {
			due = append(due, j)
		}
	}
	slices.SortFunc(due, func(a, b *metadata.Job) int {
		return cmp.Or(dueAt(a).Compare(dueAt(b)),
			cmp.Compare(a.AttachmentID, b.AttachmentID), cmp.Compare(a.Processor, b.Processor))
	})
	due = due[:min(limit, len(due))]
	out := make([]metadata.Job, len(due))
	until := normTime(now.Add(lease))
	for i, j := range due {
		j.State = metadata.JobProcessing
		j.Attempt++
		j.LeaseUntil = until
		out[i] = *j
	}
	return out, nil
}

// Finish implements metadata.Queue. An outcome whose State is not one of
// JobPending, JobCompleted, JobFailed and JobCanceled is an error, and
// changes nothing.
func (s *Store) Finish(ctx context.Context, j metadata.Job, o metadata.Outcome) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: finish: %w", err)
	}
	switch o.State {
	case metadata.JobPending, metadata.JobCompleted, metadata.JobFailed, metadata.JobCanceled:
	default:
		return fmt.Errorf("memstore: finish %s/%s: state %q: %w", j.AttachmentID, j.Processor, o.State, errBadOutcome)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("memstore: finish: %w", metadata.ErrClosed)
	}
	cur, ok := s.jobs.held(j)
	if !ok {
		return fmt.Errorf("memstore: finish %s/%s attempt %d: %w", j.AttachmentID, j.Processor, j.Attempt, metadata.ErrLeaseLost)
	}
	cur.State = o.State
	cur.Error = o.Error
	cur.LeaseUntil = time.Time{}
	if o.State == metadata.JobPending {
		cur.RunAt = normTime(o.RetryAt)
	} else {
		delete(s.jobs.active, jobKey{j.AttachmentID, j.Processor})
	}
	return nil
}

// Extend implements metadata.Queue.
func (s *Store) Extend(ctx context.Context, j metadata.Job, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: extend: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("memstore: extend: %w", metadata.ErrClosed)
	}
	cur, ok := s.jobs.held(j)
	if !ok {
		return fmt.Errorf("memstore: extend %s/%s attempt %d: %w", j.AttachmentID, j.Processor, j.Attempt, metadata.ErrLeaseLost)
	}
	cur.LeaseUntil = normTime(until)
	return nil
}

// NextDue implements metadata.Queue.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, fmt.Errorf("memstore: next due: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return time.Time{}, false, fmt.Errorf("memstore: next due: %w", metadata.ErrClosed)
	}
	var next time.Time
	found := false
	for _, j := range s.jobs.active {
		if t := dueAt(j); !found || t.Before(next) {
			next, found = t, true
		}
	}
	return next, found, nil
}
