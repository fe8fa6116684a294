package pgstore

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/attachkit/attachment/metadata"
)

// List implements metadata.Store with keyset pagination: the cursor is a
// bound on id, so a page costs the same however deep it is (see listQuery
// for the indexes read). The page's Processing maps are read by the same
// statement. q.Limit must be positive.
func (s *Store) List(ctx context.Context, q metadata.Query) (_ []*metadata.Record, err error) {
	if q.Limit <= 0 {
		return nil, fmt.Errorf("pgstore: list: limit %d: limit must be positive", q.Limit)
	}
	release, err := s.acquire("list")
	if err != nil {
		return nil, err
	}
	defer release(&err)
	out, err := s.list(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list: %w", err)
	}
	return out, nil
}

func (s *Store) list(ctx context.Context, q metadata.Query) ([]*metadata.Record, error) {
	query, args := listQuery(q, s.searchWalk)
	rows, err := s.pool.Query(ctx, query, append([]any{s.listMode(q)}, args...)...)
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
	return out, nil
}

// defaultSearchWalk is how many records a filename search reads in ID
// order before it turns to the filename indexes (see listQuery).
const defaultSearchWalk = 1000

// searchMode is the query mode of filename searches on a pool whose
// default is mode. pgx's default prepares each statement once per
// connection, and after a few runs the server may settle on a generic plan
// that ignores the search's words. An unnamed statement
// (QueryExecModeCacheDescribe, one round trip like the default) is planned
// for its parameters every time. Other modes already are, or were chosen
// by the host for a reason (a connection pooler): they are kept.
func searchMode(mode pgx.QueryExecMode) pgx.QueryExecMode {
	if mode == pgx.QueryExecModeCacheStatement {
		return pgx.QueryExecModeCacheDescribe
	}
	return mode
}

// listMode is the query mode of List(q): the pool's default, unless q
// searches filenames.
func (s *Store) listMode(q metadata.Query) pgx.QueryExecMode {
	if q.FilenameContains != "" {
		return s.searchMode
	}
	return s.mode
}

// listQuery returns the statement of List(q) and its arguments. Every
// value is a parameter; only the shape of the statement depends on q.
//
// A page is read in id order, from the cursor, from one index (the
// driver), and the walk stops at the limit: with q.Owner, the index
// attachments_tenant_owner_id (tenant, owner, id); else, with labels,
// attachment_labels_tenant_key_value (tenant, key, value, attachment_id)
// for the first label, joined to the records; else the primary key
// (tenant, id). The other filters are checked on the rows walked, so a
// page costs what it walks, and never a sort.
//
// That walk is cheap when the filters match often, and reads the whole
// tenant when they match rarely. For the filters that are usually rare, a
// filename search of three characters or more, the statement walks at
// most walk records; when it has not found a page among them, it collects
// the further matches from a filename index (see searchCondition) and
// sorts them: a rare name has few. Which way a search goes is thus decided by
// what the walk finds, not by the planner's estimate of how often a name
// matches, which can be wrong by orders of magnitude either way, and the
// work is bounded both ways: a common name costs a walk to its first
// matches, a rare one a walk of walk records and its matches.
func listQuery(q metadata.Query, walk int) (string, []any) {
	b := newListBuilder(q)
	if b.indexed == "" {
		return b.walk(q.Limit), b.args
	}
	return b.search(q.Limit, walk), b.args
}

// minSearch is the fewest characters of a search that the filename
// indexes can narrow: they have no key for fewer (see shortGramLen).
const minSearch = 3

// listBuilder writes the parts of listQuery's statements, adding their
// parameters to args.
type listBuilder struct {
	args    []any
	from    string // the driver: the FROM clause that gives rows in idCol order
	idCol   string // the id the driver orders by: a.id or l.attachment_id
	driver  string // the driver's conditions: tenant, owner or first label, cursor
	filters string // every other condition, on a.*, to check on the rows walked
	indexed string // filters as the filename indexes answer them; empty if they cannot
	dir     string // " DESC" or " ASC"
	before  string // the comparison of an id that comes before in the order: "<" or ">"
}

