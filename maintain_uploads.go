package attachment

import (
	"context"
	"errors"
	"fmt"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/storage"
)

// expireUploads removes the resumable uploads that expired before now and
// that no request holds: each session (if unchanged since it was listed),
// then its bytes (dropUpload).
func (c *core) expireUploads(ctx context.Context, up metadata.Uploads, rep *MaintenanceReport) error {
	now := c.now()
	var after metadata.UploadCursor
	for {
		us, err := up.ExpiredUploads(ctx, now, after, scanPage)
		if err != nil {
			return fmt.Errorf("attachment: maintain: list expired uploads: %w", err)
		}
		for _, u := range us {
			after = metadata.UploadCursor{ExpiresAt: u.ExpiresAt, ID: u.ID}
			if u.LockOwner != "" && u.LockedUntil.After(now) {
				continue // a request holds it: its save moves the expiry
			}
			err := up.DeleteUpload(ctx, u.Tenant, u.ID, u.Version)
			if errors.Is(err, metadata.ErrNotFound) || errors.Is(err, metadata.ErrStale) {
				continue // terminated, completed or appended to since
			}
			if err != nil {
				rep.Failed++
				c.log.Error("attachment: maintain: remove an expired upload", "id", u.ID, "err", err)
				continue
			}
			c.dropUpload(ctx, u)
			rep.ExpiredUploads++
			c.log.Info("attachment: removed an expired upload", "id", u.ID, "tenant", u.Tenant, "expired", u.ExpiresAt)
		}
		if len(us) < scanPage {
			return nil
		}
	}
}

// orphanUploads removes the keys under storage.UploadsPrefix of IDs that
// have no session, once last written before half of OrphanGrace ago.
// Sessions are created before any byte of theirs is written, so a key
// without one is left over (by a termination, an expiry or a commit cut
// off before its cleanup).
func (c *core) orphanUploads(ctx context.Context, up metadata.Uploads, rep *MaintenanceReport) error {
	cutoff := c.now().Add(-c.opts.Maintenance.OrphanGrace / 2)
	var stale []string
	lastID, lastLive := "", false
	for it, err := range c.content.Items(ctx, storage.UploadsPrefix) {
		if err != nil {
			return fmt.Errorf("attachment: maintain: %w", err)
		}
		if !validID(it.ID) || (it.Kind != storage.KindUpload && it.Kind != storage.KindTemporary) {
			rep.Unknown++
			continue
		}
		if !it.ModTime.Before(cutoff) {
			continue
		}
		if it.ID != lastID {
			lastID = it.ID
			_, err := up.LookupUpload(ctx, it.ID)
			switch {
			case err == nil:
				lastLive = true
			case errors.Is(err, metadata.ErrNotFound):
				lastLive = false
			default:
				rep.Failed++
				c.log.Error("attachment: maintain: look up upload", "id", it.ID, "err", err)
				lastLive = true
			}
		}
		if lastLive {
			continue
		}
		if len(stale) < maxCandidates {
			stale = append(stale, it.Key)
		} else {
			rep.Deferred++
		}
	}
	for _, key := range stale {
		if c.removeKey(ctx, key, rep) {
			rep.OrphanUploads++
		}
	}
	return nil
}
