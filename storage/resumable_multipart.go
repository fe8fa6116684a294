package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// Multipart mode: the bytes of an upload as the parts of one multipart
// upload of the content key, the bytes after the last part in a tail
// object; FinishUpload completes the multipart upload.

// defaultPartSize is the part size of a ModeMultipart append when
// AppendOptions.PartSize does not say.
const defaultPartSize = 8 << 20

// defaultPartBuffers is how many part buffers a Store holds at most,
// unless PartBuffers says.
const defaultPartBuffers = 8

// PartBuffers bounds the memory of the Store's ModeMultipart appends, and
// of its writes through an ObjectWriter (8 MiB parts, two buffers per
// write at most, both of which may be uploading): at most n part buffers (of
// AppendOptions.PartSize, 8 MiB by default) are held at once by all of
// them, and a write or append that finds none free waits for one (its
// client's bytes wait in TCP). An append holds two buffers at most (one
// uploading, one filling), and FinishUpload one for the tail, whatever
// the upload's size. The default is 8; n < 1 means 1.
func PartBuffers(n int) Option {
	return func(s *Store) { s.parts = newPartPool(max(n, 1)) }
}

// partPool hands out part buffers, at most cap(sem) at once, and keeps
// those given back for the next.
type partPool struct {
	sem  chan struct{}
	free chan []byte
}

func newPartPool(n int) *partPool {
	return &partPool{sem: make(chan struct{}, n), free: make(chan []byte, n)}
}

// get returns a buffer of size bytes, once fewer than the bound are held.
func (p *partPool) get(ctx context.Context, size int) ([]byte, error) {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case b := <-p.free:
		if cap(b) >= size {
			return b[:size], nil
		}
	default:
	}
	return make([]byte, size), nil
}

// put gives a buffer get returned back.
func (p *partPool) put(b []byte) {
	select {
	case p.free <- b:
	default:
	}
	<-p.sem
}

// multipartWriter returns the bucket's MultipartWriter, or nil.
func (s *Store) multipartWriter() MultipartWriter {
	m, _ := s.findMultipart().(MultipartWriter)
	return m
}

// appendMultipart is Append in ModeMultipart. It reads st's tail back
// (hashed already: its bytes do not go through the pipeline) into a part
// buffer, fills it from r, and uploads each full buffer as a part while
// it fills the next; what is left at the end becomes a part if it is large
// enough, else a new tail.
// It returns the new state (st when no byte came), the cause of a cut kept
// under cfg.keep, and a failure, after which nothing it wrote is part of
// any state (a multipart upload it started is aborted).
func (s *Store) appendMultipart(ctx context.Context, id string, st *UploadState, r io.Reader, cfg pipeConfig, o *AppendOptions) (next *UploadState, cut, err error) {
	m := s.multipartWriter()
	lim := m.Limits()
	size := o.PartSize
	if size <= 0 {
		size = defaultPartSize
	}
	size = min(max(size, lim.MinPartSize), lim.MaxPartSize)
	if st.Tail != nil && st.Tail.Size >= lim.MinPartSize {
		return nil, nil, fmt.Errorf("%w: a tail of %d bytes, not less than a part", ErrUploadState, st.Tail.Size)
	}
	s.dropStaleTails(ctx, id, st)
	buf, err := s.parts.get(ctx, int(size))
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if buf != nil {
			s.parts.put(buf)
		}
	}()
	fill := 0
	if st.Tail != nil {
		if err := s.readTail(ctx, id, st.Tail, buf[:st.Tail.Size]); err != nil {
			return nil, nil, err
		}
		fill = int(st.Tail.Size)
	}
	u := newUpload(ctx, r, cfg, s.timeout)
	defer u.release()
	// The last part number is kept for the tail FinishUpload uploads.
	w := &partWriter{s: s, m: m, maxNumber: lim.MaxParts - 1, ctx: u.wctx, key: ContentKey(id),
		uploadID: st.MultipartID, number: max(st.NextPart, 1), contentType: o.ContentType}
	defer func() {
		if err != nil && st.MultipartID == "" && w.uploadID != "" {
			s.abortMultipart(ctx, m, w.key, w.uploadID)
		}
	}()
	// A full buffer uploads on a goroutine while the next one fills, one
	// at a time; the goroutine gives its buffer back to the pool. settle
	// waits for it.
	var inflight chan error
	settle := func() error {
		if inflight == nil {
			return nil
		}
		err := <-inflight
		inflight = nil
		return err
	}
	defer func() { _ = settle() }() // before the abort above
	for {
		if buf == nil {
			// u.wctx: once ctx is done, what was read may still be kept.
			if buf, err = s.parts.get(u.wctx, int(size)); err != nil {
				return nil, nil, err
			}
		}
		k, rerr := io.ReadFull(u, buf[fill:])
		u.wd.disarm() // the waits on the bucket are bounded by s.call
		fill += k
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return nil, nil, rerr
		}
		if err := settle(); err != nil {
			return nil, nil, err
		}
		full, done := buf, make(chan error, 1)
		go func() {
			err := w.upload(full)
			s.parts.put(full)
			done <- err
		}()
		inflight, buf, fill = done, nil, 0
	}
	if err := settle(); err != nil {
		return nil, nil, err
	}
	if u.res.Size == 0 {
		return st, u.cut, nil
	}
	if int64(fill) >= lim.MinPartSize {
		if err := w.upload(buf[:fill]); err != nil {
			return nil, nil, err
		}
		fill = 0
	}
	next = &UploadState{
		Mode: ModeMultipart, Size: st.Size + u.res.Size, MultipartID: w.uploadID,
		Parts: append(slices.Clip(st.Parts), w.parts...), NextPart: w.number,
	}
	if fill > 0 {
		if next.Tail, err = s.writeTail(u.wctx, id, buf[:fill]); err != nil {
			return nil, nil, err
		}
	}
	return next, u.cut, nil
}

