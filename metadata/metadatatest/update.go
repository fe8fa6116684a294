package metadatatest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

func updateTests() []test {
	return []test{
		{"Filename", testUpdateFilename},
		{"Owner", testUpdateOwner},
		{"OwnerCleared", testUpdateOwnerCleared},
		{"LabelsReplaced", testUpdateLabelsReplaced},
		{"LabelsNilUnchanged", testUpdateLabelsNil},
		{"LabelsEmptyCleared", testUpdateLabelsEmpty},
		{"AddRefsDeduplicatedInOrder", testUpdateAddRefs},
		{"RemoveRefs", testUpdateRemoveRefs},
		{"AddRefsThenRemoveRefs", testUpdateAddThenRemove},
		{"EveryFieldTogether", testUpdateTogether},
		{"OnlyUpdatedAt", testUpdateOnlyUpdatedAt},
		{"Dimensions", testUpdateDimensions},
		{"Missing", testUpdateMissing},
		{"OtherTenant", testUpdateOtherTenant},
	}
}

// later is the UpdatedAt that updates set.
func later() time.Time { return baseTime().Add(90 * time.Minute) }

// update applies u (with UpdatedAt set to later()) and checks that the
// record returned is want and is what Get returns afterwards.
func update(t *testing.T, s metadata.Store, r *metadata.Record, u metadata.Update, want *metadata.Record) {
	t.Helper()
	u.UpdatedAt = later()
	want = want.Clone()
	want.UpdatedAt = later()
	got, err := s.Update(t.Context(), r.Tenant, r.ID, u)
	require.NoError(t, err)
	requireRecord(t, want, got)
	requireRecord(t, want, mustGet(t, s, r.Tenant, r.ID))
}

func testUpdateFilename(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", labelled, func(r *metadata.Record) { r.Filename = "Old Name.txt" })
	mustCreate(t, s, r)
	want := r.Clone()
	want.Filename = "Neuer Name.TXT"
	update(t, s, r, metadata.Update{Filename: ptr("Neuer Name.TXT")}, want)

	// Searches see the new name, not the old one.
	require.Equal(t, []string{r.ID}, list(t, s, metadata.Query{Tenant: "t1", FilenameContains: "neuer name.txt"}))
	require.Empty(t, list(t, s, metadata.Query{Tenant: "t1", FilenameContains: "old"}))
}

func testUpdateOwner(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", func(r *metadata.Record) { r.Owner = "chat:1" })
	mustCreate(t, s, r)
	want := r.Clone()
	want.Owner = "document:9"
	update(t, s, r, metadata.Update{Owner: ptr("document:9")}, want)

	require.Equal(t, []string{r.ID}, list(t, s, metadata.Query{Tenant: "t1", Owner: "document:9"}))
	require.Empty(t, list(t, s, metadata.Query{Tenant: "t1", Owner: "chat:1"}))
}

func testUpdateOwnerCleared(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", func(r *metadata.Record) { r.Owner = "chat:1" })
	mustCreate(t, s, r)
	want := r.Clone()
	want.Owner = ""
	update(t, s, r, metadata.Update{Owner: ptr("")}, want)
	require.Empty(t, list(t, s, metadata.Query{Tenant: "t1", Owner: "chat:1"}))
}

func testUpdateLabelsReplaced(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", labelled) // a=1, b=2
	mustCreate(t, s, r)
	want := r.Clone()
	want.Labels = map[string]string{"b": "3", "c": "4"}
	update(t, s, r, metadata.Update{Labels: map[string]string{"b": "3", "c": "4"}}, want)

	q := func(k, v string) metadata.Query {
		return metadata.Query{Tenant: "t1", Labels: map[string]string{k: v}}
	}
	require.Empty(t, list(t, s, q("a", "1")), "removed label still matches")
	require.Empty(t, list(t, s, q("b", "2")), "replaced label value still matches")
	require.Equal(t, []string{r.ID}, list(t, s, q("b", "3")))
	require.Equal(t, []string{r.ID}, list(t, s, q("c", "4")))
}

func testUpdateLabelsNil(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", labelled)
	mustCreate(t, s, r)
	want := r.Clone()
	want.Filename = "renamed.txt"
	update(t, s, r, metadata.Update{Filename: ptr("renamed.txt")}, want)
	require.Equal(t, []string{r.ID}, list(t, s, metadata.Query{Tenant: "t1", Labels: map[string]string{"a": "1", "b": "2"}}))
}

func testUpdateLabelsEmpty(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", labelled)
	mustCreate(t, s, r)
	want := r.Clone()
	want.Labels = nil
	update(t, s, r, metadata.Update{Labels: map[string]string{}}, want)
	require.Nil(t, mustGet(t, s, "t1", r.ID).Labels)
	require.Empty(t, list(t, s, metadata.Query{Tenant: "t1", Labels: map[string]string{"a": "1"}}))
}

func testUpdateAddRefs(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1") // no refs
	mustCreate(t, s, r)
	want := r.Clone()
	want.Refs = []string{"z", "a"}
	update(t, s, r, metadata.Update{AddRefs: []string{"z", "a", "z"}}, want)

	want.Refs = []string{"z", "a", "m", "b"}
	update(t, s, r, metadata.Update{AddRefs: []string{"a", "m", "z", "b", "m"}}, want)

	// Nothing new: the refs stay as they are, UpdatedAt still moves.
	update(t, s, r, metadata.Update{AddRefs: []string{"b", "z"}}, want)
}

