package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

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
	out := make([]*metadata.Record, 0, min(q.Limit, 64))
	if _, ok := searchPhrase(lower(q.FilenameContains)); ok {
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

// search lists the page of q, whose filename search the trigram index can
// answer, in three steps, each only when the one before did not fill the
// page:
//
//  1. walk the first searchWindow records the query would walk without
//     its search, in order, keeping the matches: a common search (one name
//     in 50 or more) ends here, at the cost of a plain list;
//  2. if at most searchCandidates names match in the whole index, read
//     them from the index and list those past the window, sorted;
//  3. else walk on past the window: the matches are at least one in
//     n/searchCandidates of n names, so the page is near.
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
	viaIndex, err := searchIndexed(ctx, tx, q.FilenameContains, s.searchCandidates)
	if err != nil {
		return nil, err
	}
	return queryRecords(ctx, tx, rest, listPlan{viaIndex: viaIndex}, out)
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

// Search costs (see Store.search). Reading a candidate name from the
// trigram index costs about as much as walking ten records, and FTS5 reads
// a phrase's whole doclists, so a common search is best answered by a
// walk: defaultSearchWindow records cover a page of 20 when one name in 50
// matches. defaultSearchCandidates is the most names a search reads from
// the index and sorts; a search that matches more walks on, and finds a
// page of 20 within about 20*n/512 records of a tenant of n.
const (
	defaultSearchWindow     = 1024
	defaultSearchCandidates = 512
)

// searchPhrase returns the FTS5 query that matches the names containing
// text (already lowercased): the text as one quoted phrase, whose trigrams
// must appear in order and next to each other. ok is false when the index
// cannot answer: text of fewer than three characters has no trigram, and
// text that is not valid UTF-8 or holds a NUL is not tokenized as stored
// names are.
func searchPhrase(text string) (phrase string, ok bool) {
	if utf8.RuneCountInString(text) < 3 || !utf8.ValidString(text) || strings.ContainsRune(text, 0) {
		return "", false
	}
	return `"` + strings.ReplaceAll(text, `"`, `""`) + `"`, true
}

// searchIndexed reports whether a filename search for text matches at most
// limit names in the trigram index, so that listQuery should start from
// them. It counts no further than one more.
func searchIndexed(ctx context.Context, tx *sql.Tx, text string, limit int) (bool, error) {
	if text == "" {
		return false, nil
	}
	phrase, ok := searchPhrase(lower(text))
	if !ok {
		return false, nil
	}
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM
		(SELECT 1 FROM attachment_names_fts WHERE attachment_names_fts MATCH ? LIMIT ?)`,
		phrase, limit+1).Scan(&n)
	if err != nil {
		return false, err
	}
	return n <= limit, nil
}

// listPlan varies the statement listQuery builds for a query.
type listPlan struct {
	// viaIndex starts from the names that the trigram index matches with
	// the query's filename search (see searchIndexed).
	viaIndex bool
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
// With p.viaIndex (q's filename search matches few names) the statement
// reads the matching names from the trigram index, checks the other
// filters on their records, and sorts what is left by id.
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
	phrase, ok := searchPhrase(lower(q.FilenameContains))
	viaIndex := p.viaIndex && ok && !p.idsOnly
	cols := recordColumnsOf("a")
	if viaIndex {
		// CROSS JOIN keeps the order: index, names, records.
		b.WriteString("SELECT " + cols + " FROM attachment_names_fts f" +
			" CROSS JOIN attachment_names n CROSS JOIN attachments a" +
			" WHERE attachment_names_fts MATCH ? AND n.seq = f.rowid AND a.id = n.id AND a.tenant = ?")
		args = append(args, phrase, q.Tenant)
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
	if q.FilenameContains != "" && !viaIndex && !p.idsOnly {
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
