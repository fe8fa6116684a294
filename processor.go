package attachment

import (
	"context"
	"errors"
	"regexp"

	"github.com/attachkit/attachment/storage"
)

// Processor is a step of work run on attachments after they are uploaded:
// the built-in image analysis and thumbnails, or the host's own (text
// extraction, a virus scan). Each runs from a durable queue kept in the
// metadata store: an upload never waits for it, a job survives restarts,
// a job whose worker died is taken up again once its lease runs out, and a
// transient failure is retried with backoff.
//
// A Processor must be safe for concurrent use. Process may run more than
// once for the same attachment (after a crash, or a lease that ran out),
// so it must be idempotent.
type Processor interface {
	// Name identifies the processor in the API's processing map and in the
	// queue. It must match [a-z0-9][a-z0-9_-]* and stay stable across
	// releases.
	Name() string
	// Accept reports whether the processor has work for a new attachment.
	// It is asked once, when the upload is committed; a job is queued only
	// when it answers true.
	Accept(a *Attachment) bool
	// Process does the work. Return nil when it is done. An error that
	// wraps ErrPermanent fails the job at once; any other error is retried
	// with backoff until Options.Processing.MaxAttempts. ctx ends when the service
	// closes or the job's lease is lost: return promptly then.
	Process(ctx context.Context, t *Task) error
}

// ErrPermanent marks a processor error that retrying cannot fix (the
// content is not what the processor handles, say). Wrap it:
// fmt.Errorf("%w: not a PDF", attachment.ErrPermanent).
var ErrPermanent = errors.New("permanent processing error")

// Task is one job given to a Processor.
type Task struct {
	// Attachment is the attachment as it was when the job was claimed.
	Attachment *Attachment
	// Attempt is 1 on the first run of the job, 2 on the first retry, ...
	Attempt int

	svc *Service // in the attachment's tenant
}

// Open opens the attachment's content. The caller must close it.
func (t *Task) Open(ctx context.Context) (*storage.Object, error) {
	return t.svc.core.openContent(ctx, t.Attachment)
}

// Service returns the service, acting in the attachment's tenant, for
// processors that need more than the content.
func (t *Task) Service() *Service { return t.svc }

var processorName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// ProcessorFunc makes a Processor from a name, an accept function (nil
// accepts every attachment) and a process function.
func ProcessorFunc(name string, accept func(*Attachment) bool, process func(context.Context, *Task) error) Processor {
	return funcProcessor{name, accept, process}
}

type funcProcessor struct {
	name    string
	accept  func(*Attachment) bool
	process func(context.Context, *Task) error
}

func (p funcProcessor) Name() string { return p.name }
func (p funcProcessor) Accept(a *Attachment) bool {
	return p.accept == nil || p.accept(a)
}
func (p funcProcessor) Process(ctx context.Context, t *Task) error { return p.process(ctx, t) }