func testUpdateRemoveRefs(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", func(r *metadata.Record) { r.Refs = []string{"a", "b", "c", "d"} })
	mustCreate(t, s, r)
	want := r.Clone()
	want.Refs = []string{"a", "d"}
	update(t, s, r, metadata.Update{RemoveRefs: []string{"c", "absent", "b"}}, want)

	// Removing refs that are not there is no error and no change.
	update(t, s, r, metadata.Update{RemoveRefs: []string{"b", "absent"}}, want)

	// Removing the last refs leaves nil, not an empty slice.
	want.Refs = nil
	update(t, s, r, metadata.Update{RemoveRefs: []string{"d", "a"}}, want)
	require.Nil(t, mustGet(t, s, "t1", r.ID).Refs)
}

// RemoveRefs applies after AddRefs, so a ref in both ends up absent.
func testUpdateAddThenRemove(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", func(r *metadata.Record) { r.Refs = []string{"a", "b"} })
	mustCreate(t, s, r)
	want := r.Clone()
	want.Refs = []string{"b", "c"}
	update(t, s, r, metadata.Update{AddRefs: []string{"c", "d"}, RemoveRefs: []string{"a", "d"}}, want)
}

func testUpdateTogether(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", labelled) // refs doc:1, doc:2
	other := newRecord(t, "t1", labelled)
	mustCreate(t, s, r, other)
	want := r.Clone()
	want.Filename = "together.bin"
	want.Owner = "message:7"
	want.Labels = map[string]string{"x": "y"}
	want.Refs = []string{"doc:2", "doc:3"}
	want.Width, want.Height = 640, 480
	update(t, s, r, metadata.Update{
		Filename:   ptr("together.bin"),
		Owner:      ptr("message:7"),
		Labels:     map[string]string{"x": "y"},
		AddRefs:    []string{"doc:3"},
		RemoveRefs: []string{"doc:1"},
		Width:      ptr(640),
		Height:     ptr(480),
	}, want)
	requireRecord(t, other, mustGet(t, s, "t1", other.ID))
}

// An update with nothing but UpdatedAt changes UpdatedAt alone; CreatedAt
// is never changed. The new UpdatedAt comes back in UTC, like every time.
func testUpdateOnlyUpdatedAt(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", labelled)
	mustCreate(t, s, r)
	update(t, s, r, metadata.Update{}, r)
	got := mustGet(t, s, "t1", r.ID)
	require.True(t, later().Equal(got.UpdatedAt))
	require.True(t, baseTime().Equal(got.CreatedAt))

	east := time.Date(2027, 5, 6, 7, 8, 9, 987_654_321, time.FixedZone("UTC+9", 9*60*60))
	got, err := s.Update(t.Context(), "t1", r.ID, metadata.Update{UpdatedAt: east})
	require.NoError(t, err)
	want := r.Clone()
	want.UpdatedAt = east
	requireRecord(t, want, got)
	requireRecord(t, want, mustGet(t, s, "t1", r.ID))
}

// Width and Height are set each on its own; nil leaves them, and zero
// clears them. Other updates leave them as they are.
func testUpdateDimensions(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", labelled)
	other := newRecord(t, "t1", func(r *metadata.Record) { r.Width, r.Height = 7, 9 })
	mustCreate(t, s, r, other)
	want := r.Clone()
	want.Width, want.Height = 800, 600
	update(t, s, r, metadata.Update{Width: ptr(800), Height: ptr(600)}, want)

	want.Width = 1024
	update(t, s, r, metadata.Update{Width: ptr(1024)}, want)
	want.Height = 768
	update(t, s, r, metadata.Update{Height: ptr(768)}, want)
	want.Filename = "renamed.png"
	update(t, s, r, metadata.Update{Filename: ptr("renamed.png")}, want)
	want.Width, want.Height = 0, 0
	update(t, s, r, metadata.Update{Width: ptr(0), Height: ptr(0)}, want)
	requireRecord(t, other, mustGet(t, s, "t1", other.ID))
}

func testUpdateMissing(t *testing.T, s metadata.Store) {
	mustCreate(t, s, newRecord(t, "t1"))
	got, err := s.Update(t.Context(), "t1", newID(t), metadata.Update{Filename: ptr("x"), UpdatedAt: later()})
	require.ErrorIs(t, err, metadata.ErrNotFound)
	require.Nil(t, got)
}

func testUpdateOtherTenant(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", labelled)
	mustCreate(t, s, r)
	got, err := s.Update(t.Context(), "t2", r.ID, metadata.Update{
		Filename:   ptr("x"),
		Owner:      ptr("y"),
		Labels:     map[string]string{},
		AddRefs:    []string{"z"},
		RemoveRefs: []string{"doc:1"},
		Width:      ptr(10),
		Height:     ptr(20),
		UpdatedAt:  later(),
	})
	require.ErrorIs(t, err, metadata.ErrNotFound)
	require.Nil(t, got)
	requireRecord(t, r, mustGet(t, s, "t1", r.ID))
	require.Equal(t, []string{r.ID}, list(t, s, metadata.Query{Tenant: "t1", Labels: map[string]string{"a": "1"}}))
}
