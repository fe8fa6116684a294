// Package faultblob is a test-support gocloud.dev/blob driver that wraps
// another *blob.Bucket and injects failures on demand.
//
// Every operation is delegated to the inner bucket through its portable
// *blob.Bucket API, so the wrapper works over any driver (memblob, fileblob,
// ...). Before delegating, each operation consults a [Faults] value, which
// counts the call and asks a user-supplied function whether this call should
// fail. That lets a test make the blob store fail midway, e.g. "the 2nd
// Delete fails" or "every Delete of keys under derived/ fails until healed":
//
//	inner := memblob.OpenBucket(nil)
//	var faults faultblob.Faults
//	bkt := faultblob.OpenBucket(inner, &faults)
//	faults.Set(func(op, key string) error {
//		if op == faultblob.OpDelete && strings.HasPrefix(key, "derived/") {
//			return errors.New("boom")
//		}
//		return nil
//	})
//	...
//	faults.Set(nil) // heal
//
// Injected errors are reported with gcerrors.Code == gcerrors.Internal (never
// NotFound), and errors.Is/errors.As reach the error returned by the fault
// function (unless that error itself carries a Go CDK error code or is
// gcerrors.ErrNotFound; then only its text is kept, so the code stays
// Internal). Errors from the inner bucket keep their original gcerrors code.
package faultblob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/gcerrors"
)

// Operation names passed to the fault function and accepted by
// [Faults.Calls].
const (
	// OpDelete is Bucket.Delete; the key is the deleted key.
	OpDelete = "delete"
	// OpWrite is a write through Bucket.NewWriter / WriteAll / Upload; it is
	// counted and decided when the writer is closed (the commit point), and
	// the key is the written key.
	OpWrite = "write"
	// OpRead is the opening of a reader (Bucket.NewReader, NewRangeReader,
	// ReadAll, Download; a Seek on an open reader may reopen it and count
	// again); the key is the read key.
	OpRead = "read"
	// OpList is one driver-level list page (Bucket.List, ListPage,
	// IsAccessible); the key is the list prefix.
	OpList = "list"
	// OpAttributes is Bucket.Attributes / Exists; the key is the queried key.
	OpAttributes = "attributes"
	// OpCopy is Bucket.Copy; the key is the destination key.
	OpCopy = "copy"
)

// ErrStall, returned by a fault function (or wrapped by its error), makes
// the call hang instead of failing, as a server that stops answering does:
// it returns only when its context ends, with the context's error.
var ErrStall = errors.New("faultblob: stall")

// InjectedCode is the gcerrors code of every injected failure.
const InjectedCode = gcerrors.Internal

// defaultPageSize is used when the portable type asks for "no maximum".
const defaultPageSize = 1000

// Faults decides, per call, whether an operation fails. Op is "delete",
// "write", "read", "list", "attributes", "copy" (see the Op constants). The
// zero value injects nothing and is ready to use. Faults is safe for
// concurrent use.
type Faults struct {
	mu    sync.Mutex
	fn    func(op, key string) error
	calls map[string]int
}

// Set installs fn, which is called (without any lock held) for every
// subsequent operation with the operation name and key; a non-nil return
// value makes that call fail with that error. Set(nil) heals: no further
// failures are injected. Call counts are not reset.
func (f *Faults) Set(fn func(op, key string) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fn = fn
}

// Calls reports how many calls of op were made through the wrapping buckets
// using f, including calls that failed (injected or not).
func (f *Faults) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// check counts a call of op on key and returns the injected error, if any;
// for ErrStall it waits until ctx ends and returns its error.
func (f *Faults) check(ctx context.Context, op, key string) error {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = make(map[string]int)
	}
	f.calls[op]++
	fn := f.fn
	f.mu.Unlock()
	if fn == nil {
		return nil
	}
	if err := fn(op, key); err != nil {
		if errors.Is(err, ErrStall) {
			<-ctx.Done()
			return ctx.Err()
		}
		return &injectedError{op: op, key: key, err: err}
	}
	return nil
}

// injectedError is the driver-level error for an injected failure.
type injectedError struct {
	op, key string
	err     error
}

func (e *injectedError) Error() string {
	return fmt.Sprintf("faultblob: injected %s failure (key %q): %v", e.op, e.key, e.err)
}

