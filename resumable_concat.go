package attachment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/storage"
)

// Concatenation: partial uploads (NewUpload.Partial) are sent apart, in
// parallel say, then joined by ConcatUploads into one attachment. A
// partial whose bytes are all in is finished into its own content key
// (storage.ContentKey of its ID, with no copy in file and multipart
// modes) and its session kept, Finishing, with no storage state: that is
// a complete partial. No record names that key; Maintain keeps it while
// the session lives and removes both once it expires.

// concatKind is the metadata.Upload.Concat of an upload.
func concatKind(partial bool) int {
	if partial {
		return metadata.ConcatPartial
	}
	return metadata.ConcatNone
}

// finishPartial finishes u, a partial upload whose bytes are all in,
// unless it is finished already, and returns its state. held says the
// caller holds u's lease (the append that brought its last byte).
func (s *Service) finishPartial(ctx context.Context, up metadata.Uploads, u *metadata.Upload, held bool) (*UploadInfo, error) {
	c := s.core
	if len(u.Storage) > 0 {
		var err error
		if !held {
			if u, err = s.claim(ctx, up, u); err != nil {
				return nil, err
			}
		}
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.CommitTimeout)
		defer cancel()
		st := new(storage.UploadState)
		if err := st.UnmarshalBinary(u.Storage); err != nil {
			return nil, fmt.Errorf("attachment: upload %s: %w", u.ID, err)
		}
		var hs hashState
		if len(u.Hash) > 0 {
			if err := json.Unmarshal(u.Hash, &hs); err != nil {
				return nil, fmt.Errorf("attachment: upload %s: malformed hash state: %w", u.ID, err)
			}
		}
		if err := c.content.FinishUpload(cctx, u.ID, st, &storage.FinishOptions{Hash: hs.SHA256}); err != nil {
			if errors.Is(err, storage.ErrUploadLost) {
				s.discardUpload(ctx, up, u, true)
			} else {
				c.release(ctx, up, u)
			}
			return nil, fmt.Errorf("attachment: finish partial upload %s: %w", u.ID, err)
		}
		n := u.Clone()
		now := c.timestamp()
		n.Storage, n.LockOwner, n.LockedUntil = nil, "", time.Time{}
		n.UpdatedAt, n.ExpiresAt = now, now.Add(c.opts.UploadExpiry)
		if u, err = up.UpdateUpload(cctx, n); err != nil {
			if errors.Is(err, metadata.ErrNotFound) {
				c.dropUpload(ctx, n)
				return nil, notFound(n.ID)
			}
			return nil, leaseErr(n.ID, err)
		}
	}
	return uploadInfo(u)
}

// ConcatUploads joins the complete partial uploads with the IDs, in their
// order, into one attachment, as Upload does with a file made of their
// bytes: nu describes it (File's Name, ContentType and digests, Options;
// its Length and Partial are not used), and it gets an ID of its own.
// The partials are by's (nu.Options.CreatedBy); one that is not, or is
// unknown, is ErrNotFound; one that is no partial, or not complete, is
// ErrInvalid; a total over Options.MaxFileSize is ErrTooLarge. Once the
// attachment is committed the partials are removed; on any failure they
// are left as they were, for another try.
func (s *Service) ConcatUploads(ctx context.Context, nu *NewUpload, partials []string) (*UploadInfo, error) {
	up, err := s.uploads()
	if err != nil {
		return nil, err
	}
	c := s.core
	by := nu.Options.CreatedBy
	if len(partials) == 0 {
		return nil, inputErr(ErrInvalid, "a concatenation needs at least one partial upload")
	}
	name, err := c.cleanName(nu.File.Name)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(partials))
	var total int64
	for _, id := range partials {
		if seen[id] {
			return nil, inputErr(ErrInvalid, "partial upload %s is named twice", truncate(id, 64))
		}
		seen[id] = true
		u, err := s.session(ctx, up, id, by)
		if err != nil {
			return nil, err
		}
		if u.Concat != metadata.ConcatPartial {
			return nil, inputErr(ErrInvalid, "upload %s is not a partial upload", id)
		}
		if !u.Finishing {
			return nil, inputErr(ErrInvalid, "partial upload %s is not complete (%d bytes in)", id, u.Offset)
		}
		total += u.Offset
	}
	if err := c.checkLength(name, total); err != nil {
		return nil, err
	}

	// Hold every partial, so that no other concatenation or append takes
	// one meanwhile; finish any whose finishing was cut off.
	held := make([]*metadata.Upload, 0, len(partials))
	releaseAll := func() {
		for _, u := range held {
			c.release(ctx, up, u)
		}
	}
	for _, id := range partials {
		u, err := s.session(ctx, up, id, by)
		if err == nil && len(u.Storage) > 0 {
			_, err = s.finishPartial(ctx, up, u, false)
			if err == nil {
				u, err = s.session(ctx, up, id, by)
			}
		}
		if err == nil {
			u, err = s.claim(ctx, up, u)
		}
		if err != nil {
			releaseAll()
			return nil, err
		}
		held = append(held, u)
	}

	b, err := s.NewBatch(&nu.Options)
	if err != nil {
		releaseAll()
		return nil, err
	}
	// The leases are renewed while the bytes are copied, however long
	// that takes; a partial terminated meanwhile ends the copy.
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	rens := make([]*renewal, len(held))
	for i, u := range held {
		rens[i] = c.renew(actx, up, u, func() {}, cancel) // a concatenation is not interrupted
	}
	pr := &partsReader{ctx: actx, s: c.content, ids: partials}
	f := nu.File
	f.Name, f.Content = name, pr
	err = b.Add(actx, f)
	pr.close()
	var atts []*Attachment
	if err == nil {
		atts, err = b.Commit(ctx)
	}
	for i, r := range rens {
		var lost error
		if held[i], lost = r.end(); lost != nil && err == nil {
			// The copy finished before the renewal failed: the
			// attachment stands; the partial's removal is left to
			// whoever has it now.
			c.log.Warn("attachment: a concatenated partial upload changed meanwhile", "id", held[i].ID, "err", lost)
		}
	}
	if err != nil {
		b.Abort(ctx)
		releaseAll()
		return nil, err
	}
	a := atts[0]
	for _, u := range held {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.CommitTimeout)
		err := up.DeleteUpload(dctx, u.Tenant, u.ID, u.Version)
		cancel()
		if err != nil {
			c.log.Warn("attachment: remove a concatenated partial upload (it expires)", "id", u.ID, "err", err)
			continue
		}
		c.dropUpload(ctx, u)
	}
	return &UploadInfo{ID: a.ID, Length: a.Size, Offset: a.Size, Attachment: a}, nil
}

// partsReader reads the contents of the partial uploads ids one after
// the other, with one open at a time.
type partsReader struct {
	ctx context.Context
	s   *storage.Store
	ids []string
	cur io.ReadCloser
}

func (r *partsReader) Read(p []byte) (int, error) {
	for {
		if r.cur == nil {
			if len(r.ids) == 0 {
				return 0, io.EOF
			}
			obj, err := r.s.OpenContent(r.ctx, r.ids[0])
			if err != nil {
				return 0, fmt.Errorf("attachment: read partial upload %s: %w", r.ids[0], err)
			}
			r.cur, r.ids = obj, r.ids[1:]
		}
		n, err := r.cur.Read(p)
		if errors.Is(err, io.EOF) {
			r.close()
			err = nil
			if n == 0 {
				continue
			}
		}
		return n, err
	}
}

func (r *partsReader) close() {
	if r.cur != nil {
		_ = r.cur.Close()
		r.cur = nil
	}
}
