package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/attachkit/attachment/metadata"
)

// insertJob makes one pending job, never claimed, due at run_at.
const insertJob = `INSERT INTO jobs
	(attachment_id, processor, tenant, state, attempt, run_at, lease_until, error, updated_at)
	VALUES (?, ?, ?, 'pending', 0, ?, NULL, '', ?)`

// createJobs inserts, with the prepared insertJob, a pending job due at
// r.CreatedAt for each key of r.Processing (whose values are ignored).
func createJobs(ctx context.Context, ins *sql.Stmt, r *metadata.Record) error {
	at := toMicros(r.CreatedAt)
	for _, p := range slices.Sorted(maps.Keys(r.Processing)) {
		if _, err := ins.ExecContext(ctx, r.ID, p, r.Tenant, at, at); err != nil {
			return fmt.Errorf("job %q: %w", p, err)
		}
	}
	return nil
}

// querier is what fillProcessing reads with: a *sql.Tx (or *sql.DB).
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// processingBatch is the most IDs one query of fillProcessing takes, far
// below SQLite's limit on parameters (32766): a page of up to this many
// records costs one query.
const processingBatch = 1000

// fillProcessing sets the Processing map of each record in recs from the
// jobs table, leaving it nil for a record without jobs. It reads the jobs
// of the whole page at once, a primary key lookup per ID, rather than one
// query per record.
func fillProcessing(ctx context.Context, q querier, recs []*metadata.Record) error {
	byID := make(map[string]*metadata.Record, len(recs))
	for _, r := range recs {
		byID[r.ID] = r
	}
	for batch := range slices.Chunk(recs, processingBatch) {
		args := make([]any, len(batch))
		for i, r := range batch {
			args[i] = r.ID
		}
		query := `SELECT attachment_id, processor, state FROM jobs WHERE attachment_id IN (?` +
			strings.Repeat(", ?", len(batch)-1) + `)`
		if err := scanStates(ctx, q, query, args, byID); err != nil {
			return fmt.Errorf("jobs: %w", err)
		}
	}
	return nil
}

// scanStates runs query and adds each (attachment_id, processor, state)
// row to the Processing map of its record in byID.
func scanStates(ctx context.Context, q querier, query string, args []any, byID map[string]*metadata.Record) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, processor, state string
		if err := rows.Scan(&id, &processor, &state); err != nil {
			return err
		}
		r := byID[id]
		if r == nil {
			continue
		}
		if r.Processing == nil {
			r.Processing = make(map[string]string)
		}
		r.Processing[processor] = state
	}
	return rows.Err()
}