// Unwrap exposes the fault function's error, unless doing so would change
// the reported gcerrors code (or make it look like NotFound).
func (e *injectedError) Unwrap() error {
	if gcerrors.Code(e.err) != gcerrors.Unknown || errors.Is(e.err, gcerrors.ErrNotFound) {
		return nil
	}
	return e.err
}

// OpenBucket returns a *blob.Bucket whose driver delegates to inner and
// consults f before every operation. A nil f injects nothing. Closing the
// returned bucket does not close inner.
func OpenBucket(inner *blob.Bucket, f *Faults) *blob.Bucket {
	if f == nil {
		f = &Faults{}
	}
	return blob.NewBucket(&bucket{inner: inner, faults: f})
}

// bucket implements driver.Bucket over a portable *blob.Bucket.
type bucket struct {
	inner  *blob.Bucket
	faults *Faults
}

var _ driver.Bucket = (*bucket)(nil)

// noAs is the asFunc handed to Before* callbacks: no driver-specific types
// are exposed.
func noAs(any) bool { return false }

// once adapts an optional Before* callback so it runs at most once and sees
// no driver-specific types.
func once(fn func(func(any) bool) error) func(func(any) bool) error {
	if fn == nil {
		return nil
	}
	var done bool
	return func(func(any) bool) error {
		if done {
			return nil
		}
		done = true
		return fn(noAs)
	}
}

// ErrorCode implements driver.Bucket: InjectedCode for injected failures,
// Unimplemented for SignedURL, the inner bucket's code otherwise.
func (b *bucket) ErrorCode(err error) gcerrors.ErrorCode {
	var ie *injectedError
	if errors.As(err, &ie) {
		return InjectedCode
	}
	if errors.Is(err, errNoSignedURL) {
		return gcerrors.Unimplemented
	}
	return gcerrors.Code(err)
}

// As implements driver.Bucket; no driver-specific types are exposed.
func (b *bucket) As(any) bool { return false }

// ErrorAs implements driver.Bucket; no driver-specific types are exposed.
func (b *bucket) ErrorAs(error, any) bool { return false }

// Attributes implements driver.Bucket.
func (b *bucket) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	if err := b.faults.check(ctx, OpAttributes, key); err != nil {
		return nil, err
	}
	a, err := b.inner.Attributes(ctx, key)
	if err != nil {
		return nil, err
	}
	return &driver.Attributes{
		CacheControl:       a.CacheControl,
		ContentDisposition: a.ContentDisposition,
		ContentEncoding:    a.ContentEncoding,
		ContentLanguage:    a.ContentLanguage,
		ContentType:        a.ContentType,
		Metadata:           a.Metadata,
		CreateTime:         a.CreateTime,
		ModTime:            a.ModTime,
		Size:               a.Size,
		MD5:                a.MD5,
		ETag:               a.ETag,
	}, nil
}

// ListPaged implements driver.Bucket via inner.ListPage, passing the page
// token through unchanged, so order is the inner bucket's (lexicographic).
func (b *bucket) ListPaged(ctx context.Context, opts *driver.ListOptions) (*driver.ListPage, error) {
	if err := b.faults.check(ctx, OpList, opts.Prefix); err != nil {
		return nil, err
	}
	token := opts.PageToken
	if len(token) == 0 {
		token = blob.FirstPageToken
	}
	size := opts.PageSize
	if size <= 0 {
		size = defaultPageSize
	}
	objs, next, err := b.inner.ListPage(ctx, token, size, &blob.ListOptions{
		Prefix:     opts.Prefix,
		Delimiter:  opts.Delimiter,
		BeforeList: once(opts.BeforeList),
	})
	if err != nil {
		return nil, err
	}
	page := &driver.ListPage{Objects: make([]*driver.ListObject, 0, len(objs))}
	for _, o := range objs {
		page.Objects = append(page.Objects, &driver.ListObject{
			Key:     o.Key,
			ModTime: o.ModTime,
			Size:    o.Size,
			MD5:     o.MD5,
			IsDir:   o.IsDir,
		})
	}
	if len(next) > 0 {
		page.NextPageToken = next
	}
	return page, nil
}

