package metadatatest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

func getTests() []test {
	return []test{
		{"Missing", testGetMissing},
		{"OtherTenantIsNotFound", testGetOtherTenant},
		{"EmptyTenantIsATenant", testGetEmptyTenant},
	}
}

func testGetMissing(t *testing.T, s metadata.Store) {
	mustCreate(t, s, newRecord(t, "t1"))
	requireNotFound(t, s, "t1", newID(t))
	requireNotFound(t, s, "t1", "")
}

// A record of another tenant is ErrNotFound, and the error says no more
// than it says for a record that does not exist at all.
func testGetOtherTenant(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1")
	mustCreate(t, s, r)

	_, errOther := s.Get(t.Context(), "t2", r.ID)
	require.ErrorIs(t, errOther, metadata.ErrNotFound)
	requireNotFound(t, s, "", r.ID)
	requireNotFound(t, s, "T1", r.ID)

	require.NoError(t, s.Delete(t.Context(), "t1", r.ID, true))
	_, errMissing := s.Get(t.Context(), "t2", r.ID)
	require.ErrorIs(t, errMissing, metadata.ErrNotFound)
	require.Equal(t, errMissing.Error(), errOther.Error(),
		"another tenant's record must read exactly like a missing one")
}

func testGetEmptyTenant(t *testing.T, s metadata.Store) {
	none, some := newRecord(t, ""), newRecord(t, "t1")
	mustCreate(t, s, none, some)
	requireRecord(t, none, mustGet(t, s, "", none.ID))
	requireNotFound(t, s, "t1", none.ID)
	requireNotFound(t, s, "", some.ID)
	require.Equal(t, []string{none.ID}, list(t, s, metadata.Query{Tenant: ""}))
}
