package sqlitestore

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

// A filename search answers the same from any of its grams as from a walk
// of the records (the plans listQuery builds), and as List, which chooses
// between them with a window (see Store.search), for texts that
// match often, rarely and never, after renames and deletes, with cursors,
// other filters and characters that are special to SQL, FTS or LIKE. And the
// choice itself follows the number of matching names.
func TestSearchPlansAgree(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "meta.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	s.searchWindow, s.searchCandidates = 20, 100

	names := []string{`Report "Q3".pdf`, "ÉTÉ-photo.JPG", "100%_done.txt", "a*b(c)^d.png", "notes NEAR x.md", "ünï-cødé.txt"}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var ids []string
	var batch []*metadata.Record
	for i := range 400 {
		id, err := uuid.NewV7()
		require.NoError(t, err)
		name := fmt.Sprintf("photo-%05d.jpg", i)
		if i%2 == 1 {
			// Common in t2, absent from t1: in t1 the index holds none of
			// them (it is keyed by tenant), in t2 too many to sort.
			name = fmt.Sprintf("photo-%05d-zz.jpg", i)
		}
		if i%10 == 0 {
			name = fmt.Sprintf("%s-%d", names[(i/10)%len(names)], i)
		}
		batch = append(batch, &metadata.Record{
			ID: id.String(), Tenant: []string{"t1", "t2"}[i%2], Filename: name, ContentType: "image/jpeg",
			Owner: fmt.Sprint("owner:", i%3), Labels: map[string]string{"k": fmt.Sprint(i % 5)}, CreatedAt: at, UpdatedAt: at,
		})
		ids = append(ids, id.String())
	}
	require.NoError(t, s.Create(ctx, batch))
	for i := 0; i < len(ids); i += 7 {
		tenant := []string{"t1", "t2"}[i%2]
		if i%2 == 0 {
			_, err := s.Update(ctx, tenant, ids[i], metadata.Update{Filename: new(fmt.Sprintf("Renamed-%d.bin", i)), UpdatedAt: at})
			require.NoError(t, err)
		} else {
			require.NoError(t, s.Delete(ctx, tenant, ids[i], true))
		}
	}

	texts := []string{"photo", "PHOTO-0", "photo-00123", "report", `"q3"`, `t "q`, "été", "ÉTÉ-P", "100%_", "%_d", "a*b(c)^d",
		"near x", "ünï-c", "renamed-7", "renamed-14.bin", "renamed-21", "zzz", "-zz", "zz.jp", ".jpg", "-1"}
	queries := []metadata.Query{{}, {Owner: "owner:1"}, {Labels: map[string]string{"k": "2"}}, {Ascending: true}, {After: ids[200]}, {After: ids[200], Ascending: true}}
	// Both tenants hold names of every kind: every search is run in each,
	// and each plan must list that tenant's records only.
	for _, tenant := range []string{"t1", "t2"} {
		for _, text := range texts {
			for _, base := range queries {
				searchAgrees(t, s, tenant, text, base)
			}
		}
	}

	require.NotEmpty(t, listAll(t, s, metadata.Query{Tenant: "t1", FilenameContains: "renamed-14.bin", Limit: 5}, "d-14."))
	require.Empty(t, listAll(t, s, metadata.Query{Tenant: "t1", FilenameContains: "photo-00014", Limit: 5}, "00014"), "a renamed record is found by its old name")
	require.Empty(t, listAll(t, s, metadata.Query{Tenant: "t2", FilenameContains: "photo-00007", Limit: 5}, "00007"), "a deleted record is found")
	var stale int
	require.NoError(t, s.r.QueryRowContext(ctx, `SELECT count(*) FROM attachment_grams WHERE seq NOT IN (SELECT seq FROM attachment_names)`).Scan(&stale))
	require.Zero(t, stale, "grams of deleted records are left")
	require.NoError(t, s.r.QueryRowContext(ctx, `SELECT count(*) FROM attachment_grams g JOIN attachment_names n ON n.seq = g.seq
		JOIN attachments a ON a.id = n.id WHERE instr(a.filename_lower, g.gram) = 0`).Scan(&stale))
	require.Zero(t, stale, "grams of old names are left")

	// The index is used when a gram of the search is rare, and not when all
	// are common.
	tx, err := s.r.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback() //nolint:errcheck // read-only
	for _, tc := range []struct{ tenant, text, want string }{
		{"t1", "photo", ""}, {"t1", "photo-0", ""}, {"t1", "report", "repor"}, {"t1", "photo-00123", "00123"},
		{"t2", "photo-00123", "00123"}, {"t1", "ab", ""}, {"t1", "", ""}, {"t1", "xyzzy-00123", "xyzzy"},
		// Common in t2 and in no name of t1: counted per tenant.
		{"t2", "-zz.j", ""}, {"t1", "-zz.j", "-zz.j"},
	} {
		got, err := rarestGram(ctx, tx, tc.tenant, tc.text, s.searchCandidates)
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "search %q in %s", tc.text, tc.tenant)
	}
}