// NewRangeReader implements driver.Bucket.
func (b *bucket) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *driver.ReaderOptions) (driver.Reader, error) {
	if err := b.faults.check(ctx, OpRead, key); err != nil {
		return nil, err
	}
	r, err := b.inner.NewRangeReader(ctx, key, offset, length, &blob.ReaderOptions{
		BeforeRead: once(opts.BeforeRead),
	})
	if err != nil {
		return nil, err
	}
	return &reader{
		r: r,
		attrs: driver.ReaderAttributes{
			ContentType: r.ContentType(),
			ModTime:     r.ModTime(),
			Size:        r.Size(),
		},
	}, nil
}

// NewTypedWriter implements driver.Bucket. The write fault is decided when
// the writer is closed; an injected failure aborts the inner write, so no
// object is committed (any previous object is left as it was).
func (b *bucket) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	ctx, cancel := context.WithCancel(ctx)
	w, err := b.inner.NewWriter(ctx, key, &blob.WriterOptions{
		BufferSize:                  opts.BufferSize,
		MaxConcurrency:              opts.MaxConcurrency,
		CacheControl:                opts.CacheControl,
		ContentDisposition:          opts.ContentDisposition,
		ContentEncoding:             opts.ContentEncoding,
		ContentLanguage:             opts.ContentLanguage,
		ContentType:                 contentType,
		ContentMD5:                  opts.ContentMD5,
		Metadata:                    opts.Metadata,
		DisableContentTypeDetection: opts.DisableContentTypeDetection,
		BeforeWrite:                 once(opts.BeforeWrite),
		IfNotExist:                  opts.IfNotExist,
	})
	if err != nil {
		cancel()
		return nil, err
	}
	return &writer{w: w, ctx: ctx, cancel: cancel, key: key, faults: b.faults}, nil
}

// Copy implements driver.Bucket.
func (b *bucket) Copy(ctx context.Context, dstKey, srcKey string, opts *driver.CopyOptions) error {
	if err := b.faults.check(ctx, OpCopy, dstKey); err != nil {
		return err
	}
	return b.inner.Copy(ctx, dstKey, srcKey, &blob.CopyOptions{BeforeCopy: once(opts.BeforeCopy)})
}

// Delete implements driver.Bucket. An injected failure leaves the object in
// place.
func (b *bucket) Delete(ctx context.Context, key string, opts *driver.DeleteOptions) error {
	if err := b.faults.check(ctx, OpDelete, key); err != nil {
		return err
	}
	return b.inner.DeleteWithOptions(ctx, key, &blob.DeleteOptions{BeforeDelete: once(opts.BeforeDelete)})
}

// errNoSignedURL is returned by SignedURL.
var errNoSignedURL = errors.New("faultblob: SignedURL is not supported")

// SignedURL implements driver.Bucket; it is not supported and fails with
// gcerrors.Unimplemented.
func (b *bucket) SignedURL(context.Context, string, *driver.SignedURLOptions) (string, error) {
	return "", errNoSignedURL
}

// Close implements driver.Bucket; the inner bucket is left open.
func (b *bucket) Close() error { return nil }

// reader implements driver.Reader over a *blob.Reader.
type reader struct {
	r     *blob.Reader
	attrs driver.ReaderAttributes
}

// Read implements io.Reader.
func (r *reader) Read(p []byte) (int, error) { return r.r.Read(p) }

// Close implements io.Closer.
func (r *reader) Close() error { return r.r.Close() }

// Attributes implements driver.Reader.
func (r *reader) Attributes() *driver.ReaderAttributes { return &r.attrs }

// As implements driver.Reader; no driver-specific types are exposed.
func (r *reader) As(any) bool { return false }

// writer implements driver.Writer over a *blob.Writer.
type writer struct {
	w      *blob.Writer
	ctx    context.Context
	cancel context.CancelFunc
	key    string
	faults *Faults
}

var _ io.WriteCloser = (*writer)(nil)

// Write implements io.Writer.
func (w *writer) Write(p []byte) (int, error) { return w.w.Write(p) }

// Close implements io.Closer. It consults the faults first; on an injected
// failure the inner write is aborted (its context is canceled before it is
// closed), so the object is not committed.
func (w *writer) Close() error {
	defer w.cancel()
	if err := w.faults.check(w.ctx, OpWrite, w.key); err != nil {
		w.cancel()
		_ = w.w.Close()
		return err
	}
	return w.w.Close()
}
