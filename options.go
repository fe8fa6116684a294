package attachment

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"mime"
	"slices"
	"strings"
	"time"
)

// Defaults for Options fields left zero.
const (
	DefaultMaxFileSize      = 100 << 20 // 100 MiB
	DefaultMaxRequestSize   = 1 << 30   // 1 GiB
	DefaultMaxRanges        = 64
	DefaultMaxFiles         = 32
	DefaultMaxFilenameBytes = 255
	DefaultMaxLabels        = 32
	DefaultMaxFieldBytes    = 1024
	DefaultCommitTimeout    = 30 * time.Second

	DefaultWorkers          = 2
	DefaultJobLease         = time.Minute
	DefaultMaxAttempts      = 5
	DefaultRetryDelay       = time.Second
	DefaultPollInterval     = time.Second
	DefaultDrainTimeout     = 10 * time.Second
	DefaultThumbnailSize    = 256
	DefaultMaxPixels        = 50_000_000
	DefaultThumbnailWorkers = 2
)

// DefaultThumbnailSizes are the thumbnail sizes allowed when
// Options.ThumbnailSizes is empty.
var DefaultThumbnailSizes = []int{64, 128, 256, 512, 1024}

// Options configures a Service. The zero value, or a nil *Options, means
// the documented defaults; every field is optional.
type Options struct {
	// MaxFileSize is the most bytes one file may have; a longer one fails
	// with ErrTooLarge. Zero means DefaultMaxFileSize (100 MiB); a
	// negative value means no limit.
	MaxFileSize int64
	// MaxRequestSize is the most bytes the Handler reads of one upload
	// request body: all its files and the multipart framing. A body whose
	// Content-Length is over it is answered 413 too_large before any of it
	// is read (and without a 100 Continue); a longer body without a length
	// is cut off there, answered 413 too_large, and nothing is stored. Zero
	// means DefaultMaxRequestSize (1 GiB), or MaxFileSize plus 1 MiB when
	// that is more; when MaxFileSize is negative (no limit), zero means no
	// limit too. A negative value means no limit.
	MaxRequestSize int64
	// MaxRanges is the most ranges the Handler serves from one Range
	// header (a download or a thumbnail); a request asking for more is
	// answered 416 bad_request (the detail says why), which a client can
	// follow with fewer ranges or none.
	// net/http's own rules apply below it (ranges that overlap so much
	// that they add up to more than the content are ignored: the whole
	// content is served). Zero means DefaultMaxRanges (64).
	MaxRanges int
	// MaxFiles is the most files one upload may have; more fail with
	// ErrTooManyFiles. Zero means DefaultMaxFiles (32).
	MaxFiles int
	// AllowedTypes, when not empty, restricts uploads to files whose
	// detected media type matches one entry: an exact type
	// ("application/pdf") or a prefix ending in "/" or "/*" ("image/",
	// "image/*"). Others fail with ErrUnsupportedType. The check uses the
	// type detected from the bytes, never the client's claim. Empty means
	// every type is allowed.
	AllowedTypes []string
	// MaxFilenameBytes bounds a cleaned filename's length in bytes; longer
	// names are shortened, keeping their extension. Zero means
	// DefaultMaxFilenameBytes (255).
	MaxFilenameBytes int
	// MaxLabels is the most labels an attachment may have. Zero means
	// DefaultMaxLabels (32).
	MaxLabels int
	// MaxFieldBytes bounds the length of an owner, a reference, a label key
	// and a label value. Zero means DefaultMaxFieldBytes (1024).
	MaxFieldBytes int
	// CommitTimeout bounds the work that must finish even when the caller's
	// context ends: committing the records of content already stored, or
	// removing the content of a failed upload. Zero means
	// DefaultCommitTimeout (30 s).
	CommitTimeout time.Duration
	// Logger receives the service's logs. Nil discards them.
	Logger *slog.Logger

	// Processors are the host's own processing steps, run after upload
	// beside the built-in ones ("analyze": image dimensions; "thumbnail":
	// the default thumbnail made ahead of the first request). Names must be
	// unique.
	Processors []Processor
	// NoImageProcessing leaves out the built-in processors. Thumbnails are
	// then made on their first request only, and records carry no width
	// and height.
	NoImageProcessing bool
	// Workers is how many jobs this Service runs at once. Zero means
	// DefaultWorkers (2); a negative value runs none here (the jobs are
	// still queued, for other instances sharing the store to run).
	Workers int
	// JobLease is how long a claimed job stays with its worker without a
	// renewal; a job whose worker died is taken up again after it. Zero
	// means DefaultJobLease (1 min).
	JobLease time.Duration
	// MaxAttempts is how many times a job runs before it is failed. Zero
	// means DefaultMaxAttempts (5).
	MaxAttempts int
	// RetryDelay is the wait before the first retry of a failed job; each
	// further retry waits twice as long, up to 5 minutes. Zero means
	// DefaultRetryDelay (1 s).
	RetryDelay time.Duration
	// PollInterval bounds how long an idle worker waits before it looks
	// for jobs queued by other instances. Zero means DefaultPollInterval
	// (1 s).
	PollInterval time.Duration
	// DrainTimeout is how long Close waits for running jobs before it
	// cancels them (they are then queued again). Zero means
	// DefaultDrainTimeout (10 s).
	DrainTimeout time.Duration

	// ThumbnailSizes are the sizes (longest side, pixels) a client may ask
	// for. Empty means DefaultThumbnailSizes (64, 128, 256, 512, 1024).
	ThumbnailSizes []int
	// DefaultThumbnailSize is the size served without ?size= and made by the
	// thumbnail processor. Zero means DefaultThumbnailSize (256); it must be
	// one of ThumbnailSizes.
	DefaultThumbnailSize int
	// MaxPixels refuses to decode images whose header claims more pixels;
	// they get no thumbnail and no dimensions. Zero means DefaultMaxPixels
	// (50 million).
	MaxPixels int64
	// ThumbnailWorkers bounds how many images are decoded at once, for
	// thumbnails and analysis together. Zero means DefaultThumbnailWorkers
	// (2).
	ThumbnailWorkers int

	// AbandonAfter is the age past which an attachment that has never had
	// a ref is an abandoned upload, which Maintain deletes with its
	// content. Zero (the default) sweeps nothing. Set it only when the
	// host marks the attachments it keeps with refs (AddRef): any other
	// attachment is deleted once it is that old.
	AbandonAfter time.Duration
	// OrphanGrace is how old content or a derivative without a record must
	// be before Maintain removes it: a younger one may belong to an upload
	// in progress, which stores its content before its record. An upload
	// that takes longer than half of it is failed at its commit, so that
	// its content can never be taken for an orphan. Zero means
	// DefaultOrphanGrace (24 h).
	OrphanGrace time.Duration
	// MaintenanceInterval, when positive, makes the Service run Maintain
	// in the background every interval (the first run after a random part
	// of one) until Close, logging its counts. Zero (the default) runs it
	// only when the host calls Maintain.
	MaintenanceInterval time.Duration
}

