package attachment

import (
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"slices"
	"strings"
	"time"
)

// Off, given to an Options or HandlerOptions field whose documentation
// allows it, turns the field's limit or feature off: no limit, no
// workers, never. It is -1, so it fits every numeric field and
// time.Duration alike; any other negative value is invalid.
const Off = -1

// ErrInvalidOptions is wrapped by the error New and Open return for
// Options (and HandlerOptions.Validate for HandlerOptions) when a field
// has a value outside its documented range. The message names the field.
var ErrInvalidOptions = errors.New("attachment: invalid options")

// Defaults for Options fields left zero.
const (
	DefaultMaxFileSize      = 100 << 20 // 100 MiB
	DefaultMaxFiles         = 32
	DefaultMaxFilenameBytes = 255
	DefaultMaxLabels        = 32
	DefaultMaxFieldBytes    = 1024
	DefaultCommitTimeout    = 30 * time.Second
	DefaultStoreTimeout     = 30 * time.Second

	DefaultWorkers      = 2
	DefaultJobLease     = time.Minute
	DefaultMaxAttempts  = 5
	DefaultRetryDelay   = time.Second
	DefaultPollInterval = time.Second
	DefaultDrainTimeout = 10 * time.Second

	DefaultThumbnailSize    = 256
	DefaultMaxPixels        = 50_000_000
	DefaultThumbnailWorkers = 2

	DefaultOrphanGrace = 24 * time.Hour
)

// DefaultThumbnailSizes are the thumbnail sizes allowed when
// ThumbnailOptions.Sizes is empty. New copies them.
var DefaultThumbnailSizes = []int{64, 128, 256, 512, 1024}

// MinJobLease is the shortest ProcessingOptions.JobLease: a lease is
// renewed every third of itself, and stores keep times to the millisecond.
const MinJobLease = time.Second

// MaxThumbnailSize is the largest size ThumbnailOptions.Sizes may hold.
const MaxThumbnailSize = 4096

// Options configures a Service: the limits it enforces on everything it
// stores, from the HTTP API and from Go alike, and its processing,
// thumbnail and maintenance subsystems (the sub-structs). The HTTP-only
// limits (bytes per request, parts per multipart body, ranges per Range
// header) are in HandlerOptions.
//
// A nil *Options, the zero value and every zero field mean the documented
// defaults. Every numeric field and duration, here and in the sub-structs,
// follows one rule:
//
//   - zero means the field's default (a Default… constant);
//   - Off (-1) turns the limit or feature off, for the fields whose
//     documentation says what Off means there, and only for those;
//   - any other value outside the field's range (a negative one, say) is
//     an error from New and Open that wraps ErrInvalidOptions and names
//     the field.
//
// Service.Options returns the options in force, defaults filled in and Off
// kept as -1.
type Options struct {
	// MaxFileSize is the most bytes one file may have; a longer one fails
	// with ErrTooLarge. Zero means DefaultMaxFileSize (100 MiB); Off means
	// no limit.
	MaxFileSize int64
	// MaxFiles is the most files one upload may have; more fail with
	// ErrTooManyFiles. Zero means DefaultMaxFiles (32); Off means no
	// limit.
	MaxFiles int
	// AllowedTypes, when not empty, restricts uploads to files whose
	// detected media type matches one entry: an exact type
	// ("application/pdf") or a prefix ending in "/" or "/*" ("image/",
	// "image/*"). Others fail with ErrUnsupportedType. The check uses the
	// type detected from the bytes, never the client's claim. Empty means
	// every type is allowed; an entry that is neither a type nor a prefix
	// is invalid.
	AllowedTypes []string
	// MaxFilenameBytes bounds a cleaned filename's length in bytes; longer
	// names are shortened, keeping their extension. Zero means
	// DefaultMaxFilenameBytes (255). There is no Off.
	MaxFilenameBytes int
	// MaxLabels is the most labels an attachment may have. Zero means
	// DefaultMaxLabels (32); Off means no limit.
	MaxLabels int
	// MaxFieldBytes bounds the length of an owner, a reference, a label key
	// and a label value. Zero means DefaultMaxFieldBytes (1024). There is
	// no Off: the metadata stores index these fields.
	MaxFieldBytes int
	// CommitTimeout bounds the work that must finish even when the caller's
	// context ends: committing the records of content already stored, or
	// removing the content of a failed upload. Zero means
	// DefaultCommitTimeout (30 s). There is no Off.
	CommitTimeout time.Duration
	// StoreTimeout bounds each call to the metadata store and to the
	// bucket, and each wait on the bucket within a streaming upload or
	// download (the time the bucket takes to accept or return the next
	// chunk, or to commit): a long transfer that keeps moving is never
	// cut. A call or wait that takes longer fails with ErrUnavailable,
	// which the Handler answers with 503. Zero means DefaultStoreTimeout
	// (30 s); Off means no bound.
	StoreTimeout time.Duration
	// Logger receives the service's logs. Nil discards them.
	Logger *slog.Logger
	// UploadExpiry is how long a resumable upload (CreateUpload) may stay
	// idle: each append moves its expiry to this long after it, and
	// Maintain removes an upload that has expired, with its bytes. Zero
	// means DefaultUploadExpiry (24 h). There is no Off.
	UploadExpiry time.Duration

	// Processing configures the processors run after upload and the
	// workers that run them.
	Processing ProcessingOptions
	// Thumbnails configures thumbnails and image decoding.
	Thumbnails ThumbnailOptions
	// Maintenance configures Maintain and its background runs.
	Maintenance MaintenanceOptions
}

