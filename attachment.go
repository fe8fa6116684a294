package attachment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/storage"
)

func fromRecord(r *metadata.Record) *Attachment {
	return &Attachment{
		ID:          r.ID,
		Filename:    r.Filename,
		ContentType: r.ContentType,
		Size:        r.Size,
		SHA256:      r.SHA256,
		Owner:       r.Owner,
		Labels:      r.Labels,
		Refs:        r.Refs,
		CreatedBy:   r.CreatedBy,
		Width:       r.Width,
		Height:      r.Height,
		State:       StateReady,
		Processing:  r.Processing,
		CreatedAt:   r.CreatedAt,
		UpdatedAt:   r.UpdatedAt,
		Tenant:      r.Tenant,
	}
}

// Service does everything the HTTP API does, from Go. A Service acts in one
// tenant: the one returned by Open and New acts in the default tenant "",
// and ForTenant returns a view of the same service in another. It is safe
// for concurrent use.
type Service struct {
	core   *core
	tenant string
	// checks must allow each upload and update before its commit (see
	// WithCommitCheck).
	checks []CommitCheck
}

// core is what every tenant view of a Service shares.
type core struct {
	content *storage.Store
	meta    metadata.Store
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	// owned reports whether Close closes content and meta.
	owned bool

	// procs are the processors, built-in ones first; queue and pool run
	// their jobs (nil when there are no processors or Workers is Off).
	procs   []Processor
	queue   metadata.Queue
	pool    *pool
	changed notifier // notified, per attachment, when a job of this service finishes
	thumbs  thumbnailer
	// maint runs Maintain in the background; nil unless
	// Options.Maintenance.Interval is set.
	maint *maintainer
	// appends are the resumable-upload appends running in this Service,
	// by upload ID (*appendRun), for GetUpload to interrupt at once.
	appends sync.Map
	// saved are the sessions this Service saved last (resumable uploads).
	saved savedSessions
}

// Open opens a Service on content and metadata stores given by URL, for
// example "file:///var/lib/app/blobs" and "sqlite:///var/lib/app/meta.db".
// The program must import the drivers for both schemes (gocloud.dev/blob's
// fileblob, memblob or s3blob; this module's metadata/memstore,
// metadata/sqlitestore or metadata/pgstore). Close closes both stores. A nil opts means
// defaults.
func Open(ctx context.Context, blobURL, metaURL string, opts *Options) (*Service, error) {
	content, err := storage.Open(ctx, blobURL)
	if err != nil {
		return nil, err
	}
	meta, err := metadata.OpenStore(ctx, metaURL)
	if err != nil {
		_ = content.Close()
		return nil, err
	}
	s, err := New(content, meta, opts)
	if err != nil {
		_ = content.Close()
		_ = meta.Close()
		return nil, err
	}
	s.core.owned = true
	return s, nil
}

// New returns a Service over stores the caller has opened. Close leaves
// them open. A nil opts means defaults.
func New(content *storage.Store, meta metadata.Store, opts *Options) (*Service, error) {
	return newService(content, meta, opts, time.Now)
}

