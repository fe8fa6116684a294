package attachment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/storage"
)

// appendLease is how long an append holds its upload without renewing
// the lease; it renews it every third of that while it reads. A holder
// that died is replaced after at most this long.
const appendLease = 15 * time.Second

// claim takes the lease of u for the calling request: a CAS that names a
// new owner. An upload whose lease another holds is a *LockedError, as is
// one changed since u was read (another request claimed it first).
func (s *Service) claim(ctx context.Context, up metadata.Uploads, u *metadata.Upload) (*metadata.Upload, error) {
	now := s.core.now()
	if u.LockOwner != "" && u.LockedUntil.After(now) {
		return nil, &LockedError{Until: u.LockedUntil}
	}
	n := u.Clone()
	n.LockOwner = uuid.NewString()
	n.LockedUntil = now.Add(appendLease)
	n.Interrupt = false
	n.UpdatedAt = now
	stored, err := up.UpdateUpload(ctx, n)
	if errors.Is(err, metadata.ErrStale) {
		return nil, &LockedError{}
	}
	if err != nil {
		return nil, storeErr(u.ID, "claim upload", err)
	}
	return stored, nil
}

// release clears the lease of u (held by the caller), on a context that
// outlives the request's; a failure is logged (the lease then expires).
// It reports whether the upload is gone (terminated meanwhile).
func (c *core) release(ctx context.Context, up metadata.Uploads, u *metadata.Upload) (gone bool) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.CommitTimeout)
	defer cancel()
	n := u.Clone()
	n.LockOwner, n.LockedUntil, n.Interrupt, n.UpdatedAt = "", time.Time{}, false, c.timestamp()
	_, err := c.saveHeld(rctx, up, n, u.LockOwner)
	if errors.Is(err, metadata.ErrNotFound) {
		return true
	}
	if err != nil {
		c.log.Warn("attachment: release an upload's lease (it expires)", "id", u.ID, "err", err)
	}
	return false
}

// renewal renews the lease of an upload while an append reads its body.
type renewal struct {
	stop chan struct{}
	done chan struct{}
	u    *metadata.Upload // as last stored, once done is closed
	err  error            // why a renewal failed (the append was cancelled)
}

