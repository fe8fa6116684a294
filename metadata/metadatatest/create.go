package metadatatest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

func createTests() []test {
	return []test{
		{"StoresEveryRecord", testCreateStoresEveryRecord},
		{"DuplicateOfStoredIDStoresNone", testCreateDuplicateOfStored},
		{"DuplicateWithinBatchStoresNone", testCreateDuplicateWithinBatch},
		{"DuplicateInOtherTenant", testCreateDuplicateInOtherTenant},
		{"DeletedIDCanBeCreatedAgain", testCreateAfterDelete},
	}
}

func testCreateStoresEveryRecord(t *testing.T, s metadata.Store) {
	recs := newRecords(t, 3, "t1", func(r *metadata.Record) {
		r.Labels = map[string]string{"k": "v"}
		r.Refs = []string{"doc:1"}
	})
	mustCreate(t, s, recs...)
	for _, r := range recs {
		requireRecord(t, r, mustGet(t, s, "t1", r.ID))
	}
	require.ElementsMatch(t, ids(recs), list(t, s, metadata.Query{Tenant: "t1"}))
}

// A batch whose third record repeats a stored ID stores none of its
// records, not even the ones before the duplicate.
func testCreateDuplicateOfStored(t *testing.T, s metadata.Store) {
	stored := newRecord(t, "t1")
	mustCreate(t, s, stored)

	batch := newRecords(t, 4, "t1", func(r *metadata.Record) {
		r.Labels = map[string]string{"batch": "1"}
	})
	dup := newRecord(t, "t1", func(r *metadata.Record) {
		r.ID = stored.ID
		r.Filename = "intruder.txt"
	})
	batch[2] = dup
	err := s.Create(t.Context(), batch)
	require.ErrorIs(t, err, metadata.ErrExists)

	for _, r := range batch {
		if r != dup {
			requireNotFound(t, s, "t1", r.ID)
		}
	}
	requireRecord(t, stored, mustGet(t, s, "t1", stored.ID))
	require.Equal(t, []string{stored.ID}, list(t, s, metadata.Query{Tenant: "t1"}))
	require.Empty(t, list(t, s, metadata.Query{Tenant: "t1", Labels: map[string]string{"batch": "1"}}))
}

func testCreateDuplicateWithinBatch(t *testing.T, s metadata.Store) {
	a, b := newRecord(t, "t1"), newRecord(t, "t1")
	again := newRecord(t, "t1", func(r *metadata.Record) {
		r.ID = a.ID
		r.Filename = "again.txt"
	})
	err := s.Create(t.Context(), []*metadata.Record{a, b, again})
	require.ErrorIs(t, err, metadata.ErrExists)
	requireNotFound(t, s, "t1", a.ID)
	requireNotFound(t, s, "t1", b.ID)
	require.Empty(t, list(t, s, metadata.Query{Tenant: "t1"}))

	// The failed batch left nothing behind that blocks a good one.
	mustCreate(t, s, a, b)
	requireRecord(t, a, mustGet(t, s, "t1", a.ID))
}

// IDs are unique across tenants: reusing one in another tenant is
// ErrExists, and the record stays where it was, invisible to the other.
func testCreateDuplicateInOtherTenant(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1")
	mustCreate(t, s, r)
	other := r.Clone()
	other.Tenant = "t2"
	other.Filename = "other.txt"
	require.ErrorIs(t, s.Create(t.Context(), []*metadata.Record{other}), metadata.ErrExists)

	requireNotFound(t, s, "t2", r.ID)
	require.Empty(t, list(t, s, metadata.Query{Tenant: "t2"}))
	requireRecord(t, r, mustGet(t, s, "t1", r.ID))
}

// An ID is taken only while its record is stored, in any tenant; a deleted
// record's labels do not come back with a new record of the same ID.
func testCreateAfterDelete(t *testing.T, s metadata.Store) {
	labels := map[string]string{"k": "v"}
	r := newRecord(t, "t1", func(r *metadata.Record) { r.Labels = labels })
	mustCreate(t, s, r)
	require.NoError(t, s.Delete(t.Context(), "t1", r.ID, false))

	bare := newRecord(t, "t1", func(b *metadata.Record) { b.ID = r.ID })
	mustCreate(t, s, bare)
	requireRecord(t, bare, mustGet(t, s, "t1", r.ID))
	require.Empty(t, list(t, s, metadata.Query{Tenant: "t1", Labels: labels}), "the deleted record's labels came back")
	require.NoError(t, s.Delete(t.Context(), "t1", r.ID, false))

	again := newRecord(t, "t1", func(a *metadata.Record) { a.ID = r.ID; a.Labels = labels })
	mustCreate(t, s, again)
	require.Equal(t, []string{r.ID}, list(t, s, metadata.Query{Tenant: "t1", Labels: labels}))
	require.NoError(t, s.Delete(t.Context(), "t1", r.ID, false))

	elsewhere := newRecord(t, "t2", func(e *metadata.Record) { e.ID = r.ID })
	mustCreate(t, s, elsewhere)
	requireRecord(t, elsewhere, mustGet(t, s, "t2", r.ID))
	requireNotFound(t, s, "t1", r.ID)
	require.Empty(t, list(t, s, metadata.Query{Tenant: "t2", Labels: labels}))
	require.Empty(t, list(t, s, metadata.Query{Tenant: "t1"}))
}
