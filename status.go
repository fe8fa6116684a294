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
// is first; then the status may still be pending. It wakes at once for
// jobs run by this Service, and polls every PollInterval for jobs run by
// other instances sharing the store.
func (s *Service) WaitStatus(ctx context.Context, id string, wait time.Duration) (*Status, error) {
	wait = min(max(wait, 0), MaxStatusWait)
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		changed := s.core.changed.wait()
		st, err := s.Status(ctx, id)
		if err != nil || st.Done() {
			return st, err
		}
		poll := time.NewTimer(s.core.opts.Processing.PollInterval)
		select {
		case <-changed:
		case <-poll.C:
		case <-deadline.C:
			poll.Stop()
			return s.Status(ctx, id)
		case <-ctx.Done():
			poll.Stop()
			return nil, ctx.Err()
		}
		poll.Stop()
	}
}