// renew starts watching u's session every leaseCheck and renewing its
// lease every third of appendLease. An interrupt asked by another
// request calls interrupt; a renewal that fails (the upload was
// terminated, or claimed by another after the lease lapsed) calls cancel,
// which ends the append.
func (c *core) renew(ctx context.Context, up metadata.Uploads, u *metadata.Upload, interrupt, cancel func()) *renewal {
	r := &renewal{stop: make(chan struct{}), done: make(chan struct{}), u: u}
	go func() {
		defer close(r.done)
		t := time.NewTicker(leaseCheck)
		defer t.Stop()
		renewed := c.now()
		for {
			select {
			case <-r.stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if c.now().Sub(renewed) > appendLease-leaseFence {
				// The store has not taken a renewal for almost the whole
				// lease: another request may claim the upload soon, and
				// two must never write its bytes at once. Stop.
				r.err = errLeaseLapsed
				cancel()
				return
			}
			cur, err := up.GetUpload(ctx, r.u.Tenant, r.u.ID)
			switch {
			case errors.Is(err, metadata.ErrNotFound):
				r.err = err
				cancel()
				return
			case err != nil:
				continue // the store is out: try again; the lease is long
			case cur.LockOwner != r.u.LockOwner:
				r.err = metadata.ErrStale
				cancel()
				return
			case cur.Interrupt:
				interrupt() // the append saves and lets go soon
			}
			if c.now().Sub(renewed) < appendLease/3 {
				continue
			}
			n := cur.Clone()
			n.LockedUntil = c.now().Add(appendLease)
			stored, err := up.UpdateUpload(ctx, n)
			switch {
			case err == nil:
				r.u, renewed = stored, c.now()
			case errors.Is(err, metadata.ErrNotFound):
				r.err = err
				cancel()
				return
			}
			// ErrStale: an interrupt was asked meanwhile; the next
			// check reads it.
		}
	}()
	return r
}

// end stops the renewal and returns the upload as last stored, or why
// the lease was lost.
func (r *renewal) end() (*metadata.Upload, error) {
	close(r.stop)
	<-r.done
	return r.u, r.err
}

// AppendUpload appends req.Body to the resumable upload with the ID, which
// by created, and returns its new state. An offset other than the
// upload's is an *OffsetError (ErrOffsetMismatch) and changes nothing;
// an upload another request is appending to is a *LockedError
// (ErrLocked). Bytes past the declared length, or past
// Options.MaxFileSize, are ErrTooLarge and change nothing. A body that
// fails midway keeps what was read before it failed, and the error is
// returned. Once the first bytes decide the type, a type that
// Options.AllowedTypes does not allow ends the upload (ErrUnsupportedType,
// nothing kept).
//
// The append that brings the upload to its length commits it: its
// digests are checked against NewUpload.File's, its type detected, its
// record built as every upload's and asked about by the Service's commit
// checks (WithCommitCheck), then created in one transaction with the
// session's removal and its processing jobs. A failed check removes
// everything (nothing is stored) and returns the check's error; the
// answer's Attachment is set on success. Once its bytes are in, the
// commit runs on when ctx ends, bounded by Options.CommitTimeout.
func (s *Service) AppendUpload(ctx context.Context, id, by string, req *AppendRequest) (*UploadInfo, error) {
	return s.appendUpload(ctx, id, by, req, true)
}

// appendUpload is AppendUpload. With useSaved, it starts from the session
// as this Service last saved it (savedSessions), if it has it and it
// still fits the request, instead of reading it: the next append of a
// client usually comes to the instance that took its last one. When the
// stored session turns out to have moved on (the claim finds another
// version), it starts again from the store.
func (s *Service) appendUpload(ctx context.Context, id, by string, req *AppendRequest, useSaved bool) (*UploadInfo, error) {
	up, err := s.uploads()
	if err != nil {
		return nil, err
	}
	c := s.core
	var u *metadata.Upload
	if useSaved {
		u = c.saved.take(id)
		if u != nil && (u.Tenant != s.tenant || u.CreatedBy != by || u.Finishing || u.Offset != req.Offset ||
			c.heldByOther(u) || u.ExpiresAt.Before(c.now())) {
			u = nil // not the simple case: read the session
		}
	}
	fromSaved := u != nil
	if u == nil {
		if u, err = s.session(ctx, up, id, by); err != nil {
			return nil, err
		}
	}
	if u.Finishing && u.Concat == metadata.ConcatPartial {
		// A complete partial takes no more bytes.
		if req.Offset != u.Offset {
			return nil, &OffsetError{Expected: u.Offset, Provided: req.Offset}
		}
		return s.finishPartial(ctx, up, u, false)
	}
	if u.Finishing {
		// A completion cut off before: finish it (the bytes are all in).
		if u, err = s.claim(ctx, up, u); err != nil {
			return nil, err
		}
		return s.commitUpload(ctx, up, u)
	}
	if req.Offset != u.Offset {
		return nil, &OffsetError{Expected: u.Offset, Provided: req.Offset}
	}
	var si sessionInfo
	if err := json.Unmarshal(u.Info, &si); err != nil {
		return nil, fmt.Errorf("attachment: upload %s: malformed info: %w", id, err)
	}
	length := u.Length
	if req.SetLength > 0 {
		switch {
		case length >= 0 && req.SetLength != length:
			return nil, inputErr(ErrInvalid, "upload %s has length %d, not %d", id, length, req.SetLength)
		case req.SetLength < u.Offset:
			return nil, inputErr(ErrInvalid, "upload %s already has %d bytes, more than %d", id, u.Offset, req.SetLength)
		}
		if err := c.checkLength(si.Name, req.SetLength); err != nil {
			return nil, err
		}
		length = req.SetLength
	}
	maxBytes := length
	if maxBytes < 0 {
		maxBytes = max(c.opts.MaxFileSize, 0)
	}
	st := new(storage.UploadState)
	if err := st.UnmarshalBinary(u.Storage); err != nil {
		return nil, fmt.Errorf("attachment: upload %s: %w", id, err)
	}
	var hs hashState
	if len(u.Hash) > 0 {
		if err := json.Unmarshal(u.Hash, &hs); err != nil {
			return nil, fmt.Errorf("attachment: upload %s: malformed hash state: %w", id, err)
		}
	}

	if u, err = s.claim(ctx, up, u); err != nil {
		var le *LockedError
		if fromSaved && errors.As(err, &le) && le.Until.IsZero() {
			// Changed since this Service saved it: read it.
			return s.appendUpload(ctx, id, by, req, false)
		}
		return nil, err
	}
	owner := u.LockOwner
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	run := &appendRun{body: req.Body, cancel: cancel, done: make(chan struct{})}
	c.appends.Store(id, run)
	defer func() {
		c.appends.CompareAndDelete(id, run)
		close(run.done)
	}()
	ren := c.renew(actx, up, u, run.interrupt, func() {
		// The lease is lost: stop reading at once, even a Read blocked on
		// a silent connection.
		if i, ok := req.Body.(interface{ Interrupt() }); ok {
			i.Interrupt()
		}
		cancel()
	})
	head := &headWriter{head: append([]byte(nil), u.Head...)}
	body := req.Body
	if body == nil {
		body = eofReader{}
	}
	ao := &storage.AppendOptions{
		MaxBytes: maxBytes, Hash: hs.SHA256, MD5: si.MD5 != nil, MD5Hash: hs.MD5, KeepPrefix: true,
	}
	if req.Checksum != nil {
		ao.ChunkHash, ao.KeepPrefix = req.Checksum.Hash, false
	}
	res, aerr := c.content.Append(actx, id, st, io.TeeReader(body, head), ao)
	u, lost := ren.end()
	if aerr != nil && run.interrupted.Load() {
		aerr = fmt.Errorf("%w (%v)", errInterrupted, aerr) // the cut read is not the client's error
	}
	if lost != nil {
		c.rollback(ctx, id, st, res)
		if errors.Is(lost, metadata.ErrNotFound) {
			c.discardLeft(ctx, id)
		}
		return nil, leaseErr(id, lost)
	}
	if aerr != nil && errors.Is(aerr, storage.ErrTooLarge) {
		c.rollback(ctx, id, st, res)
		c.release(ctx, up, u)
		return nil, inputErr(ErrTooLarge, "upload %s would pass %d bytes", id, maxBytes)
	}
	if aerr != nil && res.State.Size == st.Size {
		if c.release(ctx, up, u) {
			// Terminated while it read: its bytes went with it.
			c.discardLeft(ctx, id)
			return nil, notFound(id)
		}
		return nil, fmt.Errorf("attachment: append to upload %s: %w", id, aerr)
	}

	if aerr == nil && req.Checksum != nil && !bytes.Equal(req.Checksum.Hash.Sum(nil), req.Checksum.Sum) {
		c.rollback(ctx, id, st, res)
		c.release(ctx, up, u)
		return nil, inputErr(ErrChunkMismatch, "the %d bytes appended to upload %s do not match their checksum: discarded", res.N, id)
	}
	offset := res.State.Size
	if aerr == nil && req.Complete {
		if length >= 0 && offset != length {
			c.rollback(ctx, id, st, res)
			c.release(ctx, up, u)
			return nil, inputErr(ErrInvalid, "upload %s is complete at %d bytes, not its length %d", id, offset, length)
		}
		length = offset
	}
	// Every byte of a known length is in: complete, even if the body
	// then failed (a client that hung up after its last byte).
	done := length >= 0 && offset == length
	newHead := head.head[:min(int64(len(head.head)), offset, sniffLen)]
	if u.Concat != metadata.ConcatPartial && ((len(newHead) == sniffLen && len(u.Head) < sniffLen) || done) {
		if _, _, err := c.typeOf(si.Name, newHead, si.Claim); err != nil {
			s.discardUpload(ctx, up, u, false)
			return nil, err
		}
	}

	n := u.Clone()
	n.Length, n.Offset, n.Head, n.Finishing, n.Interrupt = length, offset, newHead, done, false
	if n.Hash, err = json.Marshal(hashState{SHA256: res.Hash, MD5: res.MD5Hash}); err == nil {
		n.Storage, err = res.State.MarshalBinary()
	}
	if err != nil {
		c.rollback(ctx, id, st, res)
		c.release(ctx, up, u)
		return nil, fmt.Errorf("attachment: append to upload %s: %w", id, err)
	}
	now := c.timestamp()
	n.UpdatedAt, n.ExpiresAt = now, now.Add(c.opts.UploadExpiry)
	if done {
		// The lease stays with this request for the commit.
		n.LockedUntil = now.Add(appendLease + c.opts.CommitTimeout)
	} else {
		n.LockOwner, n.LockedUntil = "", time.Time{}
	}
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.CommitTimeout)
	saved, err := c.saveHeld(sctx, up, n, owner)
	scancel()
	if err != nil {
		c.rollback(ctx, id, st, res)
		if errors.Is(err, metadata.ErrNotFound) {
			c.discardLeft(ctx, id)
		}
		return nil, leaseErr(id, err)
	}
	if aerr != nil && !done {
		return nil, fmt.Errorf("attachment: append to upload %s (%d bytes kept): %w", id, res.N, aerr)
	}
	if !done {
		c.saved.put(saved)
	}
	if done && saved.Concat == metadata.ConcatPartial {
		return s.finishPartial(ctx, up, saved, true)
	}
	if done {
		return s.commitUpload(ctx, up, saved)
	}
	return uploadInfo(saved)
}

