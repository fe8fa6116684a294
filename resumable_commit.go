package attachment

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"hash"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/storage"
)

// commitUpload commits u, a session whose bytes are all in (Finishing)
// and whose lease the caller holds: the steps of Batch.Add after the
// content is written (digests, type, dimensions, record and jobs, commit
// checks), then the record's creation in the transaction that removes the
// session. A failed check removes everything; any other failure leaves
// the session finishing, for the next request (or Maintain, once it
// expires). It runs on when ctx ends, bounded by Options.CommitTimeout.
func (s *Service) commitUpload(ctx context.Context, up metadata.Uploads, u *metadata.Upload) (*UploadInfo, error) {
	c := s.core
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.CommitTimeout)
	defer cancel()
	var si sessionInfo
	if err := json.Unmarshal(u.Info, &si); err != nil {
		return nil, fmt.Errorf("attachment: upload %s: malformed info: %w", u.ID, err)
	}
	var hs hashState
	if len(u.Hash) > 0 {
		if err := json.Unmarshal(u.Hash, &hs); err != nil {
			return nil, fmt.Errorf("attachment: upload %s: malformed hash state: %w", u.ID, err)
		}
	}
	st := new(storage.UploadState)
	if err := st.UnmarshalBinary(u.Storage); err != nil {
		return nil, fmt.Errorf("attachment: upload %s: %w", u.ID, err)
	}
	sum, err := resumeSum(sha256.New(), hs.SHA256)
	if err != nil {
		return nil, fmt.Errorf("attachment: upload %s: %w", u.ID, err)
	}
	var md5sum []byte
	if si.MD5 != nil {
		if md5sum, err = resumeSum(md5.New(), hs.MD5); err != nil {
			return nil, fmt.Errorf("attachment: upload %s: %w", u.ID, err)
		}
	}
	f := File{SHA256: si.SHA256, MD5: si.MD5}
	if err := f.checkDigests(si.Name, sum, md5sum); err != nil {
		s.discardUpload(ctx, up, u, false)
		return nil, err
	}
	mediaType, contentType, err := c.typeOf(si.Name, u.Head, si.Claim)
	if err != nil {
		s.discardUpload(ctx, up, u, false)
		return nil, err
	}
	if err := c.content.FinishUpload(cctx, u.ID, st, &storage.FinishOptions{Hash: hs.SHA256, ContentType: contentType}); err != nil {
		if errors.Is(err, storage.ErrUploadLost) {
			s.discardUpload(ctx, up, u, true)
		} else {
			c.release(ctx, up, u)
		}
		return nil, fmt.Errorf("attachment: complete upload %s: %w", u.ID, err)
	}
	width, height := c.dimensions(cctx, u.ID, mediaType, u.Head, u.Length <= sniffLen)
	o := UploadOptions{Owner: si.Owner, Labels: si.Labels, CreatedBy: u.CreatedBy}
	rec := c.newRecord(u.Tenant, u.ID, si.Name, contentType, u.Length, sum, &o, width, height)
	if err := s.check(ctx, OpUpload, nil, fromRecord(rec)); err != nil {
		s.discardUpload(ctx, up, u, true)
		return nil, err
	}
	if err := up.CompleteUpload(cctx, u, rec); err != nil {
		if errors.Is(err, metadata.ErrNotFound) {
			// Terminated (or expired and removed) meanwhile: the content
			// this call made is its to remove.
			c.dropUpload(ctx, u)
			return nil, notFound(u.ID)
		}
		if errors.Is(err, metadata.ErrStale) {
			// Our lease lapsed and another request holds the upload: it
			// finishes the commit (FinishUpload is idempotent).
			return nil, &LockedError{}
		}
		c.release(ctx, up, u)
		return nil, fmt.Errorf("attachment: complete upload %s: %w", u.ID, err)
	}
	if c.pool != nil && len(rec.Processing) > 0 {
		c.pool.poke()
	}
	return &UploadInfo{ID: u.ID, Length: u.Length, Offset: u.Length, Attachment: fromRecord(rec)}, nil
}

// discardUpload ends an upload that failed a check: the session, if it is
// still u, and its bytes (and its content when finished says
// FinishUpload made it), so that nothing of it is stored.
func (s *Service) discardUpload(ctx context.Context, up metadata.Uploads, u *metadata.Upload, finished bool) {
	c := s.core
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.CommitTimeout)
	defer cancel()
	if err := up.DeleteUpload(dctx, u.Tenant, u.ID, u.Version); err != nil {
		if !errors.Is(err, metadata.ErrNotFound) {
			c.log.Error("attachment: remove a failed upload's session (it expires)", "id", u.ID, "err", err)
		}
		return // someone else has it now, and removes its bytes
	}
	d := u.Clone()
	d.Finishing = d.Finishing || finished
	c.dropUpload(ctx, d)
}

// resumeSum returns the sum of h resumed from a state MarshalBinary saved;
// an empty state is the digest of no bytes.
func resumeSum(h hash.Hash, state []byte) ([]byte, error) {
	if len(state) > 0 {
		if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
			return nil, fmt.Errorf("malformed hash state: %w", err)
		}
	}
	return h.Sum(nil), nil
}