// ProcessingOptions configures processing (Options.Processing): the
// processors, run after upload from a durable queue in the metadata store,
// and this Service's workers. The rule of Options applies to every field.
type ProcessingOptions struct {
	// Processors are the host's own processing steps, run after upload
	// beside the built-in ones ("analyze": image dimensions; "thumbnail":
	// the default thumbnail made ahead of the first request). Names must be
	// unique.
	Processors []Processor
	// NoImageProcessing leaves out the built-in processors, and the
	// reading of an image's header at upload. Thumbnails are then made on
	// their first request only, and records carry no width and height.
	NoImageProcessing bool
	// Workers is how many jobs this Service runs at once. Zero means
	// DefaultWorkers (2); Off runs none here (the jobs are still queued,
	// for other instances sharing the store to run).
	Workers int
	// JobLease is how long a claimed job stays with its worker without a
	// renewal; a job whose worker died is taken up again after it. Zero
	// means DefaultJobLease (1 min); it must be at least MinJobLease (1 s).
	// There is no Off.
	JobLease time.Duration
	// MaxAttempts is how many times a job runs before it is failed. Zero
	// means DefaultMaxAttempts (5). There is no Off.
	MaxAttempts int
	// RetryDelay is the wait before the first retry of a failed job; each
	// further retry waits twice as long, up to 5 minutes. Zero means
	// DefaultRetryDelay (1 s). There is no Off.
	RetryDelay time.Duration
	// PollInterval bounds how long an idle worker, or a status wait, waits
	// before it looks for work done by other instances. Zero means
	// DefaultPollInterval (1 s). There is no Off.
	PollInterval time.Duration
	// DrainTimeout is how long Close waits for running jobs before it
	// cancels them (they are then queued again). Zero means
	// DefaultDrainTimeout (10 s). There is no Off.
	DrainTimeout time.Duration
}

