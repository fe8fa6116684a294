package sqlitestore

import (
	"context"
	"database/sql"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/attachkit/attachment/metadata"
)

// maxGroup is the most Create calls one group commit takes; the calls
// queued beyond it wait for the next.
const maxGroup = 128

// groupCommit batches Create calls: the calls that arrive while a commit
// is in progress are inserted, after it, in one write transaction and made
// durable by one commit, instead of one transaction each. Every call in
// the group still gets its own outcome, and still stores all of its
// records or none: each runs inside a SAVEPOINT, which its failure (a
// taken ID, say) rolls back without touching the others'. If the group's
// transaction fails as a whole (its commit, or a savepoint that cannot be
// rolled back, as on a full disk), it is rolled back and every call of the
// group is run again alone, in a transaction of its own, so that each
// gets exactly the outcome it would have had without grouping.
//
// There is no goroutine of its own: the first caller to find no commit in
// progress leads. It takes every call queued so far (its own included),
// commits them, tells each its outcome, and hands the lead to the first
// call that queued in the meantime, if any, so that no caller waits for
// groups after its own.
type groupCommit struct {
	mu      sync.Mutex
	queue   []*createCall
	leading bool // a caller is committing a group
	// commits counts the groups committed (tests and benchmarks read it),
	// and fallbacks the groups whose transaction failed as a whole and
	// whose calls were run again one by one.
	commits, fallbacks atomic.Int64
}

// createCall is one Create call waiting in a groupCommit.
type createCall struct {
	ctx  context.Context
	recs []*metadata.Record
	err  error // the outcome, set before done is sent false
	// done receives false once err is the call's outcome, or true when the
	// call must lead the next group.
	done chan bool
}

// create stores recs as Create does, in a group commit with the calls
// that arrive while another commit is in progress.
func (g *groupCommit) create(ctx context.Context, s *Store, recs []*metadata.Record) error {
	c := &createCall{ctx: ctx, recs: recs, done: make(chan bool, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	lead := !g.leading
	g.leading = true
	g.mu.Unlock()
	if !lead && !<-c.done {
		return c.err
	}

	// Lead: take the queue, commit it, and pass the lead on.
	g.mu.Lock()
	n := min(len(g.queue), maxGroup)
	group := slices.Clone(g.queue[:n])
	clear(g.queue[:n]) // the queue's array holds no finished call
	g.queue = g.queue[n:]
	g.mu.Unlock()
	if s.commitGroup(group) {
		g.fallbacks.Add(1)
	}
	g.commits.Add(1)
	g.mu.Lock()
	if len(g.queue) > 0 {
		g.queue[0].done <- true
	} else {
		g.leading = false
	}
	g.mu.Unlock()
	for _, o := range group {
		if o != c {
			o.done <- false
		}
	}
	return c.err
}

// commitGroup sets the outcome of every call in group: it runs them in one
// write transaction, each in a savepoint, or, if that transaction fails as
// a whole, each in a transaction of its own.
//
// The statements run under a context without the callers' cancellation:
// a caller that gives up must not roll back the others' inserts (a
// cancelled statement rolls back the whole transaction). A call whose
// context is done before its turn is not run and gets the context's error.
// commitGroup reports whether it fell back to a transaction per call.
func (s *Store) commitGroup(group []*createCall) (fellBack bool) {
	if len(group) == 1 {
		c := group[0]
		c.err = s.create(c.ctx, c.recs)
		return false
	}
	ctx := context.WithoutCancel(group[0].ctx)
	if err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, c := range group {
			if c.err = c.ctx.Err(); c.err != nil {
				continue
			}
			if _, err := tx.ExecContext(ctx, `SAVEPOINT create_call`); err != nil {
				return err
			}
			if c.err = s.createTx(ctx, tx, c.recs); c.err != nil {
				if _, err := tx.ExecContext(ctx, `ROLLBACK TO create_call`); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `RELEASE create_call`); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		for _, c := range group {
			c.err = s.create(c.ctx, c.recs)
		}
		return true
	}
	return false
}

// createGrouped is create in a group commit, unless s.group is nil.
func (s *Store) createGrouped(ctx context.Context, recs []*metadata.Record) error {
	if s.group == nil {
		return s.create(ctx, recs)
	}
	return s.group.create(ctx, s, recs)
}
