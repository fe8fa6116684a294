package attachment

import (
	"context"
	"time"
)

// MaxStatusWait bounds how long WaitStatus (and ?wait= on the status
// route) waits.
const MaxStatusWait = 30 * time.Second

func statusOf(a *Attachment) *Status {
	return &Status{ID: a.ID, State: a.State, Processing: a.Processing}
}

// Status returns the processing status of the attachment with the ID.
func (s *Service) Status(ctx context.Context, id string) (*Status, error) {
	a, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return statusOf(a), nil
}

// WaitStatus returns the attachment's status as soon as every processor
// has finished, or when wait (at most MaxStatusWait) has passed, whichever
// is first; then the status may still be pending. It wakes at once when
// a job of this attachment run by this Service finishes (jobs of other
// attachments do not wake it), and polls every PollInterval for jobs run
// by other instances sharing the store.
func (s *Service) WaitStatus(ctx context.Context, id string, wait time.Duration) (*Status, error) {
	wait = min(max(wait, 0), MaxStatusWait)
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		st, done, err := s.waitOnce(ctx, id, deadline.C)
		if err != nil || done {
			return st, err
		}
	}
}

// waitOnce reads the status and, unless processing is over, waits until
// a job of the attachment finishes in this Service, PollInterval passes,
// the deadline fires or ctx ends. done is true when the status returned
// is the answer: processing is over, or the deadline fired.
func (s *Service) waitOnce(ctx context.Context, id string, deadline <-chan time.Time) (st *Status, done bool, err error) {
	// Subscribed before the status is read, so that a job finishing in
	// between is not missed.
	changed, unsubscribe := s.core.changed.subscribe(id)
	defer unsubscribe()
	st, err = s.Status(ctx, id)
	if err != nil || st.Done() {
		return st, true, err
	}
	poll := time.NewTimer(s.core.opts.Processing.PollInterval)
	defer poll.Stop()
	select {
	case <-changed:
	case <-poll.C:
	case <-deadline:
		st, err = s.Status(ctx, id)
		return st, true, err
	case <-ctx.Done():
		return nil, true, ctx.Err()
	}
	return nil, false, nil
}
