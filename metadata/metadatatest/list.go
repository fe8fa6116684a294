package metadatatest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

func listTests() []test {
	return []test{
		{"Empty", testListEmpty},
		{"TenantIsolation", testListTenants},
		{"OrderDescendingByDefault", testListDescending},
		{"OrderAscending", testListAscending},
		{"Limit", testListLimit},
		{"PagesWalkEverything", testListPages},
		{"PagesWithFilter", testListPagesFiltered},
		{"AfterDeletedID", testListAfterDeleted},
		{"AfterIDThatNeverExisted", testListAfterUnknown},
		{"AfterOutlivesNewRecords", testListAfterWithNewRecords},
	}
}

// sortedIDs returns the IDs of recs in the order List must return them.
func sortedIDs(recs []*metadata.Record, ascending bool) []string {
	out := ids(recs)
	slices.Sort(out)
	if !ascending {
		slices.Reverse(out)
	}
	return out
}

// walk lists every page of q, Limit at a time, each page starting after
// the last ID of the one before, and checks that no ID comes twice.
func walk(t *testing.T, s metadata.Store, q metadata.Query) []string {
	t.Helper()
	var all []string
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10_000, "pagination does not end")
		page := list(t, s, q)
		if len(page) == 0 {
			return all
		}
		for _, id := range page {
			require.False(t, seen[id], "ID %s listed twice", id)
			seen[id] = true
		}
		all = append(all, page...)
		q.After = page[len(page)-1]
	}
}

func testListEmpty(t *testing.T, s metadata.Store) {
	recs, err := s.List(t.Context(), metadata.Query{Tenant: "t1", Limit: 10})
	require.NoError(t, err)
	require.Empty(t, recs)
	mustCreate(t, s, newRecord(t, "t1"))
	require.Empty(t, list(t, s, metadata.Query{Tenant: "t2"}))
	require.Empty(t, list(t, s, metadata.Query{Tenant: "t1", Owner: "nobody"}))
}

func testListTenants(t *testing.T, s metadata.Store) {
	// Interleave the tenants so that ID order alone does not separate them.
	var t1, t2, none []*metadata.Record
	for range 5 {
		t1 = append(t1, newRecord(t, "t1"))
		t2 = append(t2, newRecord(t, "t2"))
		none = append(none, newRecord(t, ""))
	}
	mustCreate(t, s, slices.Concat(t1, t2, none)...)
	require.Equal(t, sortedIDs(t1, false), list(t, s, metadata.Query{Tenant: "t1"}))
	require.Equal(t, sortedIDs(t2, true), list(t, s, metadata.Query{Tenant: "t2", Ascending: true}))
	require.Equal(t, sortedIDs(none, false), list(t, s, metadata.Query{Tenant: ""}))
	// Same owner in every tenant: still only the asked tenant's.
	require.Equal(t, sortedIDs(t2, false), list(t, s, metadata.Query{Tenant: "t2", Owner: "document:1"}))
}

