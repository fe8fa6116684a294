package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync"
	"time"

	"gocloud.dev/blob"
)

// PendingUpload is an incomplete multipart upload: started under one of
// the Store's prefixes, neither completed nor aborted. Its parts stay on
// the server (and on the bill) until it is aborted, and no listing of keys
// shows it. A write cut off by a crash leaves one on S3, where the driver
// had no chance to abort it.
type PendingUpload struct {
	// Key is the key the upload was writing, as the Store names it
	// (ContentKey(id), or a derivative's key).
	Key string
	// Initiated is when the upload was started, by the server's clock.
	Initiated time.Time
	// ID is the upload's ID on the server.
	ID string
}

// Multipart lists and aborts the incomplete multipart uploads of one
// bucket. Package storage/s3uploads has the one for S3 buckets.
type Multipart interface {
	// Pending yields the incomplete uploads whose keys start with prefix
	// (a key of the bucket, as blob.Bucket names it), in key order, and
	// only those: uploads under other keys of the same server bucket
	// (another key prefix, another application) are never yielded. The
	// iteration stops at the first error, which it yields.
	Pending(ctx context.Context, prefix string) iter.Seq2[PendingUpload, error]
	// Abort aborts an upload Pending yielded, which deletes its parts. An
	// upload already gone (completed or aborted meanwhile) is no error.
	Abort(ctx context.Context, up PendingUpload) error
}

// MultipartOpener returns the Multipart of b, or nil when b is not of the
// kind it knows.
type MultipartOpener func(b *blob.Bucket) Multipart

// multipartOpeners are the registered MultipartOpeners, tried in order.
var multipartOpeners struct {
	sync.Mutex
	list []MultipartOpener
}

// RegisterMultipart registers open, which a Store (made without
// WithMultipart) asks for its bucket's Multipart when it lists or aborts
// multipart uploads. A
// package that knows one kind of bucket registers its opener in its init
// function, as gocloud.dev's drivers register their URL schemes: the
// program imports it beside the blob driver (storage/s3uploads beside
// gocloud.dev/blob/s3blob).
func RegisterMultipart(open MultipartOpener) {
	multipartOpeners.Lock()
	defer multipartOpeners.Unlock()
	multipartOpeners.list = append(multipartOpeners.list, open)
}

// WithMultipart gives New the bucket's Multipart, instead of asking the
// registered openers; nil means none (PendingUploads yields nothing).
func WithMultipart(m Multipart) Option {
	return func(s *Store) {
		s.multipart = m
		s.multipartSet = true
	}
}

// findMultipart returns the Multipart WithMultipart gave, or else asks the
// registered openers for the bucket's, now: a Store made before an opener
// was registered finds it too, and buckets that never list uploads are
// never asked.
func (s *Store) findMultipart() Multipart {
	if s.multipartSet {
		return s.multipart
	}
	b := s.bucket
	multipartOpeners.Lock()
	list := multipartOpeners.list
	multipartOpeners.Unlock()
	for _, open := range list {
		if m := open(b); m != nil {
			return m
		}
	}
	return nil
}

// PendingUploads returns the incomplete multipart uploads under prefix
// (ContentPrefix or DerivativesPrefix), in key order, through the bucket's
// Multipart (see RegisterMultipart and WithMultipart). A bucket without
// one (any but S3, or S3 without storage/s3uploads imported) yields
// nothing. The iteration stops at the first error, which it yields.
func (s *Store) PendingUploads(ctx context.Context, prefix string) iter.Seq2[PendingUpload, error] {
	m := s.findMultipart()
	if m == nil {
		return func(func(PendingUpload, error) bool) {}
	}
	return m.Pending(ctx, prefix)
}

// AbortUpload aborts a pending upload, which deletes its parts. An upload
// already gone (completed or aborted meanwhile) is no error.
func (s *Store) AbortUpload(ctx context.Context, up PendingUpload) error {
	m := s.findMultipart()
	if m == nil {
		return fmt.Errorf("storage: abort the upload of %s: %w", up.Key, errNoMultipart)
	}
	return m.Abort(ctx, up)
}

var errNoMultipart = errors.New("the bucket has no multipart uploads")

// MultipartWriter is an optional capability of a Multipart, found by a
// type assertion: it writes one multipart upload across requests and
// processes, which a ModeMultipart upload needs (see UploadMode). Package
// storage/s3uploads has the one for S3 buckets.
//
// Keys are the bucket's, as blob.Bucket names them.
type MultipartWriter interface {
	Multipart
	// Create starts a multipart upload of key, whose object will have the
	// content type, and returns its ID.
	Create(ctx context.Context, key, contentType string) (uploadID string, err error)
	// UploadPart uploads size bytes of body as the part with the number
	// (1 to Limits().MaxParts). body is seekable so that a retry can
	// read it again. Uploading a number again replaces that part.
	UploadPart(ctx context.Context, key, uploadID string, number int32, body io.ReadSeeker, size int64) (Part, error)
	// Complete makes key hold the parts' bytes in order and ends the
	// upload; parts uploaded but not listed are dropped by the server.
	// Repeating the Complete of an upload already completed is no error.
	Complete(ctx context.Context, key, uploadID string, parts []Part) error
	// Limits returns the server's bounds on parts.
	Limits() MultipartLimits
}

// Part is one uploaded part of a multipart upload.
type Part struct {
	// Number is the part's number, from 1.
	Number int32
	// Size is the part's length in bytes.
	Size int64
	// ETag is what the server returned for the part, which Complete
	// hands back: a part replaced by another writer meanwhile fails the
	// Complete instead of slipping in.
	ETag string
	// CRC32 is the part's CRC32 checksum (base64) when the server
	// returned one; Complete hands it back too.
	CRC32 string
}

// MultipartLimits are a server's bounds on the parts of a multipart
// upload.
type MultipartLimits struct {
	// MinPartSize is the least size of every part but the last; MaxPartSize
	// the most of any.
	MinPartSize, MaxPartSize int64
	// MaxParts is the highest part number.
	MaxParts int32
}

// ObjectWriter is an optional capability of a MultipartWriter, found by a
// type assertion: it puts a whole object, and deletes a key, in one
// request each. A Store whose bucket's Multipart has it writes content
// through it instead of the bucket's driver (see WriteContent): content
// smaller than a part is one PUT, larger content the parts of one
// multipart upload, filled in part buffers from the Store's pool
// (PartBuffers), so that the memory of all writes together is bounded by
// the pool, whatever their number and size. Its deletes skip the request
// that asks whether the key exists. Package storage/s3uploads has the one
// for S3 buckets.
//
// Keys are the bucket's, as blob.Bucket names them.
type ObjectWriter interface {
	MultipartWriter
	// Put makes key hold the size bytes of body, with the content type
	// (the server's default when empty). body is seekable so that a retry
	// can read it again.
	Put(ctx context.Context, key, contentType string, body io.ReadSeeker, size int64) error
	// Delete deletes key. A key already gone is no error.
	Delete(ctx context.Context, key string) error
}

// objectWriter returns the bucket's ObjectWriter, or nil.
func (s *Store) objectWriter() ObjectWriter {
	ow, _ := s.findMultipart().(ObjectWriter)
	return ow
}
