package metadatatest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

func contextTests() []test {
	return []test{{"Canceled", testContextCanceled}}
}

func closeTests() []test {
	return []test{
		{"CallsAfterCloseAreErrClosed", testClose},
		{"CloseTwice", testCloseTwice},
	}
}

// A call with a context that is already canceled fails with the context's
// error and changes nothing.
func testContextCanceled(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1", func(r *metadata.Record) { r.Refs = []string{"doc:1"} })
	mustCreate(t, s, r)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	fresh := newRecord(t, "t1")
	require.ErrorIs(t, s.Create(ctx, []*metadata.Record{fresh}), context.Canceled, "Create")
	requireNotFound(t, s, "t1", fresh.ID)

	_, err := s.Get(ctx, "t1", r.ID)
	require.ErrorIs(t, err, context.Canceled, "Get")
	_, err = s.Update(ctx, "t1", r.ID, metadata.Update{Filename: ptr("changed"), UpdatedAt: later()})
	require.ErrorIs(t, err, context.Canceled, "Update")
	require.ErrorIs(t, s.Delete(ctx, "t1", r.ID, true), context.Canceled, "Delete")
	_, err = s.List(ctx, metadata.Query{Tenant: "t1", Limit: 10})
	require.ErrorIs(t, err, context.Canceled, "List")

	requireRecord(t, r, mustGet(t, s, "t1", r.ID))
}

// Every call after Close, Close included, returns an error wrapping
// metadata.ErrClosed.
func testClose(t *testing.T, s metadata.Store) {
	r := newRecord(t, "t1")
	mustCreate(t, s, r)
	require.NoError(t, s.Close())
	ctx := t.Context()

	require.ErrorIs(t, s.Create(ctx, []*metadata.Record{newRecord(t, "t1")}), metadata.ErrClosed, "Create")
	got, err := s.Get(ctx, "t1", r.ID)
	require.ErrorIs(t, err, metadata.ErrClosed, "Get")
	require.Nil(t, got)
	got, err = s.Update(ctx, "t1", r.ID, metadata.Update{Filename: ptr("x"), UpdatedAt: later()})
	require.ErrorIs(t, err, metadata.ErrClosed, "Update")
	require.Nil(t, got)
	require.ErrorIs(t, s.Delete(ctx, "t1", r.ID, true), metadata.ErrClosed, "Delete")
	recs, err := s.List(ctx, metadata.Query{Tenant: "t1", Limit: 10})
	require.ErrorIs(t, err, metadata.ErrClosed, "List")
	require.Nil(t, recs)
}

func testCloseTwice(t *testing.T, s metadata.Store) {
	require.NoError(t, s.Close())
	require.NotPanics(t, func() {
		require.ErrorIs(t, s.Close(), metadata.ErrClosed)
	})
}
