// Package metadata defines where attachment records live: the Store
// interface with its contract, a URL mux that opens stores by URL in the
// style of gocloud.dev/blob, and the errors every store reports.
//
// Stores are in subpackages that register themselves with DefaultURLMux
// when imported:
//
//	import _ "github.com/attachkit/attachment/metadata/memstore"    // mem://
//	import _ "github.com/attachkit/attachment/metadata/sqlitestore" // sqlite://PATH
//	import _ "github.com/attachkit/attachment/metadata/pgstore"     // postgres://
//
// Every store must pass the conformance suite in package metadatatest.
package metadata

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/attachkit/attachment/wire"
)

// Errors a Store reports. Implementations wrap them (with fmt.Errorf and %w)
// so that callers test them with errors.Is. ErrNotFound, ErrExists,
// ErrReferenced, ErrUnavailable and ErrInsufficientStorage are package
// wire's sentinels (wire.ErrNotFound,
// wire.ErrConflict, wire.ErrReferenced), which the root package and the
// client report too, so errors.Is holds across the layers.
var (
	// ErrNotFound: no record with that ID in that tenant.
	ErrNotFound = wire.ErrNotFound
	// ErrExists: Create was given an ID that is already taken, in any
	// tenant. It is wire.ErrConflict, answered with code conflict.
	ErrExists = wire.ErrConflict
	// ErrReferenced: Delete without Force of a record whose Refs is not empty.
	ErrReferenced = wire.ErrReferenced
	// ErrClosed: the store was used after Close.
	ErrClosed = errors.New("store closed")
	// ErrUnavailable: the store's backend cannot be reached (a refused or
	// broken connection, a server shutting down) or stayed locked; the
	// call may succeed when retried later. It is wire.ErrUnavailable,
	// answered with code unavailable (503).
	ErrUnavailable = wire.ErrUnavailable
	// ErrInsufficientStorage: the store's backend is out of space. It is
	// wire.ErrInsufficientStorage, answered with code
	// insufficient_storage (507).
	ErrInsufficientStorage = wire.ErrInsufficientStorage
)

