package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/attachkit/attachment/metadata"
)

var _ metadata.Uploads = (*Store)(nil)

// uploadColumns are the columns scanUpload reads, in its order.
const uploadColumns = `id, tenant, created_by, length, upload_offset, concat, info, hash_state, head, storage_state,
	finishing, lock_owner, locked_until, interrupt, expires_at, created_at, updated_at, version`

const (
	// insertUpload inserts the upload unless a record has its ID: no row
	// returned then. A concurrent Create of a record with the same ID is
	// not excluded; IDs are fresh UUIDv7s made by the caller.
	insertUpload = `INSERT INTO attachment_uploads (` + uploadColumns + `)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 1
		WHERE NOT EXISTS (SELECT 1 FROM attachments WHERE id = $1)
		RETURNING ` + uploadColumns
	// updateUpload leaves id, tenant, created_by, concat and created_at
	// alone: they never change.
	updateUpload = `UPDATE attachment_uploads SET length = $4, upload_offset = $5, info = $6, hash_state = $7,
		head = $8, storage_state = $9, finishing = $10, lock_owner = $11, locked_until = $12, interrupt = $13,
		expires_at = $14, updated_at = $15, version = version + 1
		WHERE id = $1 AND tenant = $2 AND version = $3
		RETURNING ` + uploadColumns
	deleteUploadAt = `DELETE FROM attachment_uploads WHERE id = $1 AND tenant = $2 AND version = $3`
	uploadVersion  = `SELECT version FROM attachment_uploads WHERE id = $1 AND tenant = $2`
	expiredUploads = `SELECT ` + uploadColumns + ` FROM attachment_uploads
		WHERE expires_at < $1 AND (expires_at, id) > ($2, $3)
		ORDER BY expires_at, id LIMIT $4`
)

// errBadUpload is the error for a CompleteUpload whose record is not the
// upload's.
var errBadUpload = errors.New("the record must have the upload's ID and tenant")

// scanUpload reads one row of uploadColumns.
func scanUpload(row pgx.Row) (*metadata.Upload, error) {
	var (
		u      metadata.Upload
		concat int16
	)
	err := row.Scan(&u.ID, &u.Tenant, &u.CreatedBy, &u.Length, &u.Offset, &concat, &u.Info, &u.Hash, &u.Head,
		&u.Storage, &u.Finishing, &u.LockOwner, &u.LockedUntil, &u.Interrupt, &u.ExpiresAt, &u.CreatedAt,
		&u.UpdatedAt, &u.Version)
	if err != nil {
		return nil, err
	}
	u.Concat = int(concat)
	u.LockedUntil, u.ExpiresAt = u.LockedUntil.UTC(), u.ExpiresAt.UTC()
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &u, nil
}

// blob is b as a bytea parameter: never NULL (pgx sends a nil slice as
// NULL, and the columns are NOT NULL).
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// uploadErr is err as a call about the upload id reports it: a missing row
// is ErrNotFound, naming only the ID.
func uploadErr(op, id string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return notFound(op, id)
	}
	return fmt.Errorf("pgstore: %s %q: %w", op, id, err)
}

