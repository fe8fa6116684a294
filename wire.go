package attachment

import "github.com/attachkit/attachment/wire"

// The types of the HTTP API live in package wire, which a client shares
// without the server; these are the same types under the names this
// package has always had.
type (
	// Attachment is an attachment's record, as the API returns it:
	// [wire.Attachment].
	Attachment = wire.Attachment
	// ListOptions selects and pages attachments: [wire.ListOptions].
	ListOptions = wire.ListOptions
	// Page is one page of a listing: [wire.Page].
	Page = wire.Page
	// Change describes an update to an attachment: [wire.Change].
	Change = wire.Change
	// DeleteOptions tunes Delete: [wire.DeleteOptions].
	DeleteOptions = wire.DeleteOptions
	// Status is where an attachment's processing stands: [wire.Status].
	Status = wire.Status
	// SignedURL is a URL that reads one attachment without credentials
	// until it expires (see Signer): [wire.SignedURL].
	SignedURL = wire.SignedURL
	// SignOptions are the choices of a signed URL: [wire.SignOptions].
	SignOptions = wire.SignOptions
	// Problem is the RFC 9457 problem details object the Handler answers
	// errors with: [wire.Problem].
	Problem = wire.Problem
)

// StateReady is the State of an attachment whose content is stored:
// [wire.StateReady].
const StateReady = wire.StateReady

// Listing limits: [wire.DefaultListLimit] and [wire.MaxListLimit].
const (
	DefaultListLimit = wire.DefaultListLimit
	MaxListLimit     = wire.MaxListLimit
)

// Errors the Service reports. They are wrapped with context; test them with
// errors.Is. They are package wire's sentinels, which a client's errors
// unwrap to as well; package metadata's ErrNotFound, ErrReferenced and
// ErrExists are the same values. The Handler maps each to one HTTP status
// and problem code ([wire.Kinds]).
var (
	// ErrNotFound: no such attachment, or one the caller may not see.
	ErrNotFound = wire.ErrNotFound
	// ErrReferenced: Delete without force of an attachment with references.
	ErrReferenced = wire.ErrReferenced
	// ErrConflict: a write conflict in the store, such as a record
	// created with an ID already taken (metadata.ErrExists).
	ErrConflict = wire.ErrConflict
	// ErrTooLarge: a file is longer than Options.MaxFileSize, or a request
	// body than HandlerOptions.MaxRequestSize.
	ErrTooLarge = wire.ErrTooLarge
	// ErrTooManyFiles: an upload has more than Options.MaxFiles files.
	ErrTooManyFiles = wire.ErrTooManyFiles
	// ErrUnsupportedType: a file's detected type is not in
	// Options.AllowedTypes.
	ErrUnsupportedType = wire.ErrUnsupportedType
	// ErrChecksumMismatch: a file's content does not match the digest the
	// client sent.
	ErrChecksumMismatch = wire.ErrChecksumMismatch
	// ErrInvalidFilename: a filename that is empty once cleaned.
	ErrInvalidFilename = wire.ErrInvalidFilename
	// ErrInvalid: any other invalid input (a malformed cursor, an oversized
	// label, a bad parameter).
	ErrInvalid = wire.ErrInvalid
	// ErrForbidden: the access hook refused the operation.
	ErrForbidden = wire.ErrForbidden
	// ErrUnauthorized: the access hook could not identify the caller.
	ErrUnauthorized = wire.ErrUnauthorized
	// ErrInvalidSize: a thumbnail size that is not in
	// Options.Thumbnails.Sizes.
	ErrInvalidSize = wire.ErrInvalidSize
	// ErrNoThumbnail: no thumbnail can be made for the attachment (it is
	// not an image, is undecodable, or has more pixels than
	// Options.Thumbnails.MaxPixels).
	ErrNoThumbnail = wire.ErrNoThumbnail
	// ErrUnavailable: the metadata store or the bucket cannot be reached,
	// or did not answer within Options.StoreTimeout; or the Handler is
	// saturated (too many status waits at once, every image decoder busy).
	// Retrying later may succeed. The Handler answers it with 503 and
	// Retry-After.
	ErrUnavailable = wire.ErrUnavailable
	// ErrInsufficientStorage: the metadata store or the bucket is full.
	// Deleting attachments still works (see docs/architecture.md). The
	// Handler answers it with 507.
	ErrInsufficientStorage = wire.ErrInsufficientStorage
	// ErrOffsetMismatch: an append to a resumable upload (AppendUpload)
	// names an offset other than the upload's; the error is an
	// *OffsetError.
	ErrOffsetMismatch = wire.ErrOffsetMismatch
	// ErrLocked: another request is appending to the resumable upload now
	// (AppendUpload); retrying later may succeed.
	ErrLocked = wire.ErrLocked
	// ErrGone: the resumable upload was terminated or has expired.
	ErrGone = wire.ErrGone
	// ErrChunkMismatch: the bytes of one append (AppendUpload) do not
	// match AppendRequest.Checksum; they were discarded, the upload's
	// offset is unchanged. It wraps ErrChecksumMismatch.
	ErrChunkMismatch = wire.ErrChunkMismatch
)
