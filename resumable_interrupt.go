package attachment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/attachkit/attachment/metadata"
)

// Interrupts: a client whose connection went silent mid-append comes
// back, asks where the upload is (GetUpload: tus's HEAD, the IETF
// draft's offset retrieval) and goes on from there. The old append may
// still hold the upload, blocked on a connection nobody writes to any
// more. GetUpload asks it to stop: at once in this Service (appends), and
// through the session's Interrupt flag in another instance, which the
// holder reads every leaseCheck. The holder stops reading, saves what it
// has and lets go; GetUpload waits up to interruptWait for that, so the
// offset it reports is the one the next append must name.

const (
	// leaseCheck is how often an append reads its session, to see an
	// interrupt asked by another instance.
	leaseCheck = 2 * time.Second
	// interruptWait is how long GetUpload waits for an interrupted append
	// to let go of its upload before it answers ErrLocked.
	interruptWait = 5 * time.Second
	// interruptPoll is how often it reads the session meanwhile.
	interruptPoll = 50 * time.Millisecond
	// leaseFence is how long before its lease ends an append that could
	// not renew it stops: more than the clocks of two instances may
	// differ.
	leaseFence = 5 * time.Second
)

// errLeaseLapsed ends an append whose lease could not be renewed (the
// metadata store did not answer) before it ran out.
var errLeaseLapsed = fmt.Errorf("%w: the upload's lease could not be renewed", ErrUnavailable)

// errInterrupted is the error of an append that a request for its upload
// stopped (see GetUpload).
var errInterrupted = fmt.Errorf("%w: interrupted by another request for the upload", ErrLocked)

// appendRun is an append running in this Service.
type appendRun struct {
	once        sync.Once
	interrupted atomic.Bool
	body        io.Reader
	cancel      context.CancelFunc
	done        chan struct{} // closed when the append has saved and let go
}

// interrupt stops the append's reading: a body with an Interrupt method
// (Handler.ReadStream's) is woken from a Read blocked on its connection;
// any other body sees its context end.
func (a *appendRun) interrupt() {
	a.once.Do(func() {
		a.interrupted.Store(true)
		if i, ok := a.body.(interface{ Interrupt() }); ok {
			i.Interrupt()
			return
		}
		a.cancel()
	})
}

// heldByOther reports whether a request (another than the caller, who
// has not claimed it) holds u's lease now.
func (c *core) heldByOther(u *metadata.Upload) bool {
	return u.LockOwner != "" && u.LockedUntil.After(c.now())
}

// interruptAppend asks the append holding u to stop and waits until it
// lets go, up to interruptWait; it returns the upload as then stored, a
// *LockedError if the holder kept it, or ErrNotFound once it is gone
// (committed or terminated meanwhile). A finishing upload is not
// interrupted: its commit is waited for.
func (s *Service) interruptAppend(ctx context.Context, up metadata.Uploads, u *metadata.Upload) (*metadata.Upload, error) {
	c := s.core
	if run, ok := c.appends.Load(u.ID); ok {
		run.(*appendRun).interrupt()
	}
	deadline := time.Now().Add(interruptWait)
	for {
		if !c.heldByOther(u) {
			return u, nil
		}
		if !u.Finishing && !u.Interrupt {
			n := u.Clone()
			n.Interrupt = true
			stored, err := up.UpdateUpload(ctx, n)
			switch {
			case err == nil:
				u = stored
			case !errors.Is(err, metadata.ErrStale):
				return nil, storeErr(u.ID, "interrupt upload", err)
			}
		}
		if time.Now().After(deadline) {
			return nil, &LockedError{Until: u.LockedUntil}
		}
		var done <-chan struct{} // the holder is here: its end wakes us
		if run, ok := c.appends.Load(u.ID); ok {
			done = run.(*appendRun).done
		}
		select {
		case <-done:
		case <-time.After(interruptPoll):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		got, err := up.GetUpload(ctx, u.Tenant, u.ID)
		if err != nil {
			return nil, storeErr(u.ID, "get upload", err)
		}
		u = got
	}
}

// saveHeld stores n, a change to an upload whose lease the caller holds
// under the token owner. When the stored version moved meanwhile but the
// lease is still the caller's, what moved it was another request asking
// for an interrupt: the change is made again on the new version (and
// clears the request, as n.Interrupt is false).
func (c *core) saveHeld(ctx context.Context, up metadata.Uploads, n *metadata.Upload, owner string) (*metadata.Upload, error) {
	for range 8 {
		stored, err := up.UpdateUpload(ctx, n)
		if !errors.Is(err, metadata.ErrStale) {
			return stored, err
		}
		cur, gerr := up.GetUpload(ctx, n.Tenant, n.ID)
		if gerr != nil {
			return nil, gerr
		}
		if cur.LockOwner != owner {
			return nil, err
		}
		n = n.Clone()
		n.Version = cur.Version
	}
	return nil, metadata.ErrStale
}

// maxSavedSessions bounds savedSessions: past it, it starts afresh.
const maxSavedSessions = 10_000

// savedSessions are the sessions this Service saved last, by upload ID,
// each taken by the next append to its upload (and only as a guess: the
// claim's compare-and-swap tells whether the store still has it).
type savedSessions struct {
	m sync.Map
	n atomic.Int64
}

// put keeps u, the session as just saved.
func (ss *savedSessions) put(u *metadata.Upload) {
	if ss.n.Add(1) > maxSavedSessions {
		ss.m.Clear()
		ss.n.Store(1)
	}
	ss.m.Store(u.ID, u)
}

// take removes and returns the session of the upload id, nil if none.
func (ss *savedSessions) take(id string) *metadata.Upload {
	v, ok := ss.m.LoadAndDelete(id)
	if !ok {
		return nil
	}
	ss.n.Add(-1)
	return v.(*metadata.Upload)
}
