package attachment

import (
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"strings"
	"time"
)

// Defaults for Options fields left zero.
const (
	DefaultMaxFileSize      = 100 << 20 // 100 MiB
	DefaultMaxFiles         = 32
	DefaultMaxFilenameBytes = 255
	DefaultMaxLabels        = 32
	DefaultMaxFieldBytes    = 1024
	DefaultCommitTimeout    = 30 * time.Second
)

// Options configures a Service. The zero value, or a nil *Options, means
// the documented defaults; every field is optional.
type Options struct {
	// MaxFileSize is the most bytes one file may have; a longer one fails
	// with ErrTooLarge. Zero means DefaultMaxFileSize (100 MiB); a
	// negative value means no limit.
	MaxFileSize int64
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
}

func (o *Options) withDefaults() (Options, error) {
	var c Options
	if o != nil {
		c = *o
	}
	if c.MaxFileSize == 0 {
		c.MaxFileSize = DefaultMaxFileSize
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
	if c.MaxFiles < 0 || c.MaxFilenameBytes < 0 || c.MaxLabels < 0 || c.MaxFieldBytes < 0 || c.CommitTimeout < 0 {
		return Options{}, errors.New("attachment: Options limits must not be negative (except MaxFileSize, where negative means none)")
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
