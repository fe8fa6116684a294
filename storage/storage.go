// Package storage keeps attachment content in a gocloud.dev/blob bucket.
//
// A Store owns the key layout: an attachment's content lives at
// ContentKey(id) and its derivatives (thumbnails) under DerivativePrefix(id),
// keys made from the server-assigned ID alone, never from anything a client
// sent. Writes stream: content goes from the reader into the bucket while
// it is hashed and counted, and the driver is told it ended only when it is
// complete and accepted; on any failure nothing is left under the key once
// WriteContent returns. Writes work the same way on every driver.
//
// Buckets are opened by URL with the drivers the program imports, as
// gocloud.dev/blob does:
//
//	import _ "gocloud.dev/blob/fileblob" // file:///path/to/dir
//	import _ "gocloud.dev/blob/memblob"  // mem://
//	import _ "gocloud.dev/blob/s3blob"   // s3://bucket?region=...
//
// or handed over with New. An S3 program also imports storage/s3uploads,
// so that PendingUploads and AbortUpload reach the bucket's incomplete
// multipart uploads (see Multipart), and so that content is written from
// the Store's pool of part buffers, one request per small object and per
// delete (see ObjectWriter). Listing (Items) is the one place where the
// driver matters: a Store that knows a fileblob bucket's directory (Open
// of a file:// URL, or New with FileDir) reads the directory itself;
// any other is listed through gocloud.dev.
//
// Resumable uploads keep the bytes of an unfinished upload under
// UploadPrefix(id) across requests and processes: BeginUpload, then
// Append for each piece, each returning an UploadState and the running
// SHA-256 state that the caller saves and hands back, then FinishUpload,
// which makes the bytes the content, or DiscardUpload. A Store that knows
// its bucket's directory appends in place to one file and renames it into
// the content key at the end (ModeFile). A Store whose bucket's Multipart
// is a MultipartWriter (S3 with storage/s3uploads) uploads the bytes as
// the parts of one multipart upload of the content key, keeps the bytes
// after the last part in a small tail object, and completes the upload at
// the end, with no copy (ModeMultipart); its part buffers come from a
// pool the Store's appends share (PartBuffers), so memory is bounded per
// Store, never by an upload's size. Any other writes an object per append
// and copies them into the content key at the end (ModeChunks). Bytes
// written past a saved state (a crash, a failed checksum) are never read
// as the upload's: the next Append cuts them off, writes over them or
// leaves them out of the parts it completes, Rollback removes them, and
// DiscardUpload removes every key of the upload and aborts its multipart
// uploads.
package storage

import (
	"context"
	"errors"
	"io"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// Errors the Store reports; test them with errors.Is.
var (
	// ErrNotFound: the bucket has no such content or derivative.
	ErrNotFound = errors.New("storage: not found")
	// ErrTooLarge: the content was longer than WriteOptions.MaxBytes.
	ErrTooLarge = errors.New("storage: content too large")
)

// Store keeps attachment content in a blob bucket. It is safe for
// concurrent use.
type Store struct {
	bucket *blob.Bucket
	owned  bool
	// dir is the directory holding the bucket's keys, when the Store was
	// told it (FileDir, or Open of a file:// URL): Items reads it itself
	// (see dirItems). Empty otherwise.
	dir string
	// timeout bounds each call to the bucket (CallTimeout); zero bounds
	// nothing.
	timeout time.Duration
	// multipart lists and aborts the bucket's incomplete multipart
	// uploads, when WithMultipart (multipartSet) gave it; else the
	// registered openers are asked (findMultipart).
	multipart    Multipart
	multipartSet bool
	// parts bounds the part buffers of ModeMultipart appends
	// (PartBuffers); shared by the Stores WithCallTimeout makes.
	parts *partPool
}

// Bucket returns the underlying bucket.
func (s *Store) Bucket() *blob.Bucket { return s.bucket }

// Close closes the bucket if the Store opened it.
func (s *Store) Close() error {
	if s.owned {
		return s.bucket.Close()
	}
	return nil
}

// ContentKey is the key of the content of the attachment with the ID.
func ContentKey(id string) string { return ContentPrefix + id }

// DerivativePrefix is the key prefix under which the derivatives of the
// attachment with the ID are kept.
func DerivativePrefix(id string) string { return DerivativesPrefix + id + "/" }

// Delete removes the content of the attachment with the ID and every
// derivative under DerivativePrefix(id). Keys already gone are no error,
// so a failed Delete can simply be retried.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := s.deleteKey(ctx, ContentKey(id)); err != nil {
		return err
	}
	it := s.bucket.List(&blob.ListOptions{Prefix: DerivativePrefix(id)})
	for {
		cctx, done := s.call(ctx)
		obj, err := it.Next(cctx)
		err = done(err)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return wrap(err, "list derivatives of %s", id)
		}
		if err := s.deleteKey(ctx, obj.Key); err != nil {
			return err
		}
	}
}

// deleteKey deletes key; a key already gone is no error. Through the
// bucket's ObjectWriter when it has one: one request, where s3blob asks
// whether the key exists (HEAD) before each DELETE, only to report a
// missing key, which is no error here.
func (s *Store) deleteKey(ctx context.Context, key string) error {
	cctx, done := s.call(ctx)
	var err error
	if ow := s.objectWriter(); ow != nil {
		err = done(ow.Delete(cctx, key))
	} else {
		err = done(s.bucket.Delete(cctx, key))
	}
	if err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return wrap(err, "delete %s", key)
	}
	return nil
}

// Exists reports whether the content of the attachment with the ID is
// stored.
func (s *Store) Exists(ctx context.Context, id string) (bool, error) {
	cctx, done := s.call(ctx)
	ok, err := s.bucket.Exists(cctx, ContentKey(id))
	if err = done(err); err != nil {
		return false, wrap(err, "exists %s", id)
	}
	return ok, nil
}