// CreateUpload implements metadata.Uploads: one statement checks that no
// record has the ID and inserts the upload.
func (s *Store) CreateUpload(ctx context.Context, u *metadata.Upload) (_ *metadata.Upload, err error) {
	release, err := s.acquire("create upload")
	if err != nil {
		return nil, err
	}
	defer release(&err)
	if u.Concat < -1<<15 || u.Concat >= 1<<15 {
		return nil, fmt.Errorf("pgstore: create upload %q: concat %d out of range", u.ID, u.Concat)
	}
	got, err := scanUpload(s.pool.QueryRow(ctx, insertUpload,
		u.ID, u.Tenant, u.CreatedBy, u.Length, u.Offset, int16(u.Concat), blob(u.Info), blob(u.Hash), blob(u.Head),
		blob(u.Storage), u.Finishing, u.LockOwner, normTime(u.LockedUntil), u.Interrupt, normTime(u.ExpiresAt),
		normTime(u.CreatedAt), normTime(u.UpdatedAt)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("pgstore: create upload %q: a record has the ID: %w", u.ID, metadata.ErrExists)
	}
	if _, ok := isUniqueViolation(err); ok {
		return nil, fmt.Errorf("pgstore: create upload %q: an upload has the ID: %w", u.ID, metadata.ErrExists)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: create upload %q: %w", u.ID, err)
	}
	return got, nil
}

// GetUpload implements metadata.Uploads.
func (s *Store) GetUpload(ctx context.Context, tenant, id string) (_ *metadata.Upload, err error) {
	release, err := s.acquire("get upload")
	if err != nil {
		return nil, err
	}
	defer release(&err)
	u, err := scanUpload(s.pool.QueryRow(ctx, `SELECT `+uploadColumns+` FROM attachment_uploads WHERE id = $1 AND tenant = $2`, id, tenant))
	if err != nil {
		return nil, uploadErr("get upload", id, err)
	}
	return u, nil
}

// LookupUpload implements metadata.Uploads.
func (s *Store) LookupUpload(ctx context.Context, id string) (_ *metadata.Upload, err error) {
	release, err := s.acquire("lookup upload")
	if err != nil {
		return nil, err
	}
	defer release(&err)
	u, err := scanUpload(s.pool.QueryRow(ctx, `SELECT `+uploadColumns+` FROM attachment_uploads WHERE id = $1`, id))
	if err != nil {
		return nil, uploadErr("lookup upload", id, err)
	}
	return u, nil
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// whyNot tells why a conditional change of the upload found no row: it is
// missing (pgx.ErrNoRows) or at another version (ErrStale).
func whyNot(ctx context.Context, q querier, tenant, id string, version int64) error {
	var have int64
	if err := q.QueryRow(ctx, uploadVersion, id, tenant).Scan(&have); err != nil {
		return err
	}
	return fmt.Errorf("at version %d, not %d: %w", have, version, metadata.ErrStale)
}

// UpdateUpload implements metadata.Uploads: a conditional UPDATE, then,
// when it changed no row, a SELECT to tell why. The UPDATE's row lock
// serializes it with every other change of the upload: of concurrent ones
// from one version, the others find the version moved on.
func (s *Store) UpdateUpload(ctx context.Context, u *metadata.Upload) (_ *metadata.Upload, err error) {
	release, err := s.acquire("update upload")
	if err != nil {
		return nil, err
	}
	defer release(&err)
	got, err := scanUpload(s.pool.QueryRow(ctx, updateUpload, u.ID, u.Tenant, u.Version,
		u.Length, u.Offset, blob(u.Info), blob(u.Hash), blob(u.Head), blob(u.Storage), u.Finishing, u.LockOwner,
		normTime(u.LockedUntil), u.Interrupt, normTime(u.ExpiresAt), normTime(u.UpdatedAt)))
	if errors.Is(err, pgx.ErrNoRows) {
		err = whyNot(ctx, s.pool, u.Tenant, u.ID, u.Version)
	}
	if err != nil {
		return nil, uploadErr("update upload", u.ID, err)
	}
	return got, nil
}

// DeleteUpload implements metadata.Uploads.
func (s *Store) DeleteUpload(ctx context.Context, tenant, id string, version int64) (err error) {
	release, err := s.acquire("delete upload")
	if err != nil {
		return err
	}
	defer release(&err)
	tag, err := s.pool.Exec(ctx, deleteUploadAt, id, tenant, version)
	if err == nil && tag.RowsAffected() == 0 {
		err = whyNot(ctx, s.pool, tenant, id, version)
	}
	return uploadErr("delete upload", id, err)
}

// CompleteUpload implements metadata.Uploads: the conditional DELETE and
// Create's statement run in one transaction, which any error rolls back.
// The DELETE's row lock serializes it with any change of the upload.
func (s *Store) CompleteUpload(ctx context.Context, u *metadata.Upload, rec *metadata.Record) (err error) {
	release, err := s.acquire("complete upload")
	if err != nil {
		return err
	}
	defer release(&err)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, deleteUploadAt, u.ID, u.Tenant, u.Version)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return whyNot(ctx, tx, u.Tenant, u.ID, u.Version)
		}
		if rec.ID != u.ID || rec.Tenant != u.Tenant {
			return errBadUpload
		}
		return s.createOn(ctx, tx, []*metadata.Record{rec})
	})
	return uploadErr("complete upload", u.ID, err)
}

// ExpiredUploads implements metadata.Uploads: it walks
// attachment_uploads_expires from the cursor.
func (s *Store) ExpiredUploads(ctx context.Context, t time.Time, after metadata.UploadCursor, limit int) (_ []*metadata.Upload, err error) {
	if limit <= 0 {
		return nil, fmt.Errorf("pgstore: expired uploads: limit %d: limit must be positive", limit)
	}
	release, err := s.acquire("expired uploads")
	if err != nil {
		return nil, err
	}
	defer release(&err)
	rows, err := s.pool.Query(ctx, expiredUploads, normTime(t), normTime(after.ExpiresAt), after.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("pgstore: expired uploads: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*metadata.Upload, error) { return scanUpload(row) })
	if err != nil {
		return nil, fmt.Errorf("pgstore: expired uploads: %w", err)
	}
	return out, nil
}
