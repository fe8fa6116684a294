package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/attachkit/attachment/metadata"
)

var _ metadata.Uploads = (*Store)(nil)

// uploadColumns are the columns scanUpload reads, in its order.
const uploadColumns = `id, tenant, created_by, length, upload_offset, concat, info, hash_state, head, storage_state,
	finishing, lock_owner, locked_until, interrupt, expires_at, created_at, updated_at, version`

const (
	insertUpload = `INSERT INTO uploads (` + uploadColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
		RETURNING ` + uploadColumns
	// updateUpload leaves id, tenant, created_by, concat and created_at
	// alone: they never change.
	updateUpload = `UPDATE uploads SET length = ?, upload_offset = ?, info = ?, hash_state = ?, head = ?,
		storage_state = ?, finishing = ?, lock_owner = ?, locked_until = ?, interrupt = ?, expires_at = ?,
		updated_at = ?, version = version + 1
		WHERE id = ? AND tenant = ? AND version = ?
		RETURNING ` + uploadColumns
	getUploadQuery = `SELECT ` + uploadColumns + ` FROM uploads WHERE id = ? AND tenant = ?`
	deleteUploadAt = `DELETE FROM uploads WHERE id = ? AND tenant = ? AND version = ?`
	uploadVersion  = `SELECT version FROM uploads WHERE id = ? AND tenant = ?`
)

// errBadUpload is the error for a CompleteUpload whose record is not the
// upload's.
var errBadUpload = errors.New("the record must have the upload's ID and tenant")

// scanUpload reads one row of uploadColumns.
func scanUpload(sc scanner) (*metadata.Upload, error) {
	var (
		u                                 metadata.Upload
		locked, expires, created, updated int64
	)
	err := sc.Scan(&u.ID, &u.Tenant, &u.CreatedBy, &u.Length, &u.Offset, &u.Concat, &u.Info, &u.Hash, &u.Head,
		&u.Storage, &u.Finishing, &u.LockOwner, &locked, &u.Interrupt, &expires, &created, &updated, &u.Version)
	if err != nil {
		return nil, err
	}
	u.LockedUntil, u.ExpiresAt = fromMicros(locked), fromMicros(expires)
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &u, nil
}

// blob is b as a BLOB parameter: never NULL (the columns are NOT NULL).
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// CreateUpload implements metadata.Uploads: the check that no record has
// the ID and the insert are one write transaction.
func (s *Store) CreateUpload(ctx context.Context, u *metadata.Upload) (_ *metadata.Upload, err error) {
	release, err := s.acquire("create upload")
	if err != nil {
		return nil, err
	}
	defer release(&err)
	got, err := s.createUpload(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: create upload %q: %w", u.ID, err)
	}
	return got, nil
}

func (s *Store) createUpload(ctx context.Context, u *metadata.Upload) (*metadata.Upload, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var taken bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM attachments WHERE id = ?)`, u.ID).Scan(&taken); err != nil {
		return nil, err
	}
	if taken {
		return nil, fmt.Errorf("a record has the ID: %w", metadata.ErrExists)
	}
	got, err := scanUpload(tx.QueryRowContext(ctx, insertUpload,
		u.ID, u.Tenant, u.CreatedBy, u.Length, u.Offset, u.Concat, blob(u.Info), blob(u.Hash), blob(u.Head),
		blob(u.Storage), u.Finishing, u.LockOwner, toMicros(u.LockedUntil), u.Interrupt, toMicros(u.ExpiresAt),
		toMicros(u.CreatedAt), toMicros(u.UpdatedAt)))
	if isUniqueViolation(err) {
		return nil, fmt.Errorf("an upload has the ID: %w", metadata.ErrExists)
	}
	if err != nil {
		return nil, err
	}
	return got, tx.Commit()
}

// GetUpload implements metadata.Uploads.
func (s *Store) GetUpload(ctx context.Context, tenant, id string) (_ *metadata.Upload, err error) {
	release, err := s.acquire("get upload")
	if err != nil {
		return nil, err
	}
	defer release(&err)
	qctx, err := pointRead(ctx)
	if err != nil {
		return nil, err
	}
	u, err := scanUpload(s.getUpload.QueryRowContext(qctx, id, tenant))
	return u, uploadErr("get upload", id, err)
}

// LookupUpload implements metadata.Uploads.
func (s *Store) LookupUpload(ctx context.Context, id string) (_ *metadata.Upload, err error) {
	release, err := s.acquire("lookup upload")
	if err != nil {
		return nil, err
	}
	defer release(&err)
	qctx, err := pointRead(ctx)
	if err != nil {
		return nil, err
	}
	u, err := scanUpload(s.r.QueryRowContext(qctx, `SELECT `+uploadColumns+` FROM uploads WHERE id = ?`, id))
	return u, uploadErr("lookup upload", id, err)
}

