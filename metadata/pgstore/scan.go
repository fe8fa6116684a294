package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/attachkit/attachment/metadata"
)

var _ metadata.Scanner = (*Store)(nil)

// lookupRecord is getRecord without the tenant.
const lookupRecord = `SELECT ` + recordColumns + `, ` + processingColumn + `
	FROM attachments a WHERE a.id = $1`

// Lookup implements metadata.Scanner.
func (s *Store) Lookup(ctx context.Context, id string) (_ *metadata.Record, err error) {
	release, err := s.acquire("lookup")
	if err != nil {
		return nil, err
	}
	defer release(&err)
	r, err := scanRecord(s.pool.QueryRow(ctx, lookupRecord, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("lookup", id)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: lookup %q: %w", id, err)
	}
	return r, nil
}

// Scan implements metadata.Scanner. It walks one of the indexes of
// migration 0002 from q.After: attachments_never_referenced for
// NeverReferenced, else attachments_scan, an index on (a.id || ”), which
// the query therefore filters and orders by.
func (s *Store) Scan(ctx context.Context, q metadata.ScanQuery) (_ []*metadata.Record, err error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("pgstore: scan: limit %d: limit must be positive", q.Limit)
	}
	release, err := s.acquire("scan")
	if err != nil {
		return nil, err
	}
	defer release(&err)
	query, args := scanQuery(q)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore: scan: %w", err)
	}
	out := make([]*metadata.Record, 0, min(q.Limit, 64))
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("pgstore: scan: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: scan: %w", err)
	}
	return out, nil
}

// scanQuery returns Scan's query for q and its arguments.
func scanQuery(q metadata.ScanQuery) (string, []any) {
	key := "(a.id || '')"
	var where []string
	if q.NeverReferenced {
		key = "a.id"
		where = append(where, "NOT a.ever_referenced")
	}
	args := []any{q.After}
	where = append(where, key+" > $1")
	if q.Before != "" {
		args = append(args, q.Before)
		where = append(where, key+" < $"+strconv.Itoa(len(args)))
	}
	args = append(args, q.Limit)
	return `SELECT ` + recordColumns + `, NULL::jsonb FROM attachments a WHERE ` +
		strings.Join(where, " AND ") + ` ORDER BY ` + key + ` LIMIT $` + strconv.Itoa(len(args)), args
}