// partWriter uploads the parts of one append, starting the multipart
// upload with the first.
type partWriter struct {
	s           *Store
	m           MultipartWriter
	maxNumber   int32 // the highest part number it may upload
	ctx         context.Context
	key         string
	uploadID    string
	number      int32
	contentType string
	parts       []Part
}

// upload uploads p as the next part.
func (w *partWriter) upload(p []byte) error {
	if w.number > w.maxNumber {
		return fmt.Errorf("%w: more than %d parts", ErrTooLarge, w.maxNumber)
	}
	if w.uploadID == "" {
		if err := w.start(); err != nil {
			return err
		}
	}
	cctx, done := w.s.call(w.ctx)
	part, err := w.m.UploadPart(cctx, w.key, w.uploadID, w.number, bytes.NewReader(p), int64(len(p)))
	if err = done(err); err != nil {
		return wrap(err, "upload part %d of %s", w.number, w.key)
	}
	w.parts = append(w.parts, part)
	w.number++
	return nil
}

// abortMultipart aborts a multipart upload, twice (parts still uploading
// during an abort may outlive it), as cleanup: its failure is not
// reported, and it runs even if ctx is done.
func (s *Store) abortMultipart(ctx context.Context, m Multipart, key, uploadID string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	up := PendingUpload{Key: key, ID: uploadID}
	for range 2 {
		_ = m.Abort(dctx, up)
	}
}

// writeTail writes p as a new tail object, under a fresh name.
func (s *Store) writeTail(ctx context.Context, id string, p []byte) (*Tail, error) {
	var r [8]byte
	_, _ = rand.Read(r[:])
	t := &Tail{Name: "tail-" + hex.EncodeToString(r[:]), Size: int64(len(p))}
	cctx, done := s.call(ctx)
	err := done(s.bucket.WriteAll(cctx, t.Key(id), p, &blob.WriterOptions{
		ContentType: "application/octet-stream", DisableContentTypeDetection: true,
	}))
	if err != nil {
		s.discard(ctx, t.Key(id))
		return nil, wrap(err, "write the tail of %s", id)
	}
	return t, nil
}

// readTail reads the tail object into p, which has its size.
func (s *Store) readTail(ctx context.Context, id string, t *Tail, p []byte) error {
	obj, err := s.open(ctx, t.Key(id))
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("storage: read the tail of %s: %w: %w", id, ErrUploadLost, err)
	}
	if err != nil {
		return err
	}
	defer obj.Close()
	if obj.Size() != t.Size {
		return fmt.Errorf("storage: read the tail of %s: %w: %d bytes of %d", id, ErrUploadLost, obj.Size(), t.Size)
	}
	if _, err := io.ReadFull(obj, p); err != nil {
		return fmt.Errorf("storage: read the tail of %s: %w", id, err)
	}
	return nil
}

// dropStaleTails deletes the tails under the upload's prefix other than
// st's: those of states replaced since (st is saved: it was handed back),
// or of appends whose result was never saved. It is cleanup: a failure
// is not reported (DiscardUpload removes what is left).
func (s *Store) dropStaleTails(ctx context.Context, id string, st *UploadState) {
	it := s.bucket.List(&blob.ListOptions{Prefix: UploadPrefix(id) + "tail-"})
	for {
		cctx, done := s.call(ctx)
		obj, err := it.Next(cctx)
		if done(err) != nil {
			return
		}
		if st.Tail == nil || obj.Key != st.Tail.Key(id) {
			_ = s.deleteKey(ctx, obj.Key)
		}
	}
}

