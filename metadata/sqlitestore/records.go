package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/attachkit/attachment/metadata"
)

const (
	insertRecord = `INSERT INTO attachments
		(id, tenant, filename, filename_lower, content_type, size, sha256, owner, labels, refs, created_by, width, height, created_at, updated_at, ever_referenced)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertLabel  = `INSERT INTO attachment_labels (attachment_id, tenant, key, value) VALUES (?, ?, ?, ?)`
	selectRecord = `SELECT ` + recordColumns + ` FROM attachments WHERE id = ? AND tenant = ?`
	// getRecord is selectRecord with the job states as a JSON object, in
	// one statement (one consistent read, no transaction needed).
	getRecord = `SELECT ` + recordColumns + `, (SELECT json_group_object(processor, state) FROM jobs WHERE jobs.attachment_id = attachments.id) FROM attachments WHERE id = ? AND tenant = ?`
)

// notFound is the error for a record that is missing from the tenant. It
// names only the ID, so that another tenant's record reads exactly like a
// missing one.
func notFound(op, id string) error {
	return fmt.Errorf("sqlitestore: %s %q: %w", op, id, metadata.ErrNotFound)
}

// Create implements metadata.Store: the records, with their labels and the
// pending jobs of their Processing keys, are inserted all or none, which a
// taken ID rolls back. Concurrent calls share one commit (see
// groupCommit).
func (s *Store) Create(ctx context.Context, recs []*metadata.Record) (err error) {
	release, err := s.acquire("create")
	if err != nil {
		return err
	}
	defer release(&err)
	if err := s.createGrouped(ctx, recs); err != nil {
		return fmt.Errorf("sqlitestore: create: %w", err)
	}
	// There is room again: hold the reserve if a Delete gave it up.
	s.reserve.take()
	return nil
}

func (s *Store) create(ctx context.Context, recs []*metadata.Record) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return s.createTx(ctx, tx, recs) })
}

// createTx inserts recs, their labels, names and jobs in the write
// transaction tx.
func (s *Store) createTx(ctx context.Context, tx *sql.Tx, recs []*metadata.Record) error {
	// The statements were prepared once on the writer's one connection:
	// binding them to tx reuses them.
	ins := tx.StmtContext(ctx, s.insRecord)
	lab := tx.StmtContext(ctx, s.insLabel)
	job := tx.StmtContext(ctx, s.insJob)
	name := tx.StmtContext(ctx, s.insName)
	gram := tx.StmtContext(ctx, s.insGram)
	for _, r := range recs {
		labels, err := labelsJSON(r.Labels)
		if err != nil {
			return fmt.Errorf("%q: labels: %w", r.ID, err)
		}
		refs, err := refsJSON(r.Refs)
		if err != nil {
			return fmt.Errorf("%q: refs: %w", r.ID, err)
		}
		_, err = ins.ExecContext(ctx, r.ID, r.Tenant, r.Filename, lower(r.Filename), r.ContentType, r.Size,
			r.SHA256, r.Owner, labels, refs, r.CreatedBy, r.Width, r.Height, toMicros(r.CreatedAt), toMicros(r.UpdatedAt), len(r.Refs) > 0)
		if isUniqueViolation(err) {
			return fmt.Errorf("%q: %w", r.ID, metadata.ErrExists)
		}
		if err != nil {
			return fmt.Errorf("%q: %w", r.ID, err)
		}
		if err := addName(ctx, name, gram, r.Tenant, r.ID, lower(r.Filename)); err != nil {
			return fmt.Errorf("%q: name: %w", r.ID, err)
		}
		for k, v := range r.Labels {
			if _, err := lab.ExecContext(ctx, r.ID, r.Tenant, k, v); err != nil {
				return fmt.Errorf("%q: label %q: %w", r.ID, k, err)
			}
		}
		if err := createJobs(ctx, job, r); err != nil {
			return fmt.Errorf("%q: %w", r.ID, err)
		}
	}
	return nil
}

// Get implements metadata.Store: the record and its jobs' states are read
// in one read transaction, so they are of one moment.
func (s *Store) Get(ctx context.Context, tenant, id string) (_ *metadata.Record, err error) {
	release, err := s.acquire("get")
	if err != nil {
		return nil, err
	}
	defer release(&err)
	qctx, err := pointRead(ctx)
	if err != nil {
		return nil, err
	}
	var h [walHeaderBytes]byte // the header the cache is checked against
	useCache := false
	if s.cache != nil {
		if h, useCache = s.cache.header(); useCache {
			if r := s.cache.get(h, tenant, id); r != nil {
				return r, nil
			}
		}
	}
	r, err := s.get(qctx, tenant, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("get", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: get %q: %w", id, err)
	}
	if useCache {
		s.cache.put(h, r)
	}
	return r, nil
}

func (s *Store) get(ctx context.Context, tenant, id string) (*metadata.Record, error) {
	var processing sql.NullString
	r, err := scanRecord(withExtra{s.getStmt.QueryRowContext(ctx, id, tenant), []any{&processing}})
	if err != nil {
		return nil, err
	}
	if processing.Valid && processing.String != "{}" {
		if err := json.Unmarshal([]byte(processing.String), &r.Processing); err != nil {
			return nil, fmt.Errorf("record %s: processing: %w", r.ID, err)
		}
	}
	return r, nil
}

// withExtra scans the columns a scanner's caller asks for, then extra
// ones.
type withExtra struct {
	sc    scanner
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.sc.Scan(append(dest, w.extra...)...) }

// Update implements metadata.Store: it reads, changes and writes the record
// in one write transaction, so concurrent updates never lose each other's
// changes.
func (s *Store) Update(ctx context.Context, tenant, id string, u metadata.Update) (_ *metadata.Record, err error) {
	release, err := s.acquire("update")
	if err != nil {
		return nil, err
	}
	defer release(&err)
	r, err := s.update(ctx, tenant, id, u)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("update", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: update %q: %w", id, err)
	}
	return r, nil
}

func (s *Store) update(ctx context.Context, tenant, id string, u metadata.Update) (*metadata.Record, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	r, err := scanRecord(tx.QueryRowContext(ctx, selectRecord, id, tenant))
	if err != nil {
		return nil, err
	}
	oldLower := lower(r.Filename)
	u.Apply(r)
	r.UpdatedAt = normTime(r.UpdatedAt)
	labels, err := labelsJSON(r.Labels)
	if err != nil {
		return nil, fmt.Errorf("labels: %w", err)
	}
	refs, err := refsJSON(r.Refs)
	if err != nil {
		return nil, fmt.Errorf("refs: %w", err)
	}
	_, err = tx.ExecContext(ctx, `UPDATE attachments
		SET filename = ?, filename_lower = ?, owner = ?, labels = ?, refs = ?, width = ?, height = ?, updated_at = ?,
			ever_referenced = max(ever_referenced, ?)
		WHERE id = ?`,
		r.Filename, lower(r.Filename), r.Owner, labels, refs, r.Width, r.Height, toMicros(r.UpdatedAt), len(u.AddRefs) > 0, id)
	if err != nil {
		return nil, err
	}
	if newLower := lower(r.Filename); newLower != oldLower {
		seq, err := nameSeq(ctx, tx, id)
		if err != nil {
			return nil, fmt.Errorf("name: %w", err)
		}
		if err := renameGrams(ctx, tx, tenant, seq, oldLower, newLower); err != nil {
			return nil, fmt.Errorf("name: %w", err)
		}
	}
	if u.Labels != nil {
		if _, err := tx.ExecContext(ctx, `DELETE FROM attachment_labels WHERE attachment_id = ?`, id); err != nil {
			return nil, err
		}
		for k, v := range r.Labels {
			if _, err := tx.ExecContext(ctx, insertLabel, id, tenant, k, v); err != nil {
				return nil, fmt.Errorf("label %q: %w", k, err)
			}
		}
	}
	if err := fillProcessing(ctx, tx, []*metadata.Record{r}); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return r, nil
}

// Delete implements metadata.Store: the refs check and the removal are one
// write transaction. The record's labels and jobs go with it (ON DELETE
// CASCADE), so a claim held on one of its jobs is lost.
func (s *Store) Delete(ctx context.Context, tenant, id string, force bool) (err error) {
	release, err := s.acquire("delete")
	if err != nil {
		return err
	}
	defer release(&err)
	err = s.delete(ctx, tenant, id, force)
	if isFull(err) && s.reserve.free() {
		// The disk is full, and a delete is what frees it: try again in
		// the space of the reserve (see reserve).
		err = s.delete(ctx, tenant, id, force)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return notFound("delete", id)
	case errors.Is(err, metadata.ErrReferenced):
		return fmt.Errorf("sqlitestore: delete %q: %w", id, metadata.ErrReferenced)
	case err != nil:
		return fmt.Errorf("sqlitestore: delete %q: %w", id, err)
	}
	return nil
}

func (s *Store) delete(ctx context.Context, tenant, id string, force bool) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var refsText sql.NullString
	var nameLower string
	err = tx.QueryRowContext(ctx, `SELECT refs, filename_lower FROM attachments WHERE id = ? AND tenant = ?`, id, tenant).Scan(&refsText, &nameLower)
	if err != nil {
		return err
	}
	if !force && refsText.Valid {
		var refs []string
		if err := json.Unmarshal([]byte(refsText.String), &refs); err != nil {
			return fmt.Errorf("refs: %w", err)
		}
		if len(refs) > 0 {
			return metadata.ErrReferenced
		}
	}
	seq, err := nameSeq(ctx, tx, id)
	if err != nil {
		return fmt.Errorf("name: %w", err)
	}
	if err := dropGrams(ctx, tx, tenant, seq, nameLower); err != nil {
		return fmt.Errorf("name: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM attachment_names WHERE seq = ?`, seq); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM attachments WHERE id = ?`, id); err != nil {
		return err
	}
	return tx.Commit()
}
