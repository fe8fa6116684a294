package metadatatest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

// Processing checks run on every store: a Queue turns each key of
// Record.Processing into a pending job and reports the jobs' states, a
// store that is not a Queue keeps no jobs and reports nil.
func processingTests() []test {
	return []test{
		{"CreateMakesPendingJobs", testProcessingCreate},
		{"ListFillsEveryRecordOfEveryPage", testProcessingList},
		{"ReturnedMapsAreCopies", testProcessingCopies},
		{"UpdateKeepsJobs", testProcessingUpdate},
		{"DeleteDropsJobs", testProcessingDelete},
	}
}

// processing is a record mod that asks for jobs of the processors; the
// values are ignored by the store, so they are set to a misleading state.
func processing(processors ...string) func(*metadata.Record) {
	return func(r *metadata.Record) {
		r.Processing = make(map[string]string, len(processors))
		for _, p := range processors {
			r.Processing[p] = metadata.JobCompleted
		}
	}
}

// wantProcessing is the Processing map that s must return for a record
// created with r.Processing and whose jobs no Queue call has changed:
// every key pending for a Queue, nil for any other store (and for no keys).
func wantProcessing(s metadata.Store, r *metadata.Record) map[string]string {
	if _, ok := s.(metadata.Queue); !ok || len(r.Processing) == 0 {
		return nil
	}
	out := make(map[string]string, len(r.Processing))
	for p := range r.Processing {
		out[p] = metadata.JobPending
	}
	return out
}

// asStored returns r as s must return it while its jobs are untouched.
func asStored(s metadata.Store, r *metadata.Record) *metadata.Record {
	c := r.Clone()
	c.Processing = wantProcessing(s, r)
	return c
}

func testProcessingCreate(t *testing.T, s metadata.Store) {
	two := newRecord(t, "t1", processing("analyze", "thumbnail"))
	two.Processing["thumbnail"] = "" // any value means the same
	one := newRecord(t, "t1", processing(""))
	empty := newRecord(t, "t1", processing())
	none := newRecord(t, "t1")
	recs := []*metadata.Record{two, one, empty, none}
	mustCreate(t, s, recs...)
	if _, ok := s.(metadata.Queue); ok {
		require.Equal(t, map[string]string{"analyze": metadata.JobPending, "thumbnail": metadata.JobPending},
			mustGet(t, s, "t1", two.ID).Processing)
		require.Equal(t, map[string]string{"": metadata.JobPending}, mustGet(t, s, "t1", one.ID).Processing)
	}
	for _, r := range recs {
		got := mustGet(t, s, "t1", r.ID)
		requireRecord(t, asStored(s, r), got)
		if len(r.Processing) == 0 {
			require.Nil(t, got.Processing, "a record without jobs has nil Processing")
		}
	}
	page, err := s.List(t.Context(), metadata.Query{Tenant: "t1", Ascending: true, Limit: 10})
	require.NoError(t, err)
	require.Len(t, page, len(recs))
	for i, r := range recs {
		requireRecord(t, asStored(s, r), page[i])
	}
	// Another tenant sees none of it.
	require.Empty(t, list(t, s, metadata.Query{Tenant: "t2"}))
}

// A page's Processing maps are each its own record's, on every page, in
// both orders and with filters: a store that reads the jobs of a page at
// once must hand each record its own.
func testProcessingList(t *testing.T, s metadata.Store) {
	var recs []*metadata.Record
	byID := map[string]*metadata.Record{}
	for i := range 30 {
		var ps []string
		for k := range i % 4 {
			ps = append(ps, fmt.Sprintf("p%d-%d", k, i))
		}
		r := newRecord(t, "t1", processing(ps...), func(r *metadata.Record) {
			r.Owner = fmt.Sprint("owner:", i%2)
		})
		recs = append(recs, r)
		byID[r.ID] = r
	}
	mustCreate(t, s, recs[:13]...)
	mustCreate(t, s, recs[13:]...)
	mustCreate(t, s, newRecord(t, "t2", processing("other")))
	for _, q := range []metadata.Query{
		{Tenant: "t1", Limit: 7},
		{Tenant: "t1", Limit: 7, Ascending: true},
		{Tenant: "t1", Limit: 4, Owner: "owner:1"},
		{Tenant: "t1", Limit: 1000},
	} {
		seen := 0
		for {
			page, err := s.List(t.Context(), q)
			require.NoError(t, err)
			if len(page) == 0 {
				break
			}
			for _, got := range page {
				requireRecord(t, asStored(s, byID[got.ID]), got)
				seen++
			}
			q.After = page[len(page)-1].ID
		}
		if q.Owner == "" {
			require.Equal(t, len(recs), seen, "%+v", q)
		}
	}
}

func testProcessingCopies(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", processing("analyze", "thumbnail"))
	want := asStored(s, r)
	mustCreate(t, s, r)
	r.Processing["analyze"] = "scribbled"
	r.Processing["new"] = "scribbled"
	requireRecord(t, want, mustGet(t, s, "t1", r.ID))

	if got := mustGet(t, s, "t1", r.ID); got.Processing != nil {
		got.Processing["analyze"] = "scribbled"
		delete(got.Processing, "thumbnail")
	}
	page, err := s.List(t.Context(), metadata.Query{Tenant: "t1", Limit: 10})
	require.NoError(t, err)
	require.Len(t, page, 1)
	if page[0].Processing != nil {
		page[0].Processing["thumbnail"] = "scribbled"
	}
	requireRecord(t, want, mustGet(t, s, "t1", r.ID))
}

// Update changes the record, not its jobs, and returns the record with its
// Processing like Get.
func testProcessingUpdate(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", processing("analyze", "thumbnail"))
	mustCreate(t, s, r)
	want := asStored(s, r)
	want.Width, want.Height = 30, 20
	update(t, s, r, metadata.Update{Width: ptr(30), Height: ptr(20)}, want)
	want.Labels = map[string]string{"k": "v"}
	update(t, s, r, metadata.Update{Labels: map[string]string{"k": "v"}}, want)
}

// A deleted record's jobs go with it: a new record with the same ID and no
// processors has none, and one with other processors has only those.
func testProcessingDelete(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", processing("analyze", "thumbnail"))
	mustCreate(t, s, r)
	require.NoError(t, s.Delete(t.Context(), "t1", r.ID, false))

	bare := newRecord(t, "t1", func(b *metadata.Record) { b.ID = r.ID })
	mustCreate(t, s, bare)
	got := mustGet(t, s, "t1", r.ID)
	require.Nil(t, got.Processing, "the deleted record's jobs came back")
	require.NoError(t, s.Delete(t.Context(), "t1", r.ID, false))

	again := newRecord(t, "t2", processing("thumbnail", "ocr"), func(a *metadata.Record) { a.ID = r.ID })
	mustCreate(t, s, again)
	requireRecord(t, asStored(s, again), mustGet(t, s, "t2", r.ID))
}