// finishMultipart makes st's bytes the content: one PUT of the tail (or
// of nothing) when the upload has no parts, else the tail uploaded as the
// last part and the multipart upload completed. Content of st.Size bytes
// is that of an earlier run.
func (s *Store) finishMultipart(ctx context.Context, id string, st *UploadState, o *FinishOptions) error {
	key := ContentKey(id)
	cctx, done := s.call(ctx)
	attrs, err := s.bucket.Attributes(cctx, key)
	err = done(err)
	switch {
	case err == nil && attrs.Size == st.Size:
		return nil
	case err != nil && gcerrors.Code(err) != gcerrors.NotFound:
		return wrap(err, "finish %s", id)
	}
	var tail []byte
	if st.Tail != nil {
		buf, err := s.parts.get(ctx, int(st.Tail.Size))
		if err != nil {
			return err
		}
		defer s.parts.put(buf)
		if err := s.readTail(ctx, id, st.Tail, buf); err != nil {
			return err
		}
		tail = buf
	}
	if st.MultipartID == "" {
		ct := o.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		cctx, done := s.call(ctx)
		err := done(s.bucket.WriteAll(cctx, key, tail, &blob.WriterOptions{ContentType: ct, DisableContentTypeDetection: true}))
		if err != nil {
			s.discard(ctx, key)
			return wrap(err, "finish %s", id)
		}
		return nil
	}
	m := s.multipartWriter()
	parts := st.Parts
	if tail != nil {
		w := &partWriter{s: s, m: m, maxNumber: m.Limits().MaxParts, ctx: ctx, key: key, uploadID: st.MultipartID, number: max(st.NextPart, 1)}
		if err := w.upload(tail); err != nil {
			return err
		}
		parts = append(slices.Clip(parts), w.parts...)
	}
	cctx, done = s.call(ctx)
	if err := done(m.Complete(cctx, key, st.MultipartID, parts)); err != nil {
		return wrap(err, "finish %s", id)
	}
	return nil
}

// rollbackMultipart removes what the append that made res wrote past
// kept: its tail, and its multipart upload if it started one. Its parts
// are never listed in a Complete, which drops them.
func (s *Store) rollbackMultipart(ctx context.Context, id string, kept, res *UploadState) error {
	if t := res.Tail; t != nil && (kept.Tail == nil || kept.Tail.Name != t.Name) {
		if err := s.deleteKey(ctx, t.Key(id)); err != nil {
			return err
		}
	}
	if kept.MultipartID == "" && res.MultipartID != "" {
		if m := s.multipartWriter(); m != nil {
			up := PendingUpload{Key: ContentKey(id), ID: res.MultipartID}
			cctx, done := s.call(ctx)
			if err := done(m.Abort(cctx, up)); err != nil {
				return wrap(err, "roll back %s", id)
			}
		}
	}
	return nil
}

// abortUploads aborts st's multipart upload and every other pending one
// of the content key (started by appends whose results were never saved).
func (s *Store) abortUploads(ctx context.Context, id string, st *UploadState) error {
	m := s.findMultipart()
	if m == nil {
		return nil
	}
	key := ContentKey(id)
	if st != nil && st.MultipartID != "" {
		for range 2 { // parts uploading during an abort may outlive it
			cctx, done := s.call(ctx)
			if err := done(m.Abort(cctx, PendingUpload{Key: key, ID: st.MultipartID})); err != nil {
				return wrap(err, "discard %s", id)
			}
		}
	}
	for up, err := range m.Pending(ctx, key) {
		if err != nil {
			return wrap(err, "discard %s", id)
		}
		if up.Key != key {
			continue
		}
		cctx, done := s.call(ctx)
		if err := done(m.Abort(cctx, up)); err != nil {
			return wrap(err, "discard %s", id)
		}
	}
	return nil
}

// openMultipart reads the bytes of a ModeMultipart upload that has no
// parts yet: its tail. Parts cannot be read before the upload is finished.
func (s *Store) openMultipart(ctx context.Context, id string, st *UploadState) (io.ReadCloser, error) {
	if len(st.Parts) > 0 {
		return nil, fmt.Errorf("storage: open upload %s: %w: the parts of a multipart upload cannot be read before FinishUpload", id, errors.ErrUnsupported)
	}
	if st.Tail == nil {
		return io.NopCloser(strings.NewReader("")), nil
	}
	obj, err := s.open(ctx, st.Tail.Key(id))
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("storage: open upload %s: %w: %w", id, ErrUploadLost, err)
	}
	if err != nil {
		return nil, err
	}
	if obj.Size() != st.Tail.Size {
		_ = obj.Close()
		return nil, fmt.Errorf("storage: open upload %s: %w: a tail of %d bytes of %d", id, ErrUploadLost, obj.Size(), st.Tail.Size)
	}
	return obj, nil
}