// ThumbnailOptions configures thumbnails and the decoding of images, for
// thumbnails and the built-in analysis alike (Options.Thumbnails). The
// rule of Options applies to every field; none has an Off.
type ThumbnailOptions struct {
	// Sizes are the sizes (longest side, pixels) a client may ask for,
	// each from 1 to MaxThumbnailSize (4096). Empty means
	// DefaultThumbnailSizes (64, 128, 256, 512, 1024).
	Sizes []int
	// DefaultSize is the size served without ?size= and made by the
	// built-in thumbnail processor. Zero means DefaultThumbnailSize (256);
	// it must be one of Sizes.
	DefaultSize int
	// MaxPixels refuses to decode images whose header claims more pixels;
	// they get no thumbnail and no dimensions. Zero means DefaultMaxPixels
	// (50 million).
	MaxPixels int64
	// Workers bounds how many images are decoded at once, for thumbnails
	// and analysis together. Zero means DefaultThumbnailWorkers (2).
	Workers int
}

// MaintenanceOptions configures Maintain (Options.Maintenance). The rule
// of Options applies to every field.
type MaintenanceOptions struct {
	// AbandonAfter is the age past which an attachment that has never had
	// a ref is an abandoned upload, which Maintain deletes with its
	// content. Zero, the default, and Off sweep nothing. Set it only when
	// the host marks the attachments it keeps with refs (AddRef): any other
	// attachment is deleted once it is that old.
	AbandonAfter time.Duration
	// OrphanGrace is how old content or a derivative without a record must
	// be before Maintain removes it: a younger one may belong to an upload
	// in progress, which stores its content before its record. An upload
	// that takes longer than half of it is failed at its commit, so that
	// its content can never be taken for an orphan. Zero means
	// DefaultOrphanGrace (24 h). There is no Off.
	OrphanGrace time.Duration
	// Interval, when positive, makes the Service run Maintain in the
	// background every interval (the first run after a random part of
	// one) until Close, logging its counts. Zero, the default, and Off run
	// it only when the host calls Maintain.
	Interval time.Duration
}

// number is the type of a numeric option.
type number interface {
	~int | ~int64
}

// checker collects the errors of one options struct.
type checker struct {
	errs []error
}

func (c *checker) fail(field, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%w: %s %s", ErrInvalidOptions, field, fmt.Sprintf(format, args...)))
}

func (c *checker) err() error { return errors.Join(c.errs...) }

// set applies the rule of Options to one numeric field: zero becomes def;
// Off stays when off says what it means for the field (and is refused
// when off is empty); any other value below least is an error naming the
// field.
func set[T number](c *checker, field string, v *T, def, least T, off string) {
	switch {
	case *v == 0:
		*v = def
	case *v == Off && off != "":
	case *v < least:
		want := "a positive value"
		if least > 1 {
			want = fmt.Sprintf("at least %v", least)
		}
		switch {
		case off == "":
			c.fail(field, "is %v; want %s or 0 for the default (%v)", *v, want, def)
		case def == 0:
			c.fail(field, "is %v; want %s, or 0 (the default) or Off (-1) for %s", *v, want, off)
		default:
			c.fail(field, "is %v; want %s, 0 for the default (%v) or Off (-1) for %s", *v, want, def, off)
		}

	}
}