func newListBuilder(q metadata.Query) *listBuilder {
	b := &listBuilder{dir: " DESC", before: "<"}
	if q.Ascending {
		b.dir, b.before = " ASC", ">"
	}
	tenant := b.arg(q.Tenant)
	keys := slices.Sorted(maps.Keys(q.Labels))
	var driver []string
	switch {
	case q.Owner != "":
		b.from, b.idCol = "attachments a", "a.id"
		driver = append(driver, "a.tenant = "+tenant, "a.owner = "+b.arg(q.Owner))
	case len(keys) > 0:
		b.from = "attachment_labels l JOIN attachments a ON a.tenant = l.tenant AND a.id = l.attachment_id"
		b.idCol = "l.attachment_id"
		driver = append(driver, "l.tenant = "+tenant, "l.key = "+b.arg(keys[0]), "l.value = "+b.arg(q.Labels[keys[0]]))
		keys = keys[1:]
	default:
		b.from, b.idCol = "attachments a", "a.id"
		driver = append(driver, "a.tenant = "+tenant)
	}
	if q.After != "" {
		driver = append(driver, b.idCol+" "+b.before+" "+b.arg(q.After))
	}
	b.driver = strings.Join(driver, " AND ")

	var others []string // the filters other than the filename's
	if q.ContentTypePrefix != "" {
		// content_type is COLLATE "C": compared as bytes, as
		// strings.HasPrefix does.
		others = append(others, "starts_with(a.content_type, "+b.arg(q.ContentTypePrefix)+")")
	}
	for _, k := range keys {
		others = append(others, "EXISTS (SELECT 1 FROM attachment_labels x WHERE x.tenant = a.tenant AND x.attachment_id = a.id AND x.key = "+
			b.arg(k)+" AND x.value = "+b.arg(q.Labels[k])+")")
	}
	b.filters = strings.Join(others, " AND ")
	if q.FilenameContains != "" {
		sub := lower(q.FilenameContains)
		b.filters = strings.Join(append([]string{matchCondition(sub, b.arg)}, others...), " AND ")
		if len([]rune(sub)) >= minSearch {
			b.indexed = strings.Join(append([]string{searchCondition(sub, q.Tenant, b.arg)}, others...), " AND ")
		}
	}
	return b
}

func (b *listBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

// and returns " AND " and the filters, or nothing when there are none.
func (b *listBuilder) and() string {
	if b.filters == "" {
		return ""
	}
	return " AND " + b.filters
}

// walk is the statement that walks the driver and checks the filters on
// its rows, until it has limit matches.
func (b *listBuilder) walk(limit int) string {
	return "SELECT " + recordColumns + ", " + processingColumn + " FROM " + b.from +
		" WHERE " + b.driver + b.and() + " ORDER BY " + b.idCol + b.dir + " LIMIT " + b.arg(limit)
}

// search is the statement of a filename search: the walk of at most budget
// rows (CTE walked); then, unless it found limit matches or walked every
// row of the driver, the matches beyond its last row in the list's order
// (edge, the budget-th row of the driver), collected by whichever index
// serves the filters best (the OFFSET 0 fence keeps the planner from
// walking the driver in order instead) and sorted. The second branch's
// conditions refer to no row: the server checks them once, before it runs
// the branch, and runs it only when they hold.
func (b *listBuilder) search(limit, budget int) string {
	lim := b.arg(limit)
	return "WITH walked AS MATERIALIZED (" + b.walkCTE(lim, budget) + ")," +
		" edge AS MATERIALIZED (SELECT " + b.idCol + " AS id FROM " + b.edgeFrom() + " WHERE " + b.driver +
		" ORDER BY " + b.idCol + b.dir + " OFFSET " + b.arg(budget-1) + " LIMIT 1)" +
		" SELECT " + recordColumns + ", " + processingColumn + " FROM (" +
		"SELECT * FROM walked UNION ALL" +
		" SELECT * FROM (SELECT a.* FROM " + b.from + " WHERE " + b.driver + " AND " + b.indexed +
		" AND " + b.idCol + " " + b.before + " (SELECT id FROM edge) OFFSET 0) older" +
		" WHERE (SELECT count(*) FROM walked) < " + lim + " AND EXISTS (SELECT 1 FROM edge)" +
		") a ORDER BY a.id" + b.dir + " LIMIT " + lim
}

// walkCTE is the walk of at most budget rows of the driver, and of the
// first lim (a placeholder) matches among them.
func (b *listBuilder) walkCTE(lim string, budget int) string {
	return "SELECT a.* FROM (SELECT a.* FROM " + b.from + " WHERE " + b.driver +
		" ORDER BY " + b.idCol + b.dir + " LIMIT " + b.arg(budget) + ") a" +
		" WHERE " + b.filters + " ORDER BY a.id" + b.dir + " LIMIT " + lim
}

// edgeFrom is the driver without the records, where the driver is the
// label index: the edge needs its ids only.
func (b *listBuilder) edgeFrom() string {
	if b.idCol == "l.attachment_id" {
		return "attachment_labels l"
	}
	return b.from
}
