package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// How put writes through an ObjectWriter (S3). Content that ends within
// headSize bytes is put from a small pooled buffer; longer content is read
// into part buffers of writePartSize bytes from the Store's pool
// (PartBuffers): content that ends within one is one PUT, longer content
// a multipart upload whose full parts upload on goroutines, at most
// writeInFlight at once. A write takes its next buffer only once fewer
// than writeInFlight of its parts are uploading, so it holds at most
// writeInFlight part buffers, and all writes and ModeMultipart appends
// together no more than the pool's bound.
//
// Measured against versitygw on loopback (BenchmarkS3Write, 256 MiB, a
// quiet machine; all but the default while a write still took one more
// buffer than it had parts in flight, to fill): 8 MiB parts upload at
// 183-190 MB/s with one in flight (and one filling), 266-293 with two in
// flight and a third filling,
// 273-284 with two in flight and no third buffer (the default: 9 MiB less
// peak RSS than with the third, 47 MiB in all), 267-281 with three or four
// in flight; 16 MiB parts with one in flight 185, 5 MiB parts with two
// 230-258. 5 MiB parts (S3's least) cost more requests for less.
const headSize = chunkSize

// writePartSize and writeInFlight are fixed; they are variables only so
// that the benchmark can compare others (setWriteParts in a test file).
var (
	writePartSize int64 = 8 << 20
	writeInFlight       = 2
)

// headPool holds headSize buffers.
var headPool = sync.Pool{New: func() any { b := make([]byte, headSize); return &b }}

// putObject is put through the bucket's ObjectWriter: it reads u into
// buffers and PUTs it, or uploads it as the parts of one multipart upload
// which it completes once u ended and its content was accepted (u's Read
// returned io.EOF), and aborts on any failure. On failure it deletes key,
// as put does, and returns the cause said as what.
func (s *Store) putObject(ctx context.Context, ow ObjectWriter, key, what, contentType string, u *upload) error {
	err := s.writeObject(ctx, ow, key, contentType, u)
	switch {
	case err == nil:
		return nil
	case u.wd.hasFired():
		err = fmt.Errorf("storage: %s: %w", what, s.timedOut(errors.Join(err, u.err)))
	case u.err != nil:
		err = u.err // the source failed: its error is the cause
	default:
		err = wrap(err, "%s", what)
	}
	s.discard(ctx, key)
	return err
}

func (s *Store) writeObject(ctx context.Context, ow ObjectWriter, key, contentType string, u *upload) (err error) {
	hp := headPool.Get().(*[]byte)
	head := *hp
	n, rerr := io.ReadFull(u, head)
	u.wd.disarm() // the waits on the bucket are bounded by s.call
	if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
		err := s.putWhole(u.wctx, ow, key, contentType, head[:n])
		headPool.Put(hp)
		return err
	}
	if rerr != nil {
		headPool.Put(hp)
		return rerr
	}
	lim := ow.Limits()
	size := int(min(max(writePartSize, lim.MinPartSize), lim.MaxPartSize))
	buf, err := s.parts.get(ctx, size)
	if err != nil {
		headPool.Put(hp)
		return err
	}
	fill := copy(buf, head[:n])
	headPool.Put(hp)
	defer func() {
		if buf != nil {
			s.parts.put(buf)
		}
	}()

	w := &partWriter{s: s, m: ow, maxNumber: lim.MaxParts, ctx: u.wctx, key: key, number: 1, contentType: contentType}
	// Parts upload on goroutines, at most writeInFlight at once; each
	// gives its buffer back to the pool. Parts are numbered in the order
	// the buffers filled, whatever the order they finish in.
	var (
		wg       sync.WaitGroup
		sem      = make(chan struct{}, writeInFlight)
		mu       sync.Mutex
		firstErr error
	)
	failed := func() error {
		mu.Lock()
		defer mu.Unlock()
		return firstErr
	}
	defer func() {
		wg.Wait()
		if w.uploadID != "" && (err != nil || failed() != nil) {
			s.abortMultipart(ctx, ow, key, w.uploadID)
		}
	}()
	var parts []Part
	for {
		k, rerr := io.ReadFull(u, buf[fill:])
		u.wd.disarm()
		fill += k
		end := rerr == io.EOF || rerr == io.ErrUnexpectedEOF
		if rerr != nil && !end {
			return rerr
		}
		if end && w.number == 1 {
			// It fits in one part: one PUT.
			return s.putWhole(u.wctx, ow, key, contentType, buf[:fill])
		}
		if fill > 0 {
			if w.uploadID == "" {
				// Start the upload before the first part goes: the
				// goroutines need its ID.
				if err := w.start(); err != nil {
					return err
				}
			}
			select {
			case sem <- struct{}{}:
			case <-u.wctx.Done():
				return u.wctx.Err()
			}
			if err := failed(); err != nil {
				<-sem
				return err
			}
			full, number := buf[:fill], w.number
			w.number++
			mu.Lock()
			parts = append(parts, Part{Number: number})
			i := len(parts) - 1
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, err := w.uploadPart(number, full)
				s.parts.put(full)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				parts[i] = p
				mu.Unlock()
				<-sem
			}()
			buf, fill = nil, 0
		}
		if end {
			break
		}
		// The next buffer only once fewer than writeInFlight parts are
		// uploading: the write then holds at most writeInFlight buffers,
		// all of which may be uploading at once.
		select {
		case sem <- struct{}{}:
			<-sem
		case <-u.wctx.Done():
			return u.wctx.Err()
		}
		if buf, err = s.parts.get(ctx, size); err != nil {
			return err
		}
	}
	wg.Wait()
	if err := failed(); err != nil {
		return err
	}
	cctx, done := s.call(u.wctx)
	if err := done(ow.Complete(cctx, key, w.uploadID, parts)); err != nil {
		return wrap(err, "complete the multipart upload of %s", key)
	}
	return nil
}

// putWhole puts p as the whole object.
func (s *Store) putWhole(ctx context.Context, ow ObjectWriter, key, contentType string, p []byte) error {
	cctx, done := s.call(ctx)
	return done(ow.Put(cctx, key, contentType, bytes.NewReader(p), int64(len(p))))
}

// start starts the multipart upload.
func (w *partWriter) start() error {
	ct := w.contentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	cctx, done := w.s.call(w.ctx)
	id, err := w.m.Create(cctx, w.key, ct)
	if err = done(err); err != nil {
		return wrap(err, "start the multipart upload of %s", w.key)
	}
	w.uploadID = id
	return nil
}

// uploadPart uploads p as the part with the number, of the upload start
// started; it may run on several goroutines at once.
func (w *partWriter) uploadPart(number int32, p []byte) (Part, error) {
	if number > w.maxNumber {
		return Part{}, fmt.Errorf("%w: more than %d parts", ErrTooLarge, w.maxNumber)
	}
	cctx, done := w.s.call(w.ctx)
	part, err := w.m.UploadPart(cctx, w.key, w.uploadID, number, bytes.NewReader(p), int64(len(p)))
	if err = done(err); err != nil {
		return Part{}, wrap(err, "upload part %d of %s", number, w.key)
	}
	return part, nil
}
