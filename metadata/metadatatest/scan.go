package metadatatest

import (
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

// scanTest is one check of the Scanner contract.
type scanTest struct {
	name string
	fn   func(t *testing.T, s metadata.Store, sc metadata.Scanner)
}

// scanTests returns the checks of the Scanner contract as tests of Run;
// they skip for stores that are not Scanners.
func scanTests() []test {
	sts := []scanTest{
		{"LookupAnyTenant", testLookupAnyTenant},
		{"LookupMissing", testLookupMissing},
		{"ScanAllTenantsInIDOrder", testScanOrder},
		{"ScanPages", testScanPages},
		{"ScanBefore", testScanBefore},
		{"NeverReferenced", testScanNeverReferenced},
		{"NeverReferencedAfterDelete", testScanNeverReferencedAfterDelete},
		{"ConcurrentWithUpdates", testScanConcurrent},
		{"Closed", testScanClosed},
	}
	out := make([]test, len(sts))
	for i, st := range sts {
		out[i] = test{st.name, func(t *testing.T, s metadata.Store) {
			sc, ok := s.(metadata.Scanner)
			if !ok {
				t.Skipf("%T is not a metadata.Scanner", s)
			}
			st.fn(t, s, sc)
		}}
	}
	return out
}

// scan returns the IDs Scan returns for q.
func scan(t *testing.T, sc metadata.Scanner, q metadata.ScanQuery) []string {
	t.Helper()
	recs, err := sc.Scan(t.Context(), q)
	require.NoError(t, err)
	require.LessOrEqual(t, len(recs), q.Limit, "Scan returned more than Limit")
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	return ids
}

func testLookupAnyTenant(t *testing.T, s metadata.Store, sc metadata.Scanner) {
	a := newRecord(t, "t1", func(r *metadata.Record) {
		r.Labels = map[string]string{"k": "v"}
		r.Refs = []string{"doc:1"}
	})
	b := newRecord(t, "")
	c := newRecord(t, "t2")
	mustCreate(t, s, a, b, c)
	for _, want := range []*metadata.Record{a, b, c} {
		got, err := sc.Lookup(t.Context(), want.ID)
		require.NoError(t, err)
		got.Processing = nil
		requireRecord(t, want, got)
	}
	// The record returned is a copy.
	got, err := sc.Lookup(t.Context(), a.ID)
	require.NoError(t, err)
	got.Labels["k"] = "changed"
	got.Refs[0] = "changed"
	requireRecord(t, a, mustGet(t, s, "t1", a.ID))
}

func testLookupMissing(t *testing.T, s metadata.Store, sc metadata.Scanner) {
	r := newRecord(t, "t1")
	mustCreate(t, s, r)
	_, err := sc.Lookup(t.Context(), newID(t))
	require.ErrorIs(t, err, metadata.ErrNotFound)
	require.NoError(t, s.Delete(t.Context(), "t1", r.ID, false))
	_, err = sc.Lookup(t.Context(), r.ID)
	require.ErrorIs(t, err, metadata.ErrNotFound)
}

func testScanOrder(t *testing.T, s metadata.Store, sc metadata.Scanner) {
	var all []*metadata.Record
	for i := range 12 {
		tenant := []string{"t1", "t2", ""}[i%3]
		r := newRecord(t, tenant)
		mustCreate(t, s, r)
		all = append(all, r)
	}
	want := sortedIDs(all, true)
	require.Equal(t, want, scan(t, sc, metadata.ScanQuery{Limit: 100}))
	require.Equal(t, want[:5], scan(t, sc, metadata.ScanQuery{Limit: 5}))
	require.Equal(t, want[4:9], scan(t, sc, metadata.ScanQuery{After: want[3], Limit: 5}))
	require.Empty(t, scan(t, sc, metadata.ScanQuery{After: want[11], Limit: 5}))
	// The records are whole.
	recs, err := sc.Scan(t.Context(), metadata.ScanQuery{Limit: 100})
	require.NoError(t, err)
	byID := make(map[string]*metadata.Record)
	for _, r := range all {
		byID[r.ID] = r
	}
	for _, got := range recs {
		got.Processing = nil
		requireRecord(t, byID[got.ID], got)
	}
}

func testScanPages(t *testing.T, s metadata.Store, sc metadata.Scanner) {
	recs := newRecords(t, 25, "t1")
	mustCreate(t, s, recs...)
	mustCreate(t, s, newRecords(t, 10, "t2")...)
	var got []string
	after := ""
	for {
		page := scan(t, sc, metadata.ScanQuery{After: after, Limit: 7})
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		after = page[len(page)-1]
	}
	require.Len(t, got, 35)
	require.True(t, slices.IsSorted(got), "pages are not in ascending ID order")
	require.Len(t, slices.Compact(slices.Clone(got)), 35, "a record was returned twice")
}

func testScanBefore(t *testing.T, s metadata.Store, sc metadata.Scanner) {
	recs := newRecords(t, 6, "t1")
	mustCreate(t, s, recs...)
	ids := sortedIDs(recs, true)
	require.Equal(t, ids[:3], scan(t, sc, metadata.ScanQuery{Before: ids[3], Limit: 10}))
	require.Equal(t, ids[2:3], scan(t, sc, metadata.ScanQuery{After: ids[1], Before: ids[3], Limit: 10}))
	require.Empty(t, scan(t, sc, metadata.ScanQuery{Before: ids[0], Limit: 10}))
	// Before need not exist.
	require.Equal(t, ids, scan(t, sc, metadata.ScanQuery{Before: newID(t), Limit: 10}))
}

func testScanNeverReferenced(t *testing.T, s metadata.Store, sc metadata.Scanner) {
	never := newRecord(t, "t1")
	createdWithRef := newRecord(t, "t2", func(r *metadata.Record) { r.Refs = []string{"doc:1"} })
	refAdded := newRecord(t, "t1")
	refRemoved := newRecord(t, "")
	renamed := newRecord(t, "t1")
	neverToo := newRecord(t, "t2")
	mustCreate(t, s, never, createdWithRef, refAdded, refRemoved, renamed, neverToo)

	_, err := s.Update(t.Context(), "t1", refAdded.ID, metadata.Update{AddRefs: []string{"doc:2"}, UpdatedAt: later()})
	require.NoError(t, err)
	_, err = s.Update(t.Context(), "", refRemoved.ID, metadata.Update{AddRefs: []string{"doc:3"}, UpdatedAt: later()})
	require.NoError(t, err)
	_, err = s.Update(t.Context(), "", refRemoved.ID, metadata.Update{RemoveRefs: []string{"doc:3"}, UpdatedAt: later()})
	require.NoError(t, err)
	// A ref added and removed in one Update was added all the same.
	name := "renamed.txt"
	_, err = s.Update(t.Context(), "t1", renamed.ID, metadata.Update{Filename: &name, UpdatedAt: later()})
	require.NoError(t, err)
	_, err = s.Update(t.Context(), "t2", neverToo.ID, metadata.Update{
		AddRefs: []string{"doc:4"}, RemoveRefs: []string{"doc:4"}, UpdatedAt: later(),
	})
	require.NoError(t, err)

	require.Equal(t, []string{never.ID, renamed.ID},
		scan(t, sc, metadata.ScanQuery{NeverReferenced: true, Limit: 10}),
		"never referenced: a record with no ref ever, renamed or not")
	require.Equal(t, []string{renamed.ID},
		scan(t, sc, metadata.ScanQuery{NeverReferenced: true, After: never.ID, Limit: 10}))
	require.Equal(t, []string{never.ID},
		scan(t, sc, metadata.ScanQuery{NeverReferenced: true, Before: renamed.ID, Limit: 10}))
	require.Equal(t, []string{never.ID},
		scan(t, sc, metadata.ScanQuery{NeverReferenced: true, Limit: 1}))
	require.Len(t, scan(t, sc, metadata.ScanQuery{Limit: 10}), 6)
}

func testScanNeverReferencedAfterDelete(t *testing.T, s metadata.Store, sc metadata.Scanner) {
	r := newRecord(t, "t1")
	keep := newRecord(t, "t1")
	mustCreate(t, s, r, keep)
	require.NoError(t, s.Delete(t.Context(), "t1", r.ID, false))
	require.Equal(t, []string{keep.ID}, scan(t, sc, metadata.ScanQuery{NeverReferenced: true, Limit: 10}))
	require.Equal(t, []string{keep.ID}, scan(t, sc, metadata.ScanQuery{Limit: 10}))
}

// testScanConcurrent scans while other goroutines add refs and create
// records: run with -race. Every record stored before the scans began is
// seen by each full scan, and a record seen as never referenced was not
// given a ref before that scan started.
func testScanConcurrent(t *testing.T, s metadata.Store, sc metadata.Scanner) {
	base := newRecords(t, 40, "t1")
	mustCreate(t, s, base...)
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, r := range base[:20] {
			_, err := s.Update(t.Context(), "t1", r.ID, metadata.Update{AddRefs: []string{"doc:1"}, UpdatedAt: later()})
			require.NoError(t, err)
		}
	})
	wg.Go(func() {
		for range 20 {
			mustCreate(t, s, newRecord(t, "t2"))
		}
	})
	for range 4 {
		seen := make(map[string]bool)
		after := ""
		for {
			page := scan(t, sc, metadata.ScanQuery{After: after, Limit: 9})
			if len(page) == 0 {
				break
			}
			for _, id := range page {
				seen[id] = true
			}
			after = page[len(page)-1]
		}
		for _, r := range base {
			require.True(t, seen[r.ID], "a full scan missed %s", r.ID)
		}
	}
	wg.Wait()
	never := scan(t, sc, metadata.ScanQuery{NeverReferenced: true, Limit: 100})
	for _, r := range base[:20] {
		require.NotContains(t, never, r.ID)
	}
	for _, r := range base[20:] {
		require.Contains(t, never, r.ID)
	}
}

func testScanClosed(t *testing.T, s metadata.Store, sc metadata.Scanner) {
	r := newRecord(t, "t1")
	mustCreate(t, s, r)
	require.NoError(t, s.Close())
	_, err := sc.Lookup(t.Context(), r.ID)
	require.ErrorIs(t, err, metadata.ErrClosed)
	_, err = sc.Scan(t.Context(), metadata.ScanQuery{Limit: 10})
	require.ErrorIs(t, err, metadata.ErrClosed)
}