// newService is New with a clock.
func newService(content *storage.Store, meta metadata.Store, opts *Options, now func() time.Time) (*Service, error) {
	if content == nil || meta == nil {
		return nil, errors.New("attachment: New needs a content store and a metadata store")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &core{
		// Every call to either store is bounded by Options.StoreTimeout.
		content: content.WithCallTimeout(max(o.StoreTimeout, 0)),
		meta:    timedMeta(meta, o.StoreTimeout),
		opts:    o,
		log:     log,
		now:     now,
	}
	c.thumbs.init(c)
	if !o.Processing.NoImageProcessing {
		c.procs = append(c.procs, analyzeProcessor{c}, thumbnailProcessor{c})
	}
	c.procs = append(c.procs, o.Processing.Processors...)
	byName := make(map[string]Processor, len(c.procs))
	for _, p := range c.procs {
		name := p.Name()
		if !processorName.MatchString(name) {
			return nil, fmt.Errorf("attachment: processor name %q does not match %s", name, processorName)
		}
		if _, dup := byName[name]; dup {
			return nil, fmt.Errorf("attachment: two processors are named %q", name)
		}
		byName[name] = p
	}
	if len(c.procs) > 0 {
		q, ok := meta.(metadata.Queue)
		if !ok {
			return nil, fmt.Errorf("attachment: the metadata store (%T) keeps no job queue (metadata.Queue), which processors need; set Options.Processing.NoImageProcessing and leave Options.Processing.Processors empty to use it", meta)
		}
		c.queue = timedJobs(q, o.StoreTimeout)
		if o.Processing.Workers > 0 {
			c.pool = newPool(c, q, byName)
			c.pool.start(o.Processing.Workers)
		}
	}
	s := &Service{core: c}
	if o.Maintenance.Interval > 0 {
		if _, ok := meta.(metadata.Scanner); !ok {
			if c.pool != nil {
				c.pool.close()
			}
			return nil, fmt.Errorf("attachment: Options.Maintenance.Interval is set, but the metadata store (%T) cannot list across tenants (metadata.Scanner), which Maintain needs", meta)
		}
		c.maint = startMaintainer(s)
	}
	return s, nil
}

// ForTenant returns a view of the service that acts in the tenant: it sees
// and changes only that tenant's attachments. Views share everything else
// (the commit checks of WithCommitCheck included); closing any of them
// closes the service.
func (s *Service) ForTenant(tenant string) *Service {
	return &Service{core: s.core, tenant: tenant, checks: s.checks}
}

// Tenant returns the tenant the service acts in.
func (s *Service) Tenant() string { return s.tenant }

// Options returns the options in force, defaults filled in. It returns a
// copy: changing it, its slices included, changes nothing in the Service.
func (s *Service) Options() Options { return s.core.opts.clone() }

// Close stops background maintenance and processing (running jobs get
// Options.Processing.DrainTimeout to finish, then are cancelled and queued again) and
// closes the stores if Open
// opened them. Call it once, on the Service that Open or New returned.
func (s *Service) Close() error {
	if s.core.maint != nil {
		s.core.maint.close()
	}
	if s.core.pool != nil {
		s.core.pool.close()
	}
	if !s.core.owned {
		return nil
	}
	return errors.Join(s.core.meta.Close(), s.core.content.Close())
}

// Get returns the attachment with the ID, or ErrNotFound.
func (s *Service) Get(ctx context.Context, id string) (*Attachment, error) {
	if !validID(id) {
		return nil, notFound(id)
	}
	rec, err := s.core.meta.Get(ctx, s.tenant, id)
	if err != nil {
		return nil, storeErr(id, "get", err)
	}
	return fromRecord(rec), nil
}

// OpenContent opens the content of the attachment with the ID for reading. The
// caller must close it. It returns ErrNotFound when there is no such
// attachment, and an error (not ErrNotFound) when the record exists but
// its content is missing.
func (s *Service) OpenContent(ctx context.Context, id string) (*Attachment, *storage.Object, error) {
	a, err := s.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	obj, err := s.core.openContent(ctx, a)
	if err != nil {
		return nil, nil, err
	}
	return a, obj, nil
}

// openContent opens the content of a record already read. Content that is
// missing because a Delete removed the record since is ErrNotFound, as if
// the record had been read after it.
func (c *core) openContent(ctx context.Context, a *Attachment) (*storage.Object, error) {
	obj, err := c.content.OpenContent(ctx, a.ID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		// Delete removes the record before the content: read it again.
		if _, gerr := c.meta.Get(ctx, a.Tenant, a.ID); errors.Is(gerr, metadata.ErrNotFound) {
			return nil, notFound(a.ID)
		}
		// The record exists: missing content is a server fault, not a 404.
		return nil, fmt.Errorf("attachment %s: content: %w", a.ID, errors.Join(errMissingContent, err))
	case err != nil:
		// An outage (ErrUnavailable) or another failure of the bucket:
		// the content may well be there.
		return nil, fmt.Errorf("attachment %s: content: %w", a.ID, err)
	}
	return obj, nil
}

var errMissingContent = errors.New("content missing for a stored record")

// timestamp is the time to record now: UTC, to the millisecond (what every
// store keeps), so that what Upload returns equals what Get later returns.
func (c *core) timestamp() time.Time { return c.now().UTC().Truncate(time.Millisecond) }
