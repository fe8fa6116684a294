package metadatatest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

func deleteTests() []test {
	return []test{
		{"Unreferenced", testDeleteUnreferenced},
		{"ReferencedNeedsForce", testDeleteReferenced},
		{"AfterRefsRemoved", testDeleteAfterRefsRemoved},
		{"Missing", testDeleteMissing},
		{"Twice", testDeleteTwice},
		{"OtherTenant", testDeleteOtherTenant},
	}
}

func testDeleteUnreferenced(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", func(r *metadata.Record) { r.Labels = map[string]string{"k": "v"} })
	keep := newRecord(t, "t1", func(r *metadata.Record) { r.Labels = map[string]string{"k": "v"} })
	others := newRecords(t, 3, "t1", func(r *metadata.Record) { r.Owner = "other" })
	mustCreate(t, s, r, keep)
	mustCreate(t, s, others...)
	require.NoError(t, s.Delete(t.Context(), "t1", r.ID, false))
	requireNotFound(t, s, "t1", r.ID)
	requireRecord(t, keep, mustGet(t, s, "t1", keep.ID))
	require.Equal(t, append(sortedIDs(others, false), keep.ID), list(t, s, metadata.Query{Tenant: "t1"}))
	require.Equal(t, []string{keep.ID}, list(t, s, metadata.Query{Tenant: "t1", Labels: map[string]string{"k": "v"}}))
	require.Equal(t, []string{keep.ID}, list(t, s, metadata.Query{Tenant: "t1", Owner: keep.Owner}))
}

func testDeleteReferenced(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", func(r *metadata.Record) { r.Refs = []string{"doc:1"} })
	mustCreate(t, s, r)
	require.ErrorIs(t, s.Delete(t.Context(), "t1", r.ID, false), metadata.ErrReferenced)
	requireRecord(t, r, mustGet(t, s, "t1", r.ID))
	require.Equal(t, []string{r.ID}, list(t, s, metadata.Query{Tenant: "t1"}))

	require.NoError(t, s.Delete(t.Context(), "t1", r.ID, true))
	requireNotFound(t, s, "t1", r.ID)
	require.Empty(t, list(t, s, metadata.Query{Tenant: "t1"}))
}

func testDeleteAfterRefsRemoved(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1")
	mustCreate(t, s, r)
	_, err := s.Update(t.Context(), "t1", r.ID, metadata.Update{AddRefs: []string{"doc:1"}, UpdatedAt: later()})
	require.NoError(t, err)
	require.ErrorIs(t, s.Delete(t.Context(), "t1", r.ID, false), metadata.ErrReferenced)
	_, err = s.Update(t.Context(), "t1", r.ID, metadata.Update{RemoveRefs: []string{"doc:1"}, UpdatedAt: later()})
	require.NoError(t, err)
	require.NoError(t, s.Delete(t.Context(), "t1", r.ID, false))
	requireNotFound(t, s, "t1", r.ID)
}

func testDeleteMissing(t *testing.T, s metadata.Store) {
	mustCreate(t, s, newRecord(t, "t1"))
	require.ErrorIs(t, s.Delete(t.Context(), "t1", newID(t), false), metadata.ErrNotFound)
	require.ErrorIs(t, s.Delete(t.Context(), "t1", newID(t), true), metadata.ErrNotFound)
}

func testDeleteTwice(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", func(r *metadata.Record) { r.Refs = []string{"doc:1"} })
	mustCreate(t, s, r)
	require.NoError(t, s.Delete(t.Context(), "t1", r.ID, true))
	require.ErrorIs(t, s.Delete(t.Context(), "t1", r.ID, true), metadata.ErrNotFound)
	require.ErrorIs(t, s.Delete(t.Context(), "t1", r.ID, false), metadata.ErrNotFound)
}

// Another tenant's record is ErrNotFound, referenced or not, forced or not,
// and stays where it is.
func testDeleteOtherTenant(t *testing.T, s metadata.Store) {
	plain := newRecord(t, "t1")
	referenced := newRecord(t, "t1", func(r *metadata.Record) { r.Refs = []string{"doc:1"} })
	mustCreate(t, s, plain, referenced)
	for _, r := range []*metadata.Record{plain, referenced} {
		for _, force := range []bool{false, true} {
			require.ErrorIs(t, s.Delete(t.Context(), "t2", r.ID, force), metadata.ErrNotFound,
				"Delete(t2, %s, force=%v)", r.ID, force)
			requireRecord(t, r, mustGet(t, s, "t1", r.ID))
		}
	}
}
