package memstore

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/attachkit/attachment/metadata"
)

var _ metadata.Queue = (*Store)(nil)

// job is one stored job, with its place in the due heap (-1 once final).
type job struct {
	metadata.Job
	index int
}

// due is when an active job becomes due: RunAt while pending, LeaseUntil
// while processing.
func (j *job) due() time.Time {
	if j.State == metadata.JobProcessing {
		return j.LeaseUntil
	}
	return j.RunAt
}

// jobTable holds the jobs of a Store, under Store.mu: every job in
// byRecord, which Get, List and Delete read, and the pending and processing
// ones in a heap ordered as Claim hands them out (due time, then
// attachment ID and processor), so that Claim and NextDue look only at the
// jobs they return.
type jobTable struct {
	byRecord map[string]map[string]*job // attachment ID → processor → job
	heap     *dueHeap
}

func newJobTable() jobTable {
	return jobTable{byRecord: make(map[string]map[string]*job), heap: &dueHeap{}}
}

// create makes a pending job, due at r.CreatedAt, for each key of
// r.Processing.
func (jt jobTable) create(r *metadata.Record) {
	if len(r.Processing) == 0 {
		return
	}
	jobs := make(map[string]*job, len(r.Processing))
	for p := range r.Processing {
		j := &job{Job: metadata.Job{
			Tenant:       r.Tenant,
			AttachmentID: r.ID,
			Processor:    p,
			State:        metadata.JobPending,
			RunAt:        normTime(r.CreatedAt),
		}}
		jobs[p] = j
		heap.Push(jt.heap, j)
	}
	jt.byRecord[r.ID] = jobs
}

// deleteRecord drops the jobs of the attachment.
func (jt jobTable) deleteRecord(id string) {
	for _, j := range jt.byRecord[id] {
		if j.index >= 0 {
			heap.Remove(jt.heap, j.index)
		}
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
func (jt jobTable) held(j metadata.Job) (*job, bool) {
	cur := jt.byRecord[j.AttachmentID][j.Processor]
	if cur == nil || cur.State != metadata.JobProcessing || cur.Attempt != j.Attempt {
		return nil, false
	}
	return cur, true
}

// dueHeap is a container/heap of the active jobs, earliest due first.
type dueHeap []*job

func (h dueHeap) Len() int { return len(h) }

func (h dueHeap) Less(a, b int) bool {
	x, y := h[a], h[b]
	return cmp.Or(x.due().Compare(y.due()),
		cmp.Compare(x.AttachmentID, y.AttachmentID), cmp.Compare(x.Processor, y.Processor)) < 0
}

func (h dueHeap) Swap(a, b int) {
	h[a], h[b] = h[b], h[a]
	h[a].index, h[b].index = a, b
}

// Push implements heap.Interface.
func (h *dueHeap) Push(x any) {
	j := x.(*job)
	j.index = len(*h)
	*h = append(*h, j)
}

// Pop implements heap.Interface.
func (h *dueHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	j.index = -1
	return j
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
	until := normTime(now.Add(lease))
	h := s.jobs.heap
	// Take the due jobs out first, so that none is met twice even if its
	// new lease (rounded to the microsecond) has already run out.
	var due []*job
	for len(due) < limit && h.Len() > 0 && !(*h)[0].due().After(now) {
		due = append(due, heap.Pop(h).(*job))
	}
	out := make([]metadata.Job, len(due))
	for i, j := range due {
		j.State = metadata.JobProcessing
		j.Attempt++
		j.LeaseUntil = until
		heap.Push(h, j)
		out[i] = j.Job
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
		heap.Fix(s.jobs.heap, cur.index)
	} else {
		heap.Remove(s.jobs.heap, cur.index)
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
	heap.Fix(s.jobs.heap, cur.index)
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
	if h := *s.jobs.heap; len(h) > 0 {
		return h[0].due(), true, nil
	}
	return time.Time{}, false, nil
}
