package memstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/attachkit/attachment/metadata"
)

var _ metadata.Uploads = (*Store)(nil)

// errBadUpload is the error for a CompleteUpload whose record is not the
// upload's.
var errBadUpload = errors.New("the record must have the upload's ID and tenant")

// begin checks ctx, takes s.mu (for writing when write is true) and checks
// that s is open. It returns the func that releases the lock.
func (s *Store) begin(ctx context.Context, op string, write bool) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: %s: %w", op, err)
	}
	unlock := s.mu.RUnlock
	if write {
		s.mu.Lock()
		unlock = s.mu.Unlock
	} else {
		s.mu.RLock()
	}
	if s.closed {
		unlock()
		return nil, fmt.Errorf("memstore: %s: %w", op, metadata.ErrClosed)
	}
	return unlock, nil
}

// CreateUpload implements metadata.Uploads.
func (s *Store) CreateUpload(ctx context.Context, u *metadata.Upload) (*metadata.Upload, error) {
	unlock, err := s.begin(ctx, "create upload", true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	_, upload := s.uploads[u.ID]
	_, record := s.records[u.ID]
	if upload || record {
		return nil, fmt.Errorf("memstore: create upload %q: %w", u.ID, metadata.ErrExists)
	}
	c := normUpload(u)
	c.Version = 1
	s.uploads[c.ID] = c
	return c.Clone(), nil
}

// GetUpload implements metadata.Uploads.
func (s *Store) GetUpload(ctx context.Context, tenant, id string) (*metadata.Upload, error) {
	unlock, err := s.begin(ctx, "get upload", false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	u, err := s.upload(tenant, id)
	if err != nil {
		return nil, fmt.Errorf("memstore: get %w", err)
	}
	return u.Clone(), nil
}

// LookupUpload implements metadata.Uploads.
func (s *Store) LookupUpload(ctx context.Context, id string) (*metadata.Upload, error) {
	unlock, err := s.begin(ctx, "lookup upload", false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	u, ok := s.uploads[id]
	if !ok {
		return nil, fmt.Errorf("memstore: lookup upload %q: %w", id, metadata.ErrNotFound)
	}
	return u.Clone(), nil
}

// UpdateUpload implements metadata.Uploads.
func (s *Store) UpdateUpload(ctx context.Context, u *metadata.Upload) (*metadata.Upload, error) {
	unlock, err := s.begin(ctx, "update upload", true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	old, err := s.uploadAt(u.Tenant, u.ID, u.Version)
	if err != nil {
		return nil, fmt.Errorf("memstore: update %w", err)
	}
	c := normUpload(u)
	c.CreatedBy, c.Concat, c.CreatedAt = old.CreatedBy, old.Concat, old.CreatedAt
	c.Version = old.Version + 1
	s.uploads[c.ID] = c
	return c.Clone(), nil
}

// DeleteUpload implements metadata.Uploads.
func (s *Store) DeleteUpload(ctx context.Context, tenant, id string, version int64) error {
	unlock, err := s.begin(ctx, "delete upload", true)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.uploadAt(tenant, id, version); err != nil {
		return fmt.Errorf("memstore: delete %w", err)
	}
	delete(s.uploads, id)
	return nil
}

// CompleteUpload implements metadata.Uploads: under the lock, the checks
// come first and the changes after, so a failed call changes nothing.
func (s *Store) CompleteUpload(ctx context.Context, u *metadata.Upload, rec *metadata.Record) error {
	unlock, err := s.begin(ctx, "complete upload", true)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.uploadAt(u.Tenant, u.ID, u.Version); err != nil {
		return fmt.Errorf("memstore: complete %w", err)
	}
	if rec.ID != u.ID || rec.Tenant != u.Tenant {
		return fmt.Errorf("memstore: complete upload %q: %w", u.ID, errBadUpload)
	}
	if err := s.insert([]*metadata.Record{rec}); err != nil {
		return fmt.Errorf("memstore: complete upload: %w", err)
	}
	delete(s.uploads, u.ID)
	return nil
}

// ExpiredUploads implements metadata.Uploads. It visits every upload:
// fine for the tests and small stores memstore is for.
func (s *Store) ExpiredUploads(ctx context.Context, t time.Time, after metadata.UploadCursor, limit int) ([]*metadata.Upload, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("memstore: expired uploads: limit %d: %w", limit, errBadLimit)
	}
	unlock, err := s.begin(ctx, "expired uploads", false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	t, afterAt := normTime(t), normTime(after.ExpiresAt)
	var match []*metadata.Upload
	for _, u := range s.uploads {
		if !u.ExpiresAt.Before(t) {
			continue
		}
		if c := u.ExpiresAt.Compare(afterAt); c < 0 || (c == 0 && u.ID <= after.ID) {
			continue
		}
		match = append(match, u)
	}
	slices.SortFunc(match, func(a, b *metadata.Upload) int {
		return cmp.Or(a.ExpiresAt.Compare(b.ExpiresAt), strings.Compare(a.ID, b.ID))
	})
	out := make([]*metadata.Upload, 0, min(len(match), limit))
	for _, u := range match[:min(len(match), limit)] {
		out = append(out, u.Clone())
	}
	return out, nil
}

// upload returns the tenant's stored upload; another tenant's reads like
// a missing one. s.mu must be held.
func (s *Store) upload(tenant, id string) (*metadata.Upload, error) {
	u, ok := s.uploads[id]
	if !ok || u.Tenant != tenant {
		return nil, fmt.Errorf("upload %q: %w", id, metadata.ErrNotFound)
	}
	return u, nil
}

// uploadAt is upload, also ErrStale unless the stored Version is version.
func (s *Store) uploadAt(tenant, id string, version int64) (*metadata.Upload, error) {
	u, err := s.upload(tenant, id)
	if err != nil {
		return nil, err
	}
	if u.Version != version {
		return nil, fmt.Errorf("upload %q at version %d, not %d: %w", id, u.Version, version, metadata.ErrStale)
	}
	return u, nil
}

// normUpload returns a deep copy of u with its times as the store keeps
// them.
func normUpload(u *metadata.Upload) *metadata.Upload {
	c := u.Clone()
	c.LockedUntil = normTime(c.LockedUntil)
	c.ExpiresAt = normTime(c.ExpiresAt)
	c.CreatedAt = normTime(c.CreatedAt)
	c.UpdatedAt = normTime(c.UpdatedAt)
	return c
}