func (o *Options) withDefaults() (Options, error) {
	var c Options
	if o != nil {
		c = *o
	}
	if c.MaxFileSize == 0 {
		c.MaxFileSize = DefaultMaxFileSize
	}
	if c.MaxRequestSize == 0 {
		switch {
		case c.MaxFileSize < 0 || c.MaxFileSize > math.MaxInt64-1<<20:
			c.MaxRequestSize = -1
		default:
			c.MaxRequestSize = max(DefaultMaxRequestSize, c.MaxFileSize+1<<20)
		}
	}
	if c.MaxRanges == 0 {
		c.MaxRanges = DefaultMaxRanges
	}
	if c.MaxFiles == 0 {
		c.MaxFiles = DefaultMaxFiles
	}
	if c.MaxFilenameBytes == 0 {
		c.MaxFilenameBytes = DefaultMaxFilenameBytes
	}
	if c.MaxLabels == 0 {
		c.MaxLabels = DefaultMaxLabels
	}
	if c.MaxFieldBytes == 0 {
		c.MaxFieldBytes = DefaultMaxFieldBytes
	}
	if c.CommitTimeout == 0 {
		c.CommitTimeout = DefaultCommitTimeout
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.JobLease == 0 {
		c.JobLease = DefaultJobLease
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.RetryDelay == 0 {
		c.RetryDelay = DefaultRetryDelay
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = DefaultDrainTimeout
	}
	if len(c.ThumbnailSizes) == 0 {
		c.ThumbnailSizes = DefaultThumbnailSizes
	}
	c.ThumbnailSizes = append([]int(nil), c.ThumbnailSizes...)
	if c.DefaultThumbnailSize == 0 {
		c.DefaultThumbnailSize = DefaultThumbnailSize
	}
	if c.MaxPixels == 0 {
		c.MaxPixels = DefaultMaxPixels
	}
	if c.ThumbnailWorkers == 0 {
		c.ThumbnailWorkers = DefaultThumbnailWorkers
	}
	if c.OrphanGrace == 0 {
		c.OrphanGrace = DefaultOrphanGrace
	}
	if !slices.Contains(c.ThumbnailSizes, c.DefaultThumbnailSize) {
		return Options{}, fmt.Errorf("attachment: Options.DefaultThumbnailSize %d is not one of ThumbnailSizes %v", c.DefaultThumbnailSize, c.ThumbnailSizes)
	}
	for _, n := range c.ThumbnailSizes {
		if n < 1 || n > 4096 {
			return Options{}, fmt.Errorf("attachment: Options.ThumbnailSizes: %d is not between 1 and 4096", n)
		}
	}
	if c.JobLease < 0 || c.MaxAttempts < 0 || c.RetryDelay < 0 || c.PollInterval < 0 || c.DrainTimeout < 0 || c.MaxPixels < 0 || c.ThumbnailWorkers < 0 ||
		c.AbandonAfter < 0 || c.OrphanGrace < 0 || c.MaintenanceInterval < 0 {
		return Options{}, errors.New("attachment: Options durations and limits must not be negative")
	}
	c.Processors = append([]Processor(nil), c.Processors...)
	if c.MaxFiles < 0 || c.MaxRanges < 0 || c.MaxFilenameBytes < 0 || c.MaxLabels < 0 || c.MaxFieldBytes < 0 || c.CommitTimeout < 0 {
		return Options{}, errors.New("attachment: Options limits must not be negative (except MaxFileSize and MaxRequestSize, where negative means none)")
	}
	c.AllowedTypes = append([]string(nil), c.AllowedTypes...)
	for i, t := range c.AllowedTypes {
		t = strings.ToLower(strings.TrimSpace(t))
		t = strings.TrimSuffix(t, "*")
		if t == "" || (!strings.HasSuffix(t, "/") && !validMediaType(t)) {
			return Options{}, fmt.Errorf("attachment: Options.AllowedTypes: %q is neither a media type nor a prefix like \"image/\"", c.AllowedTypes[i])
		}
		c.AllowedTypes[i] = t
	}
	return c, nil
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