// searchAgrees checks that the search for text in tenant, with the other
// filters of base, lists the same records from the first and the last of
// its grams, by a walk, and by List, and that they are the tenant's.
func searchAgrees(t *testing.T, s *Store, tenant, text string, base metadata.Query) {
	t.Helper()
	ctx := t.Context()
	q := base
	q.Tenant, q.FilenameContains, q.Limit = tenant, text, 23
	byWalk := listAll(t, s, q, "")
	if gs := grams(strings.ToLower(text)); len(gs) > 0 {
		// From its first and its last gram (the same one if it has
		// one).
		for _, g := range []string{gs[0], gs[len(gs)-1]} {
			require.Equal(t, byWalk, listAll(t, s, q, g), "search %q from gram %q in %+v", text, g, base)
		}
	}
	var byList []string // List's own choice of plans, page by page
	for {
		page, err := s.List(ctx, q)
		require.NoError(t, err)
		for _, r := range page {
			byList = append(byList, r.ID)
		}
		if len(page) < q.Limit {
			break
		}
		q.After = page[len(page)-1].ID
	}
	require.Equal(t, byWalk, byList, "search %q in %+v", text, base)
	for _, id := range byWalk {
		r, err := s.Get(ctx, tenant, id)
		require.NoError(t, err)
		require.Contains(t, strings.ToLower(r.Filename), strings.ToLower(text))
	}
}

// listAll lists every page of q, from the names that contain gram if set,
// else by a walk, and returns the IDs in the order listed.
func listAll(t *testing.T, s *Store, q metadata.Query, gram string) []string {
	t.Helper()
	var out []string
	for {
		tx, err := s.r.BeginTx(t.Context(), nil)
		require.NoError(t, err)
		query, args := listQuery(q, listPlan{gram: gram})
		rows, err := tx.QueryContext(t.Context(), query, args...)
		require.NoError(t, err)
		n := 0
		for rows.Next() {
			r, err := scanRecord(rows)
			require.NoError(t, err)
			out = append(out, r.ID)
			q.After = r.ID
			n++
		}
		require.NoError(t, rows.Err())
		require.NoError(t, tx.Rollback())
		if n < q.Limit {
			break
		}
	}
	require.Len(t, slices.Compact(slices.Clone(out)), len(out), "an ID is listed twice")
	return out
}

// Planning a search looks at no more than maxPlanGrams of its grams,
// spread along it, so that its work does not grow with the search's
// length: a gram that no name contains, but that is not among those, is
// not found (any gram narrows correctly; the first gram with the fewest
// names among those looked at is chosen).
func TestRarestGramLooksAtFewGrams(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "meta.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	text := "abcdefghijklmnopqrstuvwxyz0123" // 26 grams, of which spread skips the third, "cdefg"
	gs, _ := searchGrams(text)
	require.Len(t, gs, 26)
	require.NotContains(t, spread(gs, maxPlanGrams), "cdefg")
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var recs []*metadata.Record
	for i, name := range []string{"abcdef", "defghijklmnopqrstuvwxyz0123"} { // every gram of text but "cdefg"
		recs = append(recs, &metadata.Record{ID: fmt.Sprint("id-", i), Tenant: "t1", Filename: name, CreatedAt: at, UpdatedAt: at})
	}
	require.NoError(t, s.Create(ctx, recs))
	tx, err := s.r.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer tx.Rollback() //nolint:errcheck // read-only
	got, err := rarestGram(ctx, tx, "t1", text, s.searchCandidates)
	require.NoError(t, err)
	require.Equal(t, "abcde", got)
	got, err = rarestGram(ctx, tx, "t1", text[:20], s.searchCandidates) // 16 grams: all looked at
	require.NoError(t, err)
	require.Equal(t, "cdefg", got)

	require.Equal(t, []string{"a", "c", "e"}, spread([]string{"a", "b", "c", "d", "e"}, 3))
	require.Equal(t, []string{"a", "b"}, spread([]string{"a", "b"}, 3))
}
