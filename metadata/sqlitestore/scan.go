package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/attachkit/attachment/metadata"
)

var _ metadata.Scanner = (*Store)(nil)

// lookupRecord is getRecord without the tenant.
const lookupRecord = `SELECT ` + recordColumns + `, (SELECT json_group_object(processor, state) FROM jobs WHERE jobs.attachment_id = attachments.id) FROM attachments WHERE id = ?`

// Lookup implements metadata.Scanner.
func (s *Store) Lookup(ctx context.Context, id string) (_ *metadata.Record, err error) {
	release, err := s.acquire("lookup")
	if err != nil {
		return nil, err
	}
	defer release(&err)
	var processing sql.NullString
	r, err := scanRecord(withExtra{s.r.QueryRowContext(ctx, lookupRecord, id), []any{&processing}})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("lookup", id)
	}
	if err == nil && processing.Valid && processing.String != "{}" {
		err = json.Unmarshal([]byte(processing.String), &r.Processing)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: lookup %q: %w", id, err)
	}
	return r, nil
}

// Scan implements metadata.Scanner. It reads the id index (or, for
// NeverReferenced, the partial index of never-referenced records) in
// order from q.After.
func (s *Store) Scan(ctx context.Context, q metadata.ScanQuery) (_ []*metadata.Record, err error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("sqlitestore: scan: limit %d: limit must be positive", q.Limit)
	}
	release, err := s.acquire("scan")
	if err != nil {
		return nil, err
	}
	defer release(&err)
	var (
		where = []string{"id > ?"}
		args  = []any{q.After}
	)
	if q.Before != "" {
		where = append(where, "id < ?")
		args = append(args, q.Before)
	}
	if q.NeverReferenced {
		where = append(where, "ever_referenced = 0")
	}
	args = append(args, q.Limit)
	rows, err := s.r.QueryContext(ctx, `SELECT `+recordColumns+` FROM attachments WHERE `+
		strings.Join(where, " AND ")+` ORDER BY id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: scan: %w", err)
	}
	defer rows.Close()
	out := make([]*metadata.Record, 0, min(q.Limit, 64))
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlitestore: scan: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlitestore: scan: %w", err)
	}
	return out, nil
}
