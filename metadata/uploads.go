package metadata

import (
	"bytes"
	"context"
	"errors"
	"time"
)

// ErrStale: a change to an upload was conditional on a Version that is no
// longer the stored one, because another change came first.
var ErrStale = errors.New("upload changed meanwhile")

// Kinds of upload, for Upload.Concat.
const (
	// ConcatNone is an upload that becomes an attachment on its own.
	ConcatNone = 0
	// ConcatPartial is one part of a concatenation: it is never committed
	// on its own, only read by the final upload that names it.
	ConcatPartial = 1
)

// Upload is a resumable upload in progress (a session). Its ID is the ID
// the attachment will have once the upload completes. A store returns
// uploads that the caller owns: changing one never changes what is stored.
//
// The byte fields are opaque to the store; it keeps them exactly, except
// that nil and empty are the same (either may be read back for either).
type Upload struct {
	// ID is the attachment's ID to be, a UUIDv7 string. It is unique
	// across tenants, among uploads and records alike.
	ID string
	// Tenant partitions uploads as it does records.
	Tenant string
	// CreatedBy names the uploader as the host's access hook named it.
	CreatedBy string
	// Length is the upload's total size in bytes, or -1 while the client
	// defers it.
	Length int64
	// Offset is the durable offset: the bytes stored and covered by Hash.
	Offset int64
	// Concat is ConcatNone or ConcatPartial.
	Concat int
	// Info is what the upload becomes (name, claimed type, owner, labels,
	// expected digests, dialect), encoded by the caller.
	Info []byte
	// Hash is the running digests' saved states at Offset.
	Hash []byte
	// Head is the first bytes of the content, for type detection.
	Head []byte
	// Storage is the content store's state of the upload.
	Storage []byte
	// Finishing is set once every byte is stored and checked, while the
	// content is moved into place and the record created.
	Finishing bool
	// LockOwner and LockedUntil are the lease of the request appending to
	// the upload now; empty and zero when none holds it.
	LockOwner   string
	LockedUntil time.Time
	// Interrupt asks the lease's holder to stop and release it.
	Interrupt bool
	// ExpiresAt is when an idle upload may be removed (see
	// Uploads.ExpiredUploads).
	ExpiresAt time.Time
	// CreatedAt and UpdatedAt are set by the caller, not the store. A store
	// keeps at least millisecond precision and returns times in UTC.
	CreatedAt time.Time
	UpdatedAt time.Time
	// Version is set by the store: 1 on creation, one more on every change.
	// A change is made only if the caller's Version is the stored one.
	Version int64
}

// Clone returns a deep copy of u.
func (u *Upload) Clone() *Upload {
	c := *u
	c.Info = bytes.Clone(u.Info)
	c.Hash = bytes.Clone(u.Hash)
	c.Head = bytes.Clone(u.Head)
	c.Storage = bytes.Clone(u.Storage)
	return &c
}

// UploadCursor is where a page of Uploads.ExpiredUploads ends: the
// ExpiresAt and ID of the last upload it returned. The zero UploadCursor
// starts at the beginning.
type UploadCursor struct {
	ExpiresAt time.Time
	ID        string
}

// Uploads is an optional capability of a Store: resumable upload sessions
// kept beside the records, so that any instance sharing the store can take
// the next request of an upload, and a restarted one can resume it. Find
// it with a type assertion; the stores in this module implement it.
//
// Contract (checked by metadatatest.Run for stores that implement it):
//   - Tenancy as for records: every method that takes a tenant acts only
//     on an upload of that tenant; another tenant's upload is ErrNotFound.
//   - Every change after creation is conditional on Version: of changes
//     made concurrently from one Version, also across processes, exactly
//     one succeeds and the others get ErrStale (ErrNotFound once the
//     upload is gone). A change that fails changes nothing.
//   - ID, Tenant, CreatedBy, Concat and CreatedAt never change after
//     CreateUpload.
//   - Uploads returned are copies; byte fields round-trip (nil and empty
//     alike); times keep at least millisecond precision and come back in
//     UTC.
//   - Errors wrap the package's sentinels, as for Store; every method
//     returns ErrClosed after Close and honours ctx cancellation.
type Uploads interface {
	// CreateUpload stores u with Version 1 (u.Version is ignored) and
	// returns it as stored. An ID that an upload or a record already has,
	// in any tenant, is ErrExists.
	CreateUpload(ctx context.Context, u *Upload) (*Upload, error)

	// GetUpload returns the tenant's upload with the ID, or ErrNotFound.
	GetUpload(ctx context.Context, tenant, id string) (*Upload, error)

	// LookupUpload returns the upload with the ID whichever tenant holds
	// it, or ErrNotFound: for maintenance across tenants.
	LookupUpload(ctx context.Context, id string) (*Upload, error)

	// UpdateUpload replaces the upload (u.Tenant, u.ID) with u if its
	// stored Version is u.Version, and returns it as stored, with Version
	// one more. The fields that never change keep their stored values,
	// whatever u says. A changed Version is ErrStale, a missing upload
	// ErrNotFound.
	UpdateUpload(ctx context.Context, u *Upload) (*Upload, error)

	// DeleteUpload removes the upload if its stored Version is version:
	// ErrStale if it is another, ErrNotFound if there is no such upload.
	DeleteUpload(ctx context.Context, tenant, id string, version int64) error

	// CompleteUpload turns the upload into its record in one transaction:
	// it deletes the upload (u.Tenant, u.ID) if its stored Version is
	// u.Version, and creates rec, with its labels and the pending jobs of
	// its Processing keys, exactly as Store.Create does. rec must have the
	// upload's ID and tenant. On any error (ErrStale, ErrNotFound, ErrExists
	// for a record that has the ID) nothing changes.
	CompleteUpload(ctx context.Context, u *Upload, rec *Record) error

	// ExpiredUploads returns up to limit uploads of every tenant whose
	// ExpiresAt is before t, in (ExpiresAt, ID) order, starting strictly
	// after the cursor. limit must be positive.
	ExpiredUploads(ctx context.Context, t time.Time, after UploadCursor, limit int) ([]*Upload, error)
}
