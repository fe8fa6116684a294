package pgstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/attachkit/attachment/metadata"
)

const (
	// createRecords inserts a batch of records, their labels and their
	// pending jobs in one statement (so atomically, without a transaction
	// of its own, in one round trip), each table from parallel arrays. The
	// labels' and jobs' foreign keys are checked at the end of the
	// statement, when the records are in.
	createRecords = `WITH rec AS (
		INSERT INTO attachments (id, tenant, filename, filename_lower, content_type, size, sha256, owner,
			labels, refs, created_by, width, height, created_at, updated_at, ever_referenced)
		SELECT id, tenant, filename, filename_lower, content_type, size, sha256, owner,
			labels::jsonb, refs::jsonb, created_by, width, height, created_at, updated_at, refs IS NOT NULL
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[],
			$9::text[], $10::text[], $11::text[], $12::bigint[], $13::bigint[], $14::timestamptz[], $15::timestamptz[])
			AS r(id, tenant, filename, filename_lower, content_type, size, sha256, owner,
				labels, refs, created_by, width, height, created_at, updated_at)
	), lab AS (
		INSERT INTO attachment_labels (attachment_id, tenant, key, value)
		SELECT * FROM unnest($16::text[], $17::text[], $18::text[], $19::text[])
	)
	INSERT INTO attachment_jobs (attachment_id, processor, tenant, state, attempt, run_at, error, updated_at)
	SELECT id, processor, tenant, 'pending', 0, run_at, '', run_at
	FROM unnest($20::text[], $21::text[], $22::text[], $23::timestamptz[]) AS j(id, processor, tenant, run_at)`

	// getRecord reads the record and its jobs' states in one statement:
	// one snapshot, no transaction needed.
	getRecord = `SELECT ` + recordColumns + `, ` + processingColumn + `
		FROM attachments a WHERE a.id = $1 AND a.tenant = $2`

	// lockRecord reads the record for Update and locks it until the
	// transaction ends (NO KEY UPDATE: its id does not change, so inserts
	// of labels referencing it need not wait).
	lockRecord = `SELECT ` + recordColumns + `, NULL::jsonb
		FROM attachments a WHERE a.id = $1 AND a.tenant = $2 FOR NO KEY UPDATE`
	updateRecord = `UPDATE attachments SET filename = $2, filename_lower = $3, owner = $4,
		labels = $5::text::jsonb, refs = $6::text::jsonb, width = $7, height = $8, updated_at = $9,
		ever_referenced = ever_referenced OR $10
		WHERE id = $1`
	deleteLabels     = `DELETE FROM attachment_labels WHERE attachment_id = $1`
	insertLabels     = `INSERT INTO attachment_labels (attachment_id, tenant, key, value) SELECT $1, $2, k, v FROM unnest($3::text[], $4::text[]) AS l(k, v)`
	selectStates     = `SELECT jsonb_object_agg(processor, state) FROM attachment_jobs WHERE attachment_id = $1`
	deleteRecord     = `DELETE FROM attachments WHERE id = $1 AND tenant = $2 AND ($3 OR refs IS NULL)`
	recordReferenced = `SELECT refs IS NOT NULL FROM attachments WHERE id = $1 AND tenant = $2`
)

// notFound is the error for a record that is missing from the tenant. It
// names only the ID, so that another tenant's record reads exactly like a
// missing one.
func notFound(op, id string) error {
	return fmt.Errorf("pgstore: %s %q: %w", op, id, metadata.ErrNotFound)
}

// Create implements metadata.Store: the records, with their labels and the
// pending jobs of their Processing keys, are inserted by one statement,
// which a taken ID fails as a whole.
func (s *Store) Create(ctx context.Context, recs []*metadata.Record) (err error) {
	release, err := s.acquire("create")
	if err != nil {
		return err
	}
	defer release(&err)
	if err := s.create(ctx, recs); err != nil {
		return fmt.Errorf("pgstore: create: %w", err)
	}
	return nil
}

// createArgs are the parallel arrays of createRecords.
type createArgs struct {
	id, tenant, filename, filenameLower, contentType, sha256, owner, createdBy []string
	size, width, height                                                        []int64
	labels, refs                                                               []*string
	createdAt, updatedAt                                                       []time.Time

	labelID, labelTenant, labelKey, labelValue []string

	jobID, jobProcessor, jobTenant []string
	jobRunAt                       []time.Time
}