// withDefaults returns a copy of o (sharing no memory with it) with every
// zero field set to its default, or an error wrapping ErrInvalidOptions
// naming each invalid field.
func (o *Options) withDefaults() (Options, error) {
	var c Options
	if o != nil {
		c = o.clone()
	}
	var k checker
	set(&k, "Options.MaxFileSize", &c.MaxFileSize, DefaultMaxFileSize, 1, "no limit")
	set(&k, "Options.MaxFiles", &c.MaxFiles, DefaultMaxFiles, 1, "no limit")
	set(&k, "Options.MaxFilenameBytes", &c.MaxFilenameBytes, DefaultMaxFilenameBytes, 1, "")
	set(&k, "Options.MaxLabels", &c.MaxLabels, DefaultMaxLabels, 1, "no limit")
	set(&k, "Options.MaxFieldBytes", &c.MaxFieldBytes, DefaultMaxFieldBytes, 1, "")
	set(&k, "Options.CommitTimeout", &c.CommitTimeout, DefaultCommitTimeout, 1, "")
	set(&k, "Options.StoreTimeout", &c.StoreTimeout, DefaultStoreTimeout, 1, "no bound")
	set(&k, "Options.UploadExpiry", &c.UploadExpiry, DefaultUploadExpiry, 1, "")
	for i, t := range c.AllowedTypes {
		t = strings.ToLower(strings.TrimSpace(t))
		t = strings.TrimSuffix(t, "*")
		if t == "" || (!strings.HasSuffix(t, "/") && !validMediaType(t)) {
			k.fail(fmt.Sprintf("Options.AllowedTypes[%d]", i), "is %q; want a media type or a prefix like \"image/\"", c.AllowedTypes[i])
		}
		c.AllowedTypes[i] = t
	}

	p := &c.Processing
	set(&k, "Options.Processing.Workers", &p.Workers, DefaultWorkers, 1, "no workers in this Service")
	set(&k, "Options.Processing.JobLease", &p.JobLease, DefaultJobLease, MinJobLease, "")
	set(&k, "Options.Processing.MaxAttempts", &p.MaxAttempts, DefaultMaxAttempts, 1, "")
	set(&k, "Options.Processing.RetryDelay", &p.RetryDelay, DefaultRetryDelay, 1, "")
	set(&k, "Options.Processing.PollInterval", &p.PollInterval, DefaultPollInterval, 1, "")
	set(&k, "Options.Processing.DrainTimeout", &p.DrainTimeout, DefaultDrainTimeout, 1, "")

	t := &c.Thumbnails
	if len(t.Sizes) == 0 {
		t.Sizes = slices.Clone(DefaultThumbnailSizes)
	}
	for i, n := range t.Sizes {
		if n < 1 || n > MaxThumbnailSize {
			k.fail(fmt.Sprintf("Options.Thumbnails.Sizes[%d]", i), "is %d; want 1 to %d", n, MaxThumbnailSize)
		}
	}
	set(&k, "Options.Thumbnails.DefaultSize", &t.DefaultSize, DefaultThumbnailSize, 1, "")
	if t.DefaultSize > 0 && !slices.Contains(t.Sizes, t.DefaultSize) {
		k.fail("Options.Thumbnails.DefaultSize", "is %d; want one of Options.Thumbnails.Sizes %v", t.DefaultSize, t.Sizes)
	}
	set(&k, "Options.Thumbnails.MaxPixels", &t.MaxPixels, DefaultMaxPixels, 1, "")
	set(&k, "Options.Thumbnails.Workers", &t.Workers, DefaultThumbnailWorkers, 1, "")

	m := &c.Maintenance
	set(&k, "Options.Maintenance.AbandonAfter", &m.AbandonAfter, 0, 1, "never")
	set(&k, "Options.Maintenance.OrphanGrace", &m.OrphanGrace, DefaultOrphanGrace, 1, "")
	set(&k, "Options.Maintenance.Interval", &m.Interval, 0, 1, "never")

	if err := k.err(); err != nil {
		return Options{}, err
	}
	return c, nil
}

// clone returns a copy of o that shares no memory with it: its slices are
// copied (the Processors and the Logger themselves are shared).
func (o Options) clone() Options {
	o.AllowedTypes = slices.Clone(o.AllowedTypes)
	o.Processing.Processors = slices.Clone(o.Processing.Processors)
	o.Thumbnails.Sizes = slices.Clone(o.Thumbnails.Sizes)
	return o
}

func validMediaType(t string) bool {
	mt, params, err := mime.ParseMediaType(t)
	return err == nil && len(params) == 0 && strings.Count(mt, "/") == 1
}

// allowed reports whether a detected media type (without parameters) is
// allowed by AllowedTypes.
func (o *Options) allowed(mediaType string) bool {
	if len(o.AllowedTypes) == 0 {
		return true
	}
	for _, t := range o.AllowedTypes {
		if strings.HasSuffix(t, "/") {
			if strings.HasPrefix(mediaType, t) {
				return true
			}
		} else if mediaType == t {
			return true
		}
	}
	return false
}