// discardLeft removes what an append to an upload terminated meanwhile
// may have written after the termination removed its bytes. A failure is
// logged: Maintain removes keys without a session.
func (c *core) discardLeft(ctx context.Context, id string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.CommitTimeout)
	defer cancel()
	if err := c.content.DiscardUpload(dctx, id, nil); err != nil {
		c.log.Warn("attachment: remove the bytes of a terminated upload (Maintain removes what is left)", "id", id, "err", err)
	}
}

// leaseErr is the error of an append whose save (or lease renewal) found
// the upload changed by another request (its lease had lapsed: a
// *LockedError) or gone (terminated, or expired and removed: not found).
func leaseErr(id string, err error) error {
	if errors.Is(err, metadata.ErrStale) {
		return &LockedError{}
	}
	return storeErr(id, "save upload", err)
}

// rollback removes what an append wrote past st, when it is not saved.
func (c *core) rollback(ctx context.Context, id string, st *storage.UploadState, res storage.AppendResult) {
	if res.State == nil || res.State.Size == st.Size {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.CommitTimeout)
	defer cancel()
	if err := c.content.Rollback(rctx, id, st, res); err != nil {
		c.log.Warn("attachment: roll back an append not saved (the next append cuts it off)", "id", id, "err", err)
	}
}

// headWriter keeps the first sniffLen bytes written to it.
type headWriter struct{ head []byte }

func (h *headWriter) Write(p []byte) (int, error) {
	if n := sniffLen - len(h.head); n > 0 {
		h.head = append(h.head, p[:min(n, len(p))]...)
	}
	return len(p), nil
}
