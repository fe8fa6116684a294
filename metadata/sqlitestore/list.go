package sqlitestore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/attachkit/attachment/metadata"
)

// List implements metadata.Store with keyset pagination: the cursor is a
// bound on id, so a page costs the same however deep it is (see listQuery
// for the indexes walked). The page's Processing maps come from one more
// query over the page's IDs, in the same read transaction. q.Limit must be
// positive.
func (s *Store) List(ctx context.Context, q metadata.Query) ([]*metadata.Record, error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("sqlitestore: list: limit %d: limit must be positive", q.Limit)
	}
	release, err := s.acquire("list")
	if err != nil {
		return nil, err
	}
	defer release()
	out, err := s.list(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: list: %w", err)
	}
	return out, nil
}

func (s *Store) list(ctx context.Context, q metadata.Query) ([]*metadata.Record, error) {
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to commit
	query, args := listQuery(q)
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]*metadata.Record, 0, min(q.Limit, 64))
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if err := fillProcessing(ctx, tx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// listQuery returns the SELECT for q and its arguments. Every value is a
// parameter; only the shape of the statement depends on q.
//
// The statement walks one index in id order from the cursor and stops at
// the limit, so a page costs what it scans, never a sort: the owner index
// when q.Owner is set (owners are the usual narrow filter), else, with
// labels, the label index on (tenant, key, value, attachment_id) for the
// first label (so a rare label does not scan the tenant), else the table,
// whose primary key is (tenant, id). The other filters are checked on the
// rows walked.
func listQuery(q metadata.Query) (string, []any) {
	var b strings.Builder
	var args []any
	keys := slices.Sorted(maps.Keys(q.Labels))
	idCol := "a.id"
	if q.Owner == "" && len(keys) > 0 {
		// CROSS JOIN makes SQLite walk l first.
		idCol = "l.attachment_id"
		b.WriteString("SELECT " + recordColumnsOf("a") + " FROM attachment_labels l CROSS JOIN attachments a" +
			" WHERE l.tenant = ? AND l.key = ? AND l.value = ? AND a.id = l.attachment_id AND a.tenant = ?")
		args = append(args, q.Tenant, keys[0], q.Labels[keys[0]], q.Tenant)
		keys = keys[1:]
	} else {
		from := "attachments a" // the table itself, clustered by (tenant, id)
		if q.Owner != "" {
			// Without statistics the planner would rather walk the table.
			from = "attachments a INDEXED BY attachments_tenant_owner_id"
		}
		b.WriteString("SELECT " + recordColumnsOf("a") + " FROM " + from + " WHERE a.tenant = ?")
		args = append(args, q.Tenant)
	}
	if q.Owner != "" {
		b.WriteString(" AND a.owner = ?")
		args = append(args, q.Owner)
	}
	if q.After != "" {
		if q.Ascending {
			b.WriteString(" AND " + idCol + " > ?")
		} else {
			b.WriteString(" AND " + idCol + " < ?")
		}
		args = append(args, q.After)
	}
	if q.FilenameContains != "" {
		// instr, unlike LIKE, has no wildcards and no escapes.
		b.WriteString(" AND instr(a.filename_lower, ?) > 0")
		args = append(args, lower(q.FilenameContains))
	}
	if q.ContentTypePrefix != "" {
		// Compared as bytes, as strings.HasPrefix does.
		b.WriteString(" AND substr(CAST(a.content_type AS BLOB), 1, ?) = ?")
		args = append(args, len(q.ContentTypePrefix), []byte(q.ContentTypePrefix))
	}
	for _, k := range keys {
		b.WriteString(" AND EXISTS (SELECT 1 FROM attachment_labels x" +
			" WHERE x.attachment_id = a.id AND x.key = ? AND x.value = ?)")
		args = append(args, k, q.Labels[k])
	}
	if q.Ascending {
		b.WriteString(" ORDER BY " + idCol + " ASC")
	} else {
		b.WriteString(" ORDER BY " + idCol + " DESC")
	}
	b.WriteString(" LIMIT ?")
	args = append(args, q.Limit)
	return b.String(), args
}