// uploadErr is err as a call about the upload id reports it: a missing row
// is ErrNotFound, naming only the ID.
func uploadErr(op, id string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return notFound(op, id)
	}
	return fmt.Errorf("sqlitestore: %s %q: %w", op, id, err)
}

// UpdateUpload implements metadata.Uploads: one write transaction runs the
// conditional UPDATE and, when it changes no row, reads why.
func (s *Store) UpdateUpload(ctx context.Context, u *metadata.Upload) (_ *metadata.Upload, err error) {
	release, err := s.acquire("update upload")
	if err != nil {
		return nil, err
	}
	defer release(&err)
	got, err := s.updateUpload(ctx, u)
	if err != nil {
		return nil, uploadErr("update upload", u.ID, err)
	}
	return got, nil
}

func (s *Store) updateUpload(ctx context.Context, u *metadata.Upload) (*metadata.Upload, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	got, err := scanUpload(tx.StmtContext(ctx, s.updUpload).QueryRowContext(ctx,
		u.Length, u.Offset, blob(u.Info), blob(u.Hash), blob(u.Head), blob(u.Storage), u.Finishing, u.LockOwner,
		toMicros(u.LockedUntil), u.Interrupt, toMicros(u.ExpiresAt), toMicros(u.UpdatedAt),
		u.ID, u.Tenant, u.Version))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, whyNot(ctx, tx, u.Tenant, u.ID, u.Version)
	}
	if err != nil {
		return nil, err
	}
	return got, tx.Commit()
}

// whyNot tells, in the transaction whose conditional change found no row,
// a missing upload (sql.ErrNoRows) from one at another version (ErrStale).
func whyNot(ctx context.Context, tx *sql.Tx, tenant, id string, version int64) error {
	var have int64
	if err := tx.QueryRowContext(ctx, uploadVersion, id, tenant).Scan(&have); err != nil {
		return err
	}
	return fmt.Errorf("at version %d, not %d: %w", have, version, metadata.ErrStale)
}

// DeleteUpload implements metadata.Uploads.
func (s *Store) DeleteUpload(ctx context.Context, tenant, id string, version int64) (err error) {
	release, err := s.acquire("delete upload")
	if err != nil {
		return err
	}
	defer release(&err)
	err = s.inTx(ctx, func(tx *sql.Tx) error { return deleteUploadTx(ctx, tx, tenant, id, version) })
	return uploadErr("delete upload", id, err)
}

// deleteUploadTx deletes the upload at the version in tx.
func deleteUploadTx(ctx context.Context, tx *sql.Tx, tenant, id string, version int64) error {
	res, err := tx.ExecContext(ctx, deleteUploadAt, id, tenant, version)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	return whyNot(ctx, tx, tenant, id, version)
}

// inTx runs fn in a write transaction, committed if fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// CompleteUpload implements metadata.Uploads: the conditional delete and
// Create's inserts are one write transaction, which any error rolls back.
func (s *Store) CompleteUpload(ctx context.Context, u *metadata.Upload, rec *metadata.Record) (err error) {
	release, err := s.acquire("complete upload")
	if err != nil {
		return err
	}
	defer release(&err)
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := deleteUploadTx(ctx, tx, u.Tenant, u.ID, u.Version); err != nil {
			return err
		}
		if rec.ID != u.ID || rec.Tenant != u.Tenant {
			return errBadUpload
		}
		return s.createTx(ctx, tx, []*metadata.Record{rec})
	})
	if err != nil {
		return uploadErr("complete upload", u.ID, err)
	}
	s.reserve.take()
	return nil
}

// ExpiredUploads implements metadata.Uploads: it walks uploads_expires
// from the cursor.
func (s *Store) ExpiredUploads(ctx context.Context, t time.Time, after metadata.UploadCursor, limit int) (_ []*metadata.Upload, err error) {
	if limit <= 0 {
		return nil, fmt.Errorf("sqlitestore: expired uploads: limit %d: limit must be positive", limit)
	}
	release, err := s.acquire("expired uploads")
	if err != nil {
		return nil, err
	}
	defer release(&err)
	rows, err := s.r.QueryContext(ctx, `SELECT `+uploadColumns+` FROM uploads
		WHERE expires_at < ? AND (expires_at, id) > (?, ?)
		ORDER BY expires_at, id LIMIT ?`, toMicros(t), toMicros(after.ExpiresAt), after.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: expired uploads: %w", err)
	}
	defer rows.Close()
	var out []*metadata.Upload
	for rows.Next() {
		u, err := scanUpload(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: expired uploads: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: expired uploads: %w", err)
	}
	return out, nil
}
