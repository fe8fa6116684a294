package metadatatest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

func roundTripTests() []test {
	return []test{
		{"EveryField", testRoundTripEveryField},
		{"TimesToTheMillisecondInUTC", testRoundTripTimes},
		{"NoLabelsOrRefsAreNil", testRoundTripNil},
		{"ZeroValues", testRoundTripZero},
		{"Dimensions", testRoundTripDimensions},
	}
}

func copyTests() []test {
	return []test{
		{"CreateKeepsNoReference", testCopyCreate},
		{"GetReturnsCopies", testCopyGet},
		{"ListReturnsCopies", testCopyList},
		{"UpdateReturnsCopiesAndKeepsNoReference", testCopyUpdate},
	}
}

func testRoundTripEveryField(t *testing.T, s metadata.Store) {
	cet := time.FixedZone("UTC+2", 2*60*60)
	r := &metadata.Record{
		ID:          newID(t),
		Tenant:      "tenant:ü",
		Filename:    "Résumé – final (v2) 'x' \"y\" %_\\.pdf",
		ContentType: "application/pdf",
		Size:        1<<40 + 7,
		SHA256:      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		Owner:       "document:550e8400",
		Labels:      map[string]string{"workspace": "660e8400", "ключ": "значение", "empty": "", "": "no key"},
		Refs:        []string{"message:2", "document:1", "a/b?c=d"},
		CreatedBy:   "user:42",
		Width:       4032,
		Height:      3024,
		CreatedAt:   time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, cet),
		UpdatedAt:   time.Date(2026, 3, 5, 0, 0, 1, 1_000_000, cet),
	}
	mustCreate(t, s, r)
	got := mustGet(t, s, r.Tenant, r.ID)
	requireRecord(t, r, got)
	require.Equal(t, time.Date(2026, 3, 4, 3, 6, 7, 890_000_000, time.UTC), got.CreatedAt)

	recs, err := s.List(t.Context(), metadata.Query{Tenant: r.Tenant, Limit: 10})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	requireRecord(t, r, recs[0])
}

// Times keep at least millisecond precision and come back in UTC, whatever
// zone they were stored in.
func testRoundTripTimes(t *testing.T, s metadata.Store) {
	west := time.FixedZone("UTC-7", -7*60*60)
	r := newRecord(t, "t1", func(r *metadata.Record) {
		r.CreatedAt = time.Date(2026, 1, 2, 3, 4, 5, 678_901_234, west)
		r.UpdatedAt = time.Date(1999, 12, 31, 23, 59, 59, 999_000_000, time.Local)
	})
	mustCreate(t, s, r)
	got := mustGet(t, s, "t1", r.ID)
	requireRecord(t, r, got)
	require.Equal(t, 2026, got.CreatedAt.Year())
	require.Equal(t, 10, got.CreatedAt.Hour(), "CreatedAt not converted to UTC")
	require.Equal(t, 678, got.CreatedAt.Nanosecond()/1e6, "milliseconds lost")
}

// A store returns nil Labels and Refs when there are none, whether it was
// given nil or empty ones.
func testRoundTripNil(t *testing.T, s metadata.Store) {
	empty := newRecord(t, "t1", func(r *metadata.Record) {
		r.Labels = map[string]string{}
		r.Refs = []string{}
	})
	nilRec := newRecord(t, "t1")
	mustCreate(t, s, empty, nilRec)
	for _, id := range []string{empty.ID, nilRec.ID} {
		got := mustGet(t, s, "t1", id)
		require.Nil(t, got.Labels, "Labels of %s", id)
		require.Nil(t, got.Refs, "Refs of %s", id)
	}
	recs, err := s.List(t.Context(), metadata.Query{Tenant: "t1", Limit: 10})
	require.NoError(t, err)
	require.Len(t, recs, 2)
	for _, got := range recs {
		require.Nil(t, got.Labels, "Labels of %s from List", got.ID)
		require.Nil(t, got.Refs, "Refs of %s from List", got.ID)
	}
}

// A record with nothing but an ID: empty strings, zero size and zero times.
func testRoundTripZero(t *testing.T, s metadata.Store) {
	r := &metadata.Record{ID: newID(t)}
	mustCreate(t, s, r)
	got := mustGet(t, s, "", r.ID)
	requireRecord(t, r, got)
	require.True(t, got.CreatedAt.IsZero(), "zero CreatedAt came back as %v", got.CreatedAt)
	require.True(t, got.UpdatedAt.IsZero(), "zero UpdatedAt came back as %v", got.UpdatedAt)
}

// Width and Height come back as stored, each on its own (a store that
// swapped them, or kept only one, fails), and stay zero when not set.
func testRoundTripDimensions(t *testing.T, s metadata.Store) {
	wide := newRecord(t, "t1", func(r *metadata.Record) { r.Width, r.Height = 1920, 1080 })
	tall := newRecord(t, "t1", func(r *metadata.Record) { r.Width, r.Height = 1, 1<<30 })
	plain := newRecord(t, "t1")
	mustCreate(t, s, wide, tall, plain)
	for _, r := range []*metadata.Record{wide, tall, plain} {
		requireRecord(t, r, mustGet(t, s, "t1", r.ID))
	}
	require.Zero(t, mustGet(t, s, "t1", plain.ID).Width)
	recs, err := s.List(t.Context(), metadata.Query{Tenant: "t1", Ascending: true, Limit: 10})
	require.NoError(t, err)
	require.Len(t, recs, 3)
	for i, r := range []*metadata.Record{wide, tall, plain} {
		requireRecord(t, r, recs[i])
	}
}

func labelled(r *metadata.Record) {
	r.Labels = map[string]string{"a": "1", "b": "2"}
	r.Refs = []string{"doc:1", "doc:2"}
}

// scribble changes every mutable part of r in place.
func scribble(r *metadata.Record) {
	r.Filename = "scribbled"
	r.Labels["a"] = "scribbled"
	r.Labels["new"] = "scribbled"
	delete(r.Labels, "b")
	r.Refs[0] = "scribbled"
}

func testCopyCreate(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", labelled)
	want := r.Clone()
	mustCreate(t, s, r)
	scribble(r)
	requireRecord(t, want, mustGet(t, s, "t1", want.ID))
}

func testCopyGet(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", labelled)
	mustCreate(t, s, r)
	scribble(mustGet(t, s, "t1", r.ID))
	requireRecord(t, r, mustGet(t, s, "t1", r.ID))
}

func testCopyList(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", labelled)
	mustCreate(t, s, r)
	recs, err := s.List(t.Context(), metadata.Query{Tenant: "t1", Limit: 10})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	scribble(recs[0])
	requireRecord(t, r, mustGet(t, s, "t1", r.ID))
}

func testCopyUpdate(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", labelled)
	mustCreate(t, s, r)
	u := metadata.Update{
		Labels:    map[string]string{"a": "1", "b": "2"},
		AddRefs:   []string{"doc:3"},
		UpdatedAt: baseTime(),
	}
	got, err := s.Update(t.Context(), "t1", r.ID, u)
	require.NoError(t, err)
	want := r.Clone()
	want.Refs = append(want.Refs, "doc:3")
	requireRecord(t, want, got)

	scribble(got)
	u.Labels["a"] = "scribbled"
	u.AddRefs[0] = "scribbled"
	requireRecord(t, want, mustGet(t, s, "t1", r.ID))
}