// Record is one attachment as a Store keeps it. A Store returns records
// that the caller owns: changing one never changes what is stored.
type Record struct {
	// ID is the attachment's ID, a UUIDv7 in its canonical lowercase
	// string form. IDs are unique across tenants, and their string order is
	// their creation order.
	ID string
	// Tenant partitions records: a record is visible only to calls made
	// with the same tenant. The empty string is a tenant like any other.
	Tenant string
	// Filename is the cleaned name the client gave.
	Filename string
	// ContentType is the media type detected from the content.
	ContentType string
	// Size is the content's length in bytes.
	Size int64
	// SHA256 is the content's SHA-256 digest in lowercase hex.
	SHA256 string
	// Owner is an opaque grouping key set by the host; may be empty.
	Owner string
	// Labels are opaque key/value pairs; nil when there are none.
	Labels map[string]string
	// Refs lists who references the attachment, in the order they were
	// added, each once; nil when there are none.
	Refs []string
	// CreatedBy names the uploader as the host's access hook named it;
	// may be empty.
	CreatedBy string
	// Width and Height are an image's displayed dimensions once analysed;
	// zero otherwise.
	Width, Height int
	// Processing maps each processor that has a job for the record to the
	// job's state (JobPending, JobProcessing, ...); nil when there are
	// none. On Create, every key becomes a pending job due at CreatedAt
	// (the values given are ignored); afterwards the map is read from the
	// jobs, which only a Queue changes. Stores that are not Queues keep no
	// jobs and return nil.
	Processing map[string]string
	// CreatedAt and UpdatedAt are set by the caller, not the store. A store
	// keeps at least millisecond precision and returns times in UTC.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Clone returns a deep copy of r.
func (r *Record) Clone() *Record {
	c := *r
	if r.Labels != nil {
		c.Labels = make(map[string]string, len(r.Labels))
		for k, v := range r.Labels {
			c.Labels[k] = v
		}
	}
	if r.Refs != nil {
		c.Refs = append([]string(nil), r.Refs...)
	}
	if r.Processing != nil {
		c.Processing = make(map[string]string, len(r.Processing))
		for k, v := range r.Processing {
			c.Processing[k] = v
		}
	}
	return &c
}

// Update describes a change to one record. Nil fields, and empty AddRefs
// and RemoveRefs, leave the record as it is.
type Update struct {
	// Filename, when non-nil, replaces the filename.
	Filename *string
	// Owner, when non-nil, replaces the owner (the empty string clears it).
	Owner *string
	// Labels, when non-nil, replaces the whole label set; a non-nil empty
	// map removes every label.
	Labels map[string]string
	// AddRefs are appended to Refs, skipping any already present.
	AddRefs []string
	// RemoveRefs are removed from Refs after AddRefs are added (so a ref
	// in both is absent afterwards); absent ones are ignored.
	RemoveRefs []string
	// Width and Height, when non-nil, replace the dimensions.
	Width, Height *int
	// UpdatedAt is the record's new UpdatedAt. It must be set.
	UpdatedAt time.Time
}

// Query selects records for List. Every non-zero field must match.
type Query struct {
	// Tenant is the only tenant whose records are listed.
	Tenant string
	// Owner, when non-empty, must equal the record's owner.
	Owner string
	// Labels, when non-empty: the record must have every pair.
	Labels map[string]string
	// FilenameContains, when non-empty, matches records for which
	// strings.Contains(strings.ToLower(Filename),
	// strings.ToLower(FilenameContains)) is true.
	FilenameContains string
	// ContentTypePrefix, when non-empty, must be a prefix of ContentType
	// (byte-wise, as strings.HasPrefix).
	ContentTypePrefix string
	// Ascending orders by ID ascending (oldest first); the default is
	// descending (newest first).
	Ascending bool
	// After, when non-empty, is an ID: only records that come strictly
	// after it in the chosen order are listed. It need not exist (it may
	// have been deleted), which keeps pagination stable.
	After string
	// Limit is the most records to return; it must be positive.
	Limit int
}

// Store keeps attachment records.
//
// Contract (checked by metadatatest.Run):
//   - Every method is safe for concurrent use.
//   - Every method that takes a tenant and an ID acts only on a record of
//     that tenant; a record of another tenant is ErrNotFound, exactly like
//     a missing one.
//   - Errors that callers act on wrap the package's sentinels: ErrNotFound,
//     ErrExists, ErrReferenced, ErrClosed; an outage of the backend
//     wraps ErrUnavailable and a full backend ErrInsufficientStorage,
//     beside the backend's own error.
//   - Records returned are copies: the caller may change them freely.
//   - Methods honour ctx cancellation where the backend allows.
type Store interface {
	// Create stores recs atomically: either all of them are stored, or
	// none is and an error is returned. An ID that is already stored (in
	// any tenant) or repeated within recs is ErrExists.
	Create(ctx context.Context, recs []*Record) error

	// Get returns the record with the ID in the tenant, or ErrNotFound.
	Get(ctx context.Context, tenant, id string) (*Record, error)

	// Update applies u to the record atomically and returns the record as
	// it is after the change, or ErrNotFound.
	Update(ctx context.Context, tenant, id string, u Update) (*Record, error)

	// Delete removes the record. Unless force is true, a record whose Refs
	// is not empty is not removed and ErrReferenced is returned; the check
	// and the removal are atomic. A missing record is ErrNotFound.
	Delete(ctx context.Context, tenant, id string, force bool) error

	// List returns up to q.Limit records that match q, in ID order
	// (descending unless q.Ascending), starting after q.After.
	List(ctx context.Context, q Query) ([]*Record, error)

	// Close releases the store's resources. Calls after Close return
	// ErrClosed.
	Close() error
}

// Apply changes r as u describes, for stores that read a record, change
// it and write it back: AddRefs are appended (each once), then RemoveRefs
// removed; Labels and Refs are left nil when empty; UpdatedAt is set as
// given (a store normalises its precision).
func (u Update) Apply(r *Record) {
	if u.Filename != nil {
		r.Filename = *u.Filename
	}
	if u.Owner != nil {
		r.Owner = *u.Owner
	}
	if u.Width != nil {
		r.Width = *u.Width
	}
	if u.Height != nil {
		r.Height = *u.Height
	}
	if u.Labels != nil {
		r.Labels = maps.Clone(u.Labels)
	}
	for _, ref := range u.AddRefs {
		if !slices.Contains(r.Refs, ref) {
			r.Refs = append(r.Refs, ref)
		}
	}
	if len(u.RemoveRefs) > 0 {
		r.Refs = slices.DeleteFunc(r.Refs, func(ref string) bool {
			return slices.Contains(u.RemoveRefs, ref)
		})
	}
	if len(r.Labels) == 0 {
		r.Labels = nil
	}
	if len(r.Refs) == 0 {
		r.Refs = nil
	}
	r.UpdatedAt = u.UpdatedAt
}
