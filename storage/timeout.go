package storage

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// CallTimeout bounds every call the Store makes to its bucket (opening,
// deleting, listing a page, writing a derivative) and every wait on the
// bucket within a streaming transfer: each read from an object on a
// remote bucket, and, in WriteContent, each time the driver takes to
// accept what it was given and to commit the content at the end. The
// length of a transfer is not bounded, only each wait in it: a long
// upload that keeps moving is never cut. A call or wait that takes longer
// fails with an error wrapping ErrUnavailable. Zero or a negative d
// bounds nothing (the default).
func CallTimeout(d time.Duration) Option {
	return func(s *Store) { s.timeout = max(d, 0) }
}

// WithCallTimeout returns a Store over the same bucket whose calls are
// bounded by d, as CallTimeout describes. Closing either closes the
// bucket if s owns it: close only one of them.
func (s *Store) WithCallTimeout(d time.Duration) *Store {
	c := *s
	CallTimeout(d)(&c)
	return &c
}

// call returns the context of one bounded call to the bucket, and a func
// that, given the call's error, releases the context and wraps the error
// in ErrUnavailable when the bound ended the call.
func (s *Store) call(ctx context.Context) (context.Context, func(error) error) {
	if s.timeout <= 0 {
		return ctx, func(err error) error { return err }
	}
	cctx, cancel := context.WithTimeout(ctx, s.timeout)
	return cctx, func(err error) error {
		timedOut := err != nil && cctx.Err() == context.DeadlineExceeded && ctx.Err() == nil
		cancel()
		if timedOut {
			return s.timedOut(err)
		}
		return err
	}
}

// timedOut is the error of a call the bound ended.
func (s *Store) timedOut(err error) error {
	return fmt.Errorf("%w: the bucket did not answer within %v: %w", ErrUnavailable, s.timeout, err)
}

// watchdog bounds each wait on the bucket within a transfer: arm starts
// the clock of one wait, disarm stops it, and a wait that outlasts the
// timeout cancels the transfer's context. A nil watchdog bounds nothing.
type watchdog struct {
	timeout time.Duration
	cancel  context.CancelFunc
	timer   *time.Timer
	fired   atomic.Bool
}

// newWatchdog returns a watchdog that cancels with cancel, or nil for a
// timeout that is not positive.
func newWatchdog(timeout time.Duration, cancel context.CancelFunc) *watchdog {
	if timeout <= 0 {
		return nil
	}
	w := &watchdog{timeout: timeout, cancel: cancel}
	w.timer = time.AfterFunc(time.Hour, func() {
		w.fired.Store(true)
		w.cancel()
	})
	w.timer.Stop()
	return w
}

// arm starts the clock of one wait.
func (w *watchdog) arm() {
	if w != nil {
		w.timer.Reset(w.timeout)
	}
}

// disarm stops the clock: the wait is over.
func (w *watchdog) disarm() {
	if w != nil {
		w.timer.Stop()
	}
}

// hasFired reports whether a wait outlasted the timeout.
func (w *watchdog) hasFired() bool { return w != nil && w.fired.Load() }
