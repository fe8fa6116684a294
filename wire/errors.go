package wire

import (
	"errors"
	"fmt"
)

// The sentinel errors of the API. A server's errors wrap them and a
// client's errors unwrap to them; test them with errors.Is. Each but
// ErrNoThumbnail stands for one problem code (see Kinds).
var (
	// ErrNotFound: no such attachment, or one the caller may not see
	// (code not_found, 404).
	ErrNotFound = errors.New("not found")
	// ErrTooLarge: a file or a request body is larger than the server
	// allows (code too_large, 413).
	ErrTooLarge = errors.New("content too large")
	// ErrTooManyFiles: an upload has more files than the server allows
	// (code too_many_files, 400).
	ErrTooManyFiles = errors.New("too many files")
	// ErrUnsupportedType: a file's detected type is not one the server
	// allows (code unsupported_type, 415).
	ErrUnsupportedType = errors.New("unsupported content type")
	// ErrChecksumMismatch: a file's content does not match the digest the
	// client sent (code checksum_mismatch, 400).
	ErrChecksumMismatch = errors.New("checksum mismatch")
	// ErrInvalidFilename: a filename that is empty once cleaned (code
	// invalid_filename, 400).
	ErrInvalidFilename = errors.New("invalid filename")
	// ErrInvalidSize: a thumbnail size the server does not allow (code
	// invalid_size, 400).
	ErrInvalidSize = errors.New("invalid thumbnail size")
	// ErrReferenced: a delete without force of an attachment with
	// references (code referenced, 409).
	ErrReferenced = errors.New("attachment is referenced")
	// ErrConflict: a write conflict in the store, such as a record created
	// with an ID that is already taken (code conflict, 409). Package
	// metadata calls it ErrExists.
	ErrConflict = errors.New("already exists")
	// ErrUnauthorized: the server could not identify the caller (code
	// unauthorized, 401).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: the caller may not do this (code forbidden, 403).
	ErrForbidden = errors.New("forbidden")
	// ErrInvalid: any other invalid input, such as a malformed cursor, an
	// oversized label, a bad parameter or a malformed request (code
	// bad_request, 400).
	ErrInvalid = errors.New("invalid input")
	// ErrUnavailable: the server cannot serve the request now: its
	// metadata store or bucket cannot be reached or did not answer in
	// time, or it is saturated (too many waiters, busy decoders). The
	// request may succeed when retried later (code unavailable, 503, with
	// a Retry-After header).
	ErrUnavailable = errors.New("service unavailable")
	// ErrInsufficientStorage: the server's metadata store or bucket is
	// full (code insufficient_storage, 507). Deleting attachments frees
	// space.
	ErrInsufficientStorage = errors.New("insufficient storage")
	// ErrOffsetMismatch: an append to a resumable upload names an offset
	// other than the upload's (code offset_mismatch, 409). The client
	// asks for the upload's offset and resumes from there.
	ErrOffsetMismatch = errors.New("upload offset mismatch")
	// ErrLocked: another request is appending to the resumable upload now
	// (code locked, 423). Retrying later may succeed.
	ErrLocked = errors.New("upload locked")
	// ErrGone: the resumable upload was terminated or has expired (code
	// gone, 410).
	ErrGone = errors.New("upload gone")
	// ErrChunkMismatch: the bytes of one append to a resumable upload do
	// not match the checksum sent with them; they were discarded and the
	// upload's offset is unchanged. It wraps ErrChecksumMismatch (code
	// checksum_mismatch, 400; tus answers it with 460).
	ErrChunkMismatch = fmt.Errorf("chunk %w", ErrChecksumMismatch)

	// ErrNoThumbnail: no thumbnail can be made for the attachment (it is
	// not an image, is undecodable, or is too large to decode). It has no
	// problem code: the thumbnail route answers it with 204 No Content.
	ErrNoThumbnail = errors.New("no thumbnail")
)
