package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
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
func (s *Store) List(ctx context.Context, q metadata.Query) (_ []*metadata.Record, err error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("sqlitestore: list: limit %d: limit must be positive", q.Limit)
	}
	release, err := s.acquire("list")
	if err != nil {
		return nil, err
	}
	defer release(&err)
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
	out := make([]*metadata.Record, 0, min(q.Limit, 64))
	if _, ok := searchGrams(lower(q.FilenameContains)); ok {
		out, err = s.search(ctx, tx, q, out)
	} else {
		out, err = queryRecords(ctx, tx, q, listPlan{}, out)
	}
	if err != nil {
		return nil, err
	}
	if err := fillProcessing(ctx, tx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// search lists the page of q, whose filename search the gram index can
// answer, in three steps, each only when the one before did not fill the
// page:
//
//  1. walk the first searchWindow records the query would walk without
//     its search, in order, keeping the matches: a common search (one name
//     in 50 or more) ends here, at the cost of a plain list;
//  2. if one of the search's grams is in at most searchCandidates of the
//     tenant's names, read those from the gram index, check them, and
//     list those past the window, sorted: a rare name has a rare gram
//     (the index is keyed by tenant: other tenants' names are not read,
//     nor counted, so they do not change the work or the time);
//  3. else walk on past the window.
func (s *Store) search(ctx context.Context, tx *sql.Tx, q metadata.Query, out []*metadata.Record) ([]*metadata.Record, error) {
	var bound string
	query, args := listQuery(q, listPlan{idsOnly: true, offset: s.searchWindow - 1})
	err := tx.QueryRowContext(ctx, query, args...).Scan(&bound)
	if errors.Is(err, sql.ErrNoRows) {
		// The whole walk is shorter than the window.
		return queryRecords(ctx, tx, q, listPlan{}, out)
	}
	if err != nil {
		return nil, err
	}
	out, err = queryRecords(ctx, tx, q, listPlan{bound: bound}, out)
	if err != nil || len(out) == q.Limit {
		return out, err
	}
	rest := q
	rest.After, rest.Limit = bound, q.Limit-len(out)
	gram, err := rarestGram(ctx, tx, q.Tenant, q.FilenameContains, s.searchCandidates)
	if err != nil {
		return nil, err
	}
	return queryRecords(ctx, tx, rest, listPlan{gram: gram}, out)
}

// queryRecords appends the records that listQuery(q, p) selects to out.
func queryRecords(ctx context.Context, tx *sql.Tx, q metadata.Query, p listPlan, out []*metadata.Record) ([]*metadata.Record, error) {
	query, args := listQuery(q, p)
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Search costs (see Store.search). Reading a candidate from the gram
// index and checking its record costs about as much as walking ten
// records, so a common search is best answered by a walk:
// defaultSearchWindow records cover a page of 20 when one name in 50
// matches. defaultSearchCandidates is the most names a search reads from
// the gram index; counting a gram's names reads no more than that.
const (
	defaultSearchWindow     = 1024
	defaultSearchCandidates = 512
)

// rarestGram returns the gram of the filename search text that the fewest
// of tenant's names contain, if they are at most limit, and "" if every
// gram is in more names (or text has no grams). It looks at no more than
// maxPlanGrams of text's grams, spread along it, so that a long text costs
// no more to plan than one of 20 characters. Counting reads a gram's
// entries, so it first counts each gram's names only up to 16 (a rare name
// usually has a gram that rare), and counts further, up to limit, only
// when none is; it stops at a gram that no name contains. The work is thus
// at most 2*maxPlanGrams counts of at most limit+1 entries, all of tenant.
func rarestGram(ctx context.Context, tx *sql.Tx, tenant, text string, limit int) (string, error) {
	gs, ok := searchGrams(lower(text))
	if !ok {
		return "", nil
	}
	gs = spread(gs, maxPlanGrams)
	for _, bound := range []int{min(16, limit), limit} {
		best, bestN := "", bound+1
		for _, g := range gs {
			var n int
			err := tx.QueryRowContext(ctx, `SELECT count(*) FROM
				(SELECT 1 FROM attachment_grams WHERE tenant = ? AND gram = ? LIMIT ?)`, tenant, g, bestN).Scan(&n)
			if err != nil {
				return "", err
			}
			if n < bestN {
				best, bestN = g, n
				if n == 0 {
					break
				}
			}
		}
		if best != "" {
			return best, nil
		}
	}
	return "", nil
}

// listPlan varies the statement listQuery builds for a query.
type listPlan struct {
	// gram, if set, starts from the names that contain it (a gram of the
	// query's filename search; see rarestGram).
	gram string
	// bound, if set, ends the walk at this id (included).
	bound string
	// idsOnly selects the id of the offset-th record the walk reaches
	// without the filename search: the bound of a window of offset+1.
	idsOnly bool
	offset  int
}

// listQuery returns the SELECT for q and its arguments. Every value is a
// parameter; only the shape of the statement depends on q and p.
//
// With p.gram (a rare gram of q's filename search) the statement reads
// the tenant's names that contain the gram from the gram index, checks the search
// and the other filters on their records, and sorts what is left by id.
//
// Otherwise it walks one index in id order from the cursor and stops at
// the limit, so a page costs what it scans, never a sort: the owner index
// when q.Owner is set (owners are the usual narrow filter), else, with
// labels, the label index on (tenant, key, value, attachment_id) for the
// first label (so a rare label does not scan the tenant), else the table,
// whose primary key is (tenant, id). The other filters are checked on the
// rows walked.
func listQuery(q metadata.Query, p listPlan) (string, []any) {
	var b strings.Builder
	var args []any
	keys := slices.Sorted(maps.Keys(q.Labels))
	idCol := "a.id"
	cols := recordColumnsOf("a")
	if p.gram != "" && !p.idsOnly {
		// CROSS JOIN keeps the order: grams, names, records.
		b.WriteString("SELECT " + cols + " FROM attachment_grams g" +
			" CROSS JOIN attachment_names n CROSS JOIN attachments a" +
			" WHERE g.tenant = ? AND g.gram = ? AND n.seq = g.seq AND a.id = n.id AND a.tenant = ?")
		args = append(args, q.Tenant, p.gram, q.Tenant)
	} else if q.Owner == "" && len(keys) > 0 {
		// CROSS JOIN makes SQLite walk l first.
		idCol = "l.attachment_id"
		if p.idsOnly {
			cols = idCol
		}
		b.WriteString("SELECT " + cols + " FROM attachment_labels l CROSS JOIN attachments a" +
			" WHERE l.tenant = ? AND l.key = ? AND l.value = ? AND a.id = l.attachment_id AND a.tenant = ?")
		args = append(args, q.Tenant, keys[0], q.Labels[keys[0]], q.Tenant)
		keys = keys[1:]
	} else {
		from := "attachments a" // the table itself, clustered by (tenant, id)
		if q.Owner != "" {
			// Without statistics the planner would rather walk the table.
			from = "attachments a INDEXED BY attachments_tenant_owner_id"
		}
		if p.idsOnly {
			cols = idCol
		}
		b.WriteString("SELECT " + cols + " FROM " + from + " WHERE a.tenant = ?")
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
	if p.bound != "" {
		if q.Ascending {
			b.WriteString(" AND " + idCol + " <= ?")
		} else {
			b.WriteString(" AND " + idCol + " >= ?")
		}
		args = append(args, p.bound)
	}
	if q.FilenameContains != "" && !p.idsOnly {
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
	if p.idsOnly {
		b.WriteString(" LIMIT 1 OFFSET ?")
		args = append(args, p.offset)
	} else {
		b.WriteString(" LIMIT ?")
		args = append(args, q.Limit)
	}
	return b.String(), args
}