func (s *Store) create(ctx context.Context, recs []*metadata.Record) error {
	return s.createOn(ctx, s.pool, recs)
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// createOn runs createRecords for recs on db.
func (s *Store) createOn(ctx context.Context, db execer, recs []*metadata.Record) error {
	if len(recs) == 0 {
		return ctx.Err()
	}
	n := len(recs)
	a := createArgs{
		id: make([]string, n), tenant: make([]string, n), filename: make([]string, n), filenameLower: make([]string, n),
		contentType: make([]string, n), sha256: make([]string, n), owner: make([]string, n), createdBy: make([]string, n),
		size: make([]int64, n), width: make([]int64, n), height: make([]int64, n),
		labels: make([]*string, n), refs: make([]*string, n),
		createdAt: make([]time.Time, n), updatedAt: make([]time.Time, n),
	}
	seen := make(map[string]bool, n)
	for i, r := range recs {
		if seen[r.ID] {
			return fmt.Errorf("%q given twice: %w", r.ID, metadata.ErrExists)
		}
		seen[r.ID] = true
		labels, err := labelsJSON(r.Labels)
		if err != nil {
			return fmt.Errorf("%q: labels: %w", r.ID, err)
		}
		refs, err := refsJSON(r.Refs)
		if err != nil {
			return fmt.Errorf("%q: refs: %w", r.ID, err)
		}
		a.id[i], a.tenant[i], a.filename[i], a.filenameLower[i] = r.ID, r.Tenant, r.Filename, lower(r.Filename)
		a.contentType[i], a.sha256[i], a.owner[i], a.createdBy[i] = r.ContentType, r.SHA256, r.Owner, r.CreatedBy
		a.size[i], a.width[i], a.height[i] = r.Size, int64(r.Width), int64(r.Height)
		a.labels[i], a.refs[i] = labels, refs
		a.createdAt[i], a.updatedAt[i] = normTime(r.CreatedAt), normTime(r.UpdatedAt)
		for k, v := range r.Labels {
			a.labelID = append(a.labelID, r.ID)
			a.labelTenant = append(a.labelTenant, r.Tenant)
			a.labelKey = append(a.labelKey, k)
			a.labelValue = append(a.labelValue, v)
		}
		// Every key of Processing is a pending job due at CreatedAt; the
		// values are ignored.
		for _, p := range slices.Sorted(maps.Keys(r.Processing)) {
			a.jobID = append(a.jobID, r.ID)
			a.jobProcessor = append(a.jobProcessor, p)
			a.jobTenant = append(a.jobTenant, r.Tenant)
			a.jobRunAt = append(a.jobRunAt, a.createdAt[i])
		}
	}
	_, err := db.Exec(ctx, createRecords,
		a.id, a.tenant, a.filename, a.filenameLower, a.contentType, a.size, a.sha256, a.owner,
		a.labels, a.refs, a.createdBy, a.width, a.height, a.createdAt, a.updatedAt,
		nonNil(a.labelID), nonNil(a.labelTenant), nonNil(a.labelKey), nonNil(a.labelValue),
		nonNil(a.jobID), nonNil(a.jobProcessor), nonNil(a.jobTenant), nonNil(a.jobRunAt))
	if detail, ok := isUniqueViolation(err); ok {
		return fmt.Errorf("%s: %w", detail, metadata.ErrExists)
	}
	return err
}

// nonNil returns s, or an empty slice if s is nil: pgx sends a nil slice
// as NULL, which unnest would take for no rows too, but an empty array
// says what is meant.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Get implements metadata.Store: the record and its jobs' states are read
// by one statement, so they are of one moment.
func (s *Store) Get(ctx context.Context, tenant, id string) (_ *metadata.Record, err error) {
	release, err := s.acquire("get")
	if err != nil {
		return nil, err
	}
	defer release(&err)
	r, err := scanRecord(s.pool.QueryRow(ctx, getRecord, id, tenant))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("get", id)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: get %q: %w", id, err)
	}
	return r, nil
}

// Update implements metadata.Store: it reads the record with a row lock,
// changes it and writes it back in one transaction, so concurrent updates
// never lose each other's changes.
func (s *Store) Update(ctx context.Context, tenant, id string, u metadata.Update) (_ *metadata.Record, err error) {
	release, err := s.acquire("update")
	if err != nil {
		return nil, err
	}
	defer release(&err)
	r, err := s.update(ctx, tenant, id, u)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("update", id)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: update %q: %w", id, err)
	}
	return r, nil
}

func (s *Store) update(ctx context.Context, tenant, id string, u metadata.Update) (*metadata.Record, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	r, err := scanRecord(tx.QueryRow(ctx, lockRecord, id, tenant))
	if err != nil {
		return nil, err
	}
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

	// The writes and the read of the jobs' states go in one round trip.
	var b pgx.Batch
	b.Queue(updateRecord, id, r.Filename, lower(r.Filename), r.Owner, labels, refs,
		int64(r.Width), int64(r.Height), r.UpdatedAt, len(u.AddRefs) > 0)
	if u.Labels != nil {
		keys := slices.Sorted(maps.Keys(r.Labels))
		values := make([]string, len(keys))
		for i, k := range keys {
			values[i] = r.Labels[k]
		}
		b.Queue(deleteLabels, id)
		b.Queue(insertLabels, id, tenant, nonNil(keys), values)
	}
	var processing []byte
	b.Queue(selectStates, id).QueryRow(func(row pgx.Row) error { return row.Scan(&processing) })
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return nil, err
	}
	if err := unmarshalJSON(processing, &r.Processing); err != nil {
		return nil, fmt.Errorf("processing: %w", err)
	}
	if len(r.Processing) == 0 {
		r.Processing = nil
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Delete implements metadata.Store: the refs check and the removal are one
// statement, which a concurrent Update that adds a ref either precedes
// (the record is referenced: not deleted) or waits for (and then finds
// nothing). The record's labels and jobs go with it (ON DELETE CASCADE),
// so a claim held on one of its jobs is lost.
func (s *Store) Delete(ctx context.Context, tenant, id string, force bool) (err error) {
	release, err := s.acquire("delete")
	if err != nil {
		return err
	}
	defer release(&err)
	// Nothing deleted means the record was referenced, or not there: a
	// second look tells which. A record that is there and unreferenced at
	// the second look changed in between (a concurrent Update removed its
	// refs, or it was made again): the DELETE is tried again.
	for range 3 {
		tag, err := s.pool.Exec(ctx, deleteRecord, id, tenant, force)
		if err != nil {
			return fmt.Errorf("pgstore: delete %q: %w", id, err)
		}
		if tag.RowsAffected() == 1 {
			return nil
		}
		var referenced bool
		err = s.pool.QueryRow(ctx, recordReferenced, id, tenant).Scan(&referenced)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("delete", id)
		}
		if err != nil {
			return fmt.Errorf("pgstore: delete %q: %w", id, err)
		}
		if referenced && !force {
			return fmt.Errorf("pgstore: delete %q: %w", id, metadata.ErrReferenced)
		}
	}
	return fmt.Errorf("pgstore: delete %q: the record keeps changing; try again", id)
}
