package metadatatest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

// searchTenantRecords is how many records testFilterFilenameTenants stores
// in the tenant it searches: more than a store walks before it turns to an
// index for a rare search (sqlitestore walks 1,024, pgstore 1,000), so that
// both the walk and the index are exercised.
const searchTenantRecords = 1200

// testFilterFilenameTenants searches a tenant while another holds names
// that match the same texts, common and rare, long and short, and checks
// that no search lists the other tenant's records, however the store
// answers it: a common text is found by walking the tenant's newest
// records, a rare one (whose matches are older than any walk reaches) from
// a filename index that holds every tenant's names.
//
// Mutation check (the other conformance tests search one tenant, and
// passed every one of these): this test fails with the tenant condition
// removed from sqlitestore's gram plan (listQuery with listPlan.gram: both
// a.tenant and g.tenant, or a.tenant alone before the index was keyed by
// tenant), and from pgstore's indexed branch (listBuilder.search: the
// driver's a.tenant before the index was keyed by tenant; now the keys
// name the tenant too, and the test fails when they name another).
func testFilterFilenameTenants(t *testing.T, s metadata.Store) {
	var recs []*metadata.Record
	var mine, theirs, mineShort, common []string
	add := func(tenant, name string, into *[]string) {
		r := newRecord(t, tenant, func(r *metadata.Record) { r.Filename = name })
		recs = append(recs, r)
		if into != nil {
			*into = append(*into, r.ID)
		}
	}
	// The oldest records: beyond the reach of a walk from the newest.
	add("t1", "Zqxwv-mine.bin", &mine)
	add("t1", "old-qzx.bin", &mineShort)
	for i := range searchTenantRecords {
		add("t1", fmt.Sprintf("common-%04d.dat", i), &common)
		if i%100 == 0 {
			// The other tenant's, among them in ID order.
			add("t2", fmt.Sprintf("zqxwv-theirs-%d.bin", i), &theirs)
			add("t2", fmt.Sprintf("common-theirs-%d.dat", i), nil)
			add("t2", fmt.Sprintf("qzx-%d", i), nil)
		}
	}
	for b := range slices.Chunk(recs, 500) {
		mustCreate(t, s, b...)
	}
	slices.Reverse(mine)
	slices.Reverse(theirs)
	slices.Reverse(common)

	q := func(tenant, sub string, asc bool) metadata.Query {
		return metadata.Query{Tenant: tenant, FilenameContains: sub, Ascending: asc, Limit: 20}
	}
	// list (and so walk) fails on a record of another tenant.
	for _, asc := range []bool{false, true} {
		for _, sub := range []string{"zqxwv", "ZQXWV-", "zqxwv-mine.bin"} {
			require.Equal(t, mine, walk(t, s, q("t1", sub, asc)), "search %q ascending=%v", sub, asc)
		}
		require.Empty(t, walk(t, s, q("t1", "theirs", asc)), "a name of t2 only")
		require.Empty(t, walk(t, s, q("t1", "zqxwv-theirs-500", asc)), "a name of t2 only")
		require.Equal(t, mineShort, walk(t, s, q("t1", "qzx", asc)), "a short search")
		got := walk(t, s, q("t2", "zqxwv", asc))
		want := slices.Clone(theirs)
		if asc {
			slices.Reverse(want)
		}
		require.Equal(t, want, got, "the other tenant's search, ascending=%v", asc)
	}
	require.Equal(t, common, walk(t, s, q("t1", "common-", false)), "a common search")
}
