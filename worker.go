package attachment

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/attachkit/attachment/metadata"
)

// pool runs queued jobs on a fixed number of goroutines.
type pool struct {
	c     *core
	q     metadata.Queue
	procs map[string]Processor

	wake chan struct{} // a job may be due: one idle worker looks
	stop chan struct{} // closed by Close: claim nothing more
	// runCtx is the parent of every job's context; cancelled once the
	// drain timeout passes.
	runCtx    context.Context
	cancelRun context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

func newPool(c *core, q metadata.Queue, procs map[string]Processor) *pool {
	ctx, cancel := context.WithCancel(context.Background())
	return &pool{
		c: c, q: q, procs: procs,
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		runCtx: ctx, cancelRun: cancel,
	}
}

func (p *pool) start(n int) {
	for i := 0; i < n; i++ {
		p.wg.Add(1)
		go p.loop()
	}
}

// poke tells an idle worker that a job may be due.
func (p *pool) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// close stops claiming, waits up to the drain timeout for running jobs,
// then cancels them (their jobs are queued again) and waits for the
// workers to return.
func (p *pool) close() {
	p.closeOnce.Do(func() {
		close(p.stop)
		done := make(chan struct{})
		go func() { p.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(p.c.opts.Processing.DrainTimeout):
			p.cancelRun()
			<-done
		}
		p.cancelRun()
	})
}

func (p *pool) stopping() bool {
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

func (p *pool) loop() {
	defer p.wg.Done()
	failures := 0
	for !p.stopping() {
		jobs, err := p.q.Claim(p.runCtx, p.c.now(), p.c.opts.Processing.JobLease, 1)
		if err != nil {
			if p.runCtx.Err() != nil {
				return
			}
			failures++
			p.c.log.Error("attachment: claim a job", "err", err)
			p.sleep(backoff(failures, p.c.opts.Processing.PollInterval, 30*time.Second))
			continue
		}
		failures = 0
		if len(jobs) == 0 {
			p.sleep(p.idleWait())
			continue
		}
		p.poke() // there may be more: let another idle worker look
		p.run(jobs[0])
	}
}

// idleWait is how long to wait for work: until the next job is due, at
// most PollInterval (jobs from other instances are seen only by looking).
func (p *pool) idleWait() time.Duration {
	wait := p.c.opts.Processing.PollInterval
	next, ok, err := p.q.NextDue(p.runCtx)
	if err == nil && ok {
		if d := next.Sub(p.c.now()); d < wait {
			wait = max(d, time.Millisecond)
		}
	}
	return wait
}

// sleep waits for d, a poke, or Close.
func (p *pool) sleep(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-p.wake:
	case <-p.stop:
	}
}

// run runs one claimed job and records its outcome.
func (p *pool) run(j metadata.Job) {
	ctx, cancel := context.WithCancel(p.runCtx)
	defer cancel()

	// Renew the lease while the job runs; losing it cancels the job.
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		t := time.NewTicker(p.c.opts.Processing.JobLease / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				err := p.q.Extend(ctx, j, p.c.now().Add(p.c.opts.Processing.JobLease))
				if errors.Is(err, metadata.ErrLeaseLost) {
					p.c.log.Warn("attachment: job lease lost", "id", j.AttachmentID, "processor", j.Processor)
					cancel()
					return
				}
			}
		}
	}()

	err := p.process(ctx, j)
	cancel()
	<-hbDone

	o := p.outcome(j, err)
	fctx, fcancel := context.WithTimeout(context.Background(), p.c.opts.CommitTimeout)
	defer fcancel()
	if ferr := p.q.Finish(fctx, j, o); ferr != nil && !errors.Is(ferr, metadata.ErrLeaseLost) {
		p.c.log.Error("attachment: finish a job", "id", j.AttachmentID, "processor", j.Processor, "err", ferr)
	}
	if o.State == metadata.JobPending {
		p.poke()
	}
	p.c.changed.notify(j.AttachmentID)
	switch o.State {
	case metadata.JobFailed:
		p.c.log.Warn("attachment: job failed", "id", j.AttachmentID, "processor", j.Processor, "attempt", j.Attempt, "err", o.Error)
	case metadata.JobPending:
		if err != nil && p.runCtx.Err() == nil {
			p.c.log.Info("attachment: job will be retried", "id", j.AttachmentID, "processor", j.Processor, "attempt", j.Attempt, "at", o.RetryAt, "err", o.Error)
		}
	}
}

// errCanceledJob: the job's attachment is gone.
var errCanceledJob = errors.New("the attachment no longer exists")

// process runs the job's processor, turning a panic into a permanent
// error.
func (p *pool) process(ctx context.Context, j metadata.Job) (err error) {
	proc, ok := p.procs[j.Processor]
	if !ok {
		return fmt.Errorf("no processor named %q in this service", j.Processor)
	}
	svc := &Service{core: p.c, tenant: j.Tenant}
	a, err := svc.Get(ctx, j.AttachmentID)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return errCanceledJob
		}
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: processor %s panicked: %v", ErrPermanent, j.Processor, r)
		}
	}()
	return proc.Process(ctx, &Task{Attachment: a, Attempt: j.Attempt, svc: svc})
}

// outcome decides how a job ends after its run returned err.
func (p *pool) outcome(j metadata.Job, err error) metadata.Outcome {
	now := p.c.now()
	o := metadata.Outcome{Now: now}
	switch {
	case err == nil:
		o.State = metadata.JobCompleted
	case errors.Is(err, errCanceledJob):
		o.State = metadata.JobCanceled
	case p.runCtx.Err() != nil:
		// Close cancelled the job: queue it again, to run at once on the
		// next start (or on another instance). The claim still counts as
		// an attempt.
		o.State, o.RetryAt = metadata.JobPending, now
	case errors.Is(err, ErrPermanent) || j.Attempt >= p.c.opts.Processing.MaxAttempts:
		o.State = metadata.JobFailed
	default:
		o.State = metadata.JobPending
		o.RetryAt = now.Add(backoff(j.Attempt, p.c.opts.Processing.RetryDelay, 5*time.Minute))
	}
	if err != nil {
		o.Error = truncate(err.Error(), 1000)
	}
	return o
}

// backoff is base * 2^(n-1), capped, with up to 20% jitter.
func backoff(n int, base, maxWait time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < maxWait; i++ {
		d *= 2
	}
	d = min(d, maxWait)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}