// shuffled returns recs in an order unrelated to their IDs, so that a store
// that lists in insertion order does not pass by accident.
func shuffled(recs []*metadata.Record) []*metadata.Record {
	out := slices.Clone(recs)
	for i := range out {
		j := (i*7 + 3) % len(out)
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func testListDescending(t *testing.T, s metadata.Store) {
	recs := newRecords(t, 12, "t1")
	for _, r := range shuffled(recs) {
		mustCreate(t, s, r)
	}
	got := list(t, s, metadata.Query{Tenant: "t1"})
	require.Equal(t, sortedIDs(recs, false), got)
	require.Equal(t, recs[len(recs)-1].ID, got[0], "newest first")
}

func testListAscending(t *testing.T, s metadata.Store) {
	recs := newRecords(t, 12, "t1")
	for _, r := range shuffled(recs) {
		mustCreate(t, s, r)
	}
	got := list(t, s, metadata.Query{Tenant: "t1", Ascending: true})
	require.Equal(t, sortedIDs(recs, true), got)
	require.Equal(t, recs[0].ID, got[0], "oldest first")
}

func testListLimit(t *testing.T, s metadata.Store) {
	recs := newRecords(t, 10, "t1")
	mustCreate(t, s, recs...)
	desc, asc := sortedIDs(recs, false), sortedIDs(recs, true)
	for _, limit := range []int{1, 3, 9, 10, 11, 1000} {
		want := min(limit, len(recs))
		require.Equal(t, desc[:want], list(t, s, metadata.Query{Tenant: "t1", Limit: limit}), "limit %d", limit)
		require.Equal(t, asc[:want], list(t, s, metadata.Query{Tenant: "t1", Limit: limit, Ascending: true}), "limit %d", limit)
	}
}

func testListPages(t *testing.T, s metadata.Store) {
	recs := newRecords(t, 23, "t1")
	mustCreate(t, s, shuffled(recs)...)
	mustCreate(t, s, newRecords(t, 5, "t2")...)
	for _, limit := range []int{1, 5, 7, 23, 50} {
		for _, asc := range []bool{false, true} {
			got := walk(t, s, metadata.Query{Tenant: "t1", Limit: limit, Ascending: asc})
			require.Equal(t, sortedIDs(recs, asc), got, "limit %d ascending %v", limit, asc)
		}
	}
}

func testListPagesFiltered(t *testing.T, s metadata.Store) {
	var want []*metadata.Record
	for i := range 30 {
		r := newRecord(t, "t1", func(r *metadata.Record) {
			r.Owner = fmt.Sprintf("owner:%d", i%3)
			r.Labels = map[string]string{"parity": fmt.Sprint(i % 2)}
		})
		if i%3 == 1 && i%2 == 0 {
			want = append(want, r)
		}
		mustCreate(t, s, r)
	}
	require.Len(t, want, 5)
	for _, asc := range []bool{false, true} {
		got := walk(t, s, metadata.Query{
			Tenant: "t1", Owner: "owner:1", Labels: map[string]string{"parity": "0"},
			Limit: 2, Ascending: asc,
		})
		require.Equal(t, sortedIDs(want, asc), got, "ascending %v", asc)
	}
}

// A cursor stays good after its record is deleted: the walk goes on from
// where that record was.
func testListAfterDeleted(t *testing.T, s metadata.Store) {
	recs := newRecords(t, 10, "t1")
	mustCreate(t, s, recs...)
	for _, asc := range []bool{false, true} {
		q := metadata.Query{Tenant: "t1", Limit: 4, Ascending: asc}
		page := list(t, s, q)
		require.Len(t, page, 4)
		cursor := page[3]
		require.NoError(t, s.Delete(t.Context(), "t1", cursor, true))

		all := sortedIDs(recs, asc)
		at := slices.Index(all, cursor)
		q.After = cursor
		q.Limit = 100
		require.Equal(t, all[at+1:], list(t, s, q), "ascending %v", asc)

		// Put it back for the other direction.
		mustCreate(t, s, recs[slices.IndexFunc(recs, func(r *metadata.Record) bool { return r.ID == cursor })])
	}
}

// After need not be an ID that ever existed; records are compared to it by
// ID order.
func testListAfterUnknown(t *testing.T, s metadata.Store) {
	older := newRecords(t, 3, "t1")
	between := newID(t)
	newer := newRecords(t, 3, "t1")
	after := newID(t)
	mustCreate(t, s, slices.Concat(older, newer)...)

	require.Equal(t, sortedIDs(older, false), list(t, s, metadata.Query{Tenant: "t1", After: between}))
	require.Equal(t, sortedIDs(newer, true), list(t, s, metadata.Query{Tenant: "t1", After: between, Ascending: true}))
	require.Equal(t, sortedIDs(slices.Concat(older, newer), false), list(t, s, metadata.Query{Tenant: "t1", After: after}))
	require.Empty(t, list(t, s, metadata.Query{Tenant: "t1", After: after, Ascending: true}))
	require.Empty(t, list(t, s, metadata.Query{Tenant: "t1", After: older[0].ID}))
}

// Records created during an ascending walk show up at its end; a
// descending walk, which started before them, does not see them.
func testListAfterWithNewRecords(t *testing.T, s metadata.Store) {
	recs := newRecords(t, 6, "t1")
	mustCreate(t, s, recs...)

	asc := list(t, s, metadata.Query{Tenant: "t1", Limit: 3, Ascending: true})
	desc := list(t, s, metadata.Query{Tenant: "t1", Limit: 3})
	added := newRecords(t, 2, "t1")
	mustCreate(t, s, added...)

	rest := list(t, s, metadata.Query{Tenant: "t1", Ascending: true, After: asc[2]})
	require.Equal(t, append(sortedIDs(recs, true)[3:], sortedIDs(added, true)...), rest)
	rest = list(t, s, metadata.Query{Tenant: "t1", After: desc[2]})
	require.Equal(t, sortedIDs(recs, false)[3:], rest)
}
