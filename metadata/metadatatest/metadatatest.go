// Package metadatatest is the conformance suite for metadata.Store
// implementations. Every store runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		metadatatest.Run(t, func(t *testing.T) metadata.Store {
//			return mystore.New()
//		})
//	}
//
// Each check is one that fails if a store breaks the contract written on
// metadata.Store, Record, Update and Query, and, for a store that
// implements metadata.Queue, metadata.Scanner or metadata.Uploads (found
// by type assertion),
// on those: their checks are skipped for other stores.
package metadatatest

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

// Run checks that the stores made by open keep the metadata.Store contract,
// and the metadata.Queue, metadata.Scanner and metadata.Uploads contracts
// when they implement them.
// open must return a new, empty store each time it is called; Run calls it
// once per subtest, with that subtest's t, and closes the store when the
// subtest ends. Run the suite with -race: it checks concurrent use.
func Run(t *testing.T, open func(t *testing.T) metadata.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Create", createTests()},
		{"Get", getTests()},
		{"RoundTrip", roundTripTests()},
		{"Copies", copyTests()},
		{"Update", updateTests()},
		{"Delete", deleteTests()},
		{"List", listTests()},
		{"ListFilters", filterTests()},
		{"Concurrency", concurrencyTests()},
		{"Context", contextTests()},
		{"Close", closeTests()},
		{"Processing", processingTests()},
		{"Queue", queueTests()},
		{"Scanner", scanTests()},
		{"Uploads", uploadTests()},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					s := open(t)
					require.NotNil(t, s, "open returned a nil store")
					t.Cleanup(func() { _ = s.Close() })
					tc.fn(t, s)
				})
			}
		})
	}
}

// test is one check, run on a fresh store.
type test struct {
	name string
	fn   func(t *testing.T, s metadata.Store)
}

// newID returns a new UUIDv7 string; later calls sort after earlier ones.
// It is safe to call from any goroutine.
func newID(testing.TB) string {
	return uuid.Must(uuid.NewV7()).String()
}

// baseTime is a millisecond-precise UTC instant that records are stamped with.
func baseTime() time.Time {
	return time.Date(2026, 11, 23, 14, 0, 0, 123_000_000, time.UTC)
}

// newRecord returns a record in tenant with every scalar field set and no
// labels or refs; mods change it before it is returned.
func newRecord(tb testing.TB, tenant string, mods ...func(*metadata.Record)) *metadata.Record {
	tb.Helper()
	id := newID(tb)
	sum := sha256.Sum256([]byte(id))
	r := &metadata.Record{
		ID:          id,
		Tenant:      tenant,
		Filename:    "file-" + id[len(id)-8:] + ".txt",
		ContentType: "text/plain; charset=utf-8",
		Size:        42,
		SHA256:      hex.EncodeToString(sum[:]),
		Owner:       "document:1",
		CreatedBy:   "user:1",
		CreatedAt:   baseTime(),
		UpdatedAt:   baseTime(),
	}
	for _, m := range mods {
		m(r)
	}
	return r
}

// newRecords returns n records made by newRecord, in creation (ID) order.
func newRecords(tb testing.TB, n int, tenant string, mods ...func(*metadata.Record)) []*metadata.Record {
	tb.Helper()
	recs := make([]*metadata.Record, n)
	for i := range recs {
		recs[i] = newRecord(tb, tenant, mods...)
	}
	return recs
}

func ptr[T any](v T) *T { return &v }

// mustCreate stores recs, failing the test on error.
func mustCreate(t *testing.T, s metadata.Store, recs ...*metadata.Record) {
	t.Helper()
	require.NoError(t, s.Create(t.Context(), recs))
}

// mustGet returns the record, failing the test on error.
func mustGet(t *testing.T, s metadata.Store, tenant, id string) *metadata.Record {
	t.Helper()
	r, err := s.Get(t.Context(), tenant, id)
	require.NoError(t, err, "Get(%q, %q)", tenant, id)
	require.NotNil(t, r)
	return r
}

// requireNotFound checks that Get reports the ID as missing from tenant.
func requireNotFound(t *testing.T, s metadata.Store, tenant, id string) {
	t.Helper()
	r, err := s.Get(t.Context(), tenant, id)
	require.ErrorIs(t, err, metadata.ErrNotFound, "Get(%q, %q)", tenant, id)
	require.Nil(t, r)
}

// requireRecord checks that got is want as a store must return it: Labels
// and Refs nil when empty, times in UTC and within a millisecond of what was
// stored (exactly equal when what was stored had millisecond precision).
func requireRecord(t *testing.T, want, got *metadata.Record) {
	t.Helper()
	require.NotNil(t, got)
	w, g := want.Clone(), got.Clone()
	if len(w.Labels) == 0 {
		w.Labels = nil
	}
	if len(w.Refs) == 0 {
		w.Refs = nil
	}
	requireTime(t, "CreatedAt", w.CreatedAt, g.CreatedAt)
	requireTime(t, "UpdatedAt", w.UpdatedAt, g.UpdatedAt)
	w.CreatedAt, w.UpdatedAt = time.Time{}, time.Time{}
	g.CreatedAt, g.UpdatedAt = time.Time{}, time.Time{}
	require.Equal(t, w, g, "record %s", want.ID)
}

func requireTime(t *testing.T, field string, want, got time.Time) {
	t.Helper()
	require.Same(t, time.UTC, got.Location(), "%s is in %v, not UTC", field, got.Location())
	if want.Equal(want.Truncate(time.Millisecond)) {
		require.True(t, want.Equal(got), "%s: stored %v, got %v", field, want, got)
		return
	}
	require.Less(t, want.Sub(got).Abs(), time.Millisecond, "%s: stored %v, got %v", field, want, got)
}

// ids returns the IDs of recs, in order.
func ids(recs []*metadata.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

// list runs q, failing the test on error, and returns the IDs it lists.
func list(t *testing.T, s metadata.Store, q metadata.Query) []string {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 1000
	}
	recs, err := s.List(t.Context(), q)
	require.NoError(t, err, "List(%+v)", q)
	require.LessOrEqual(t, len(recs), q.Limit, "List returned more than Limit")
	for _, r := range recs {
		require.NotNil(t, r)
		require.Equal(t, q.Tenant, r.Tenant, "List returned a record of another tenant")
	}
	return ids(recs)
}
