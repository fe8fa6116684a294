package metadatatest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

func concurrencyTests() []test {
	return []test{
		{"ManyClients", testConcurrentClients},
		{"UpdatesAreAtomic", testConcurrentUpdates},
		{"DeleteRacesAddRefs", testConcurrentDeleteAndRef},
	}
}

// Workers create, read, update, delete and list at once, each under its own
// owner; every one of them sees its own writes, and nothing is lost.
func testConcurrentClients(t *testing.T, s metadata.Store) {
	const workers, rounds = 8, 12
	ctx := t.Context()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			owner := fmt.Sprintf("worker:%d", w)
			for i := range rounds {
				a := newRecord(t, "t1", func(r *metadata.Record) { r.Owner = owner })
				b := newRecord(t, "t1", func(r *metadata.Record) { r.Owner = owner })
				gone := newRecord(t, "t1", func(r *metadata.Record) { r.Owner = owner })
				if !assert.NoError(t, s.Create(ctx, []*metadata.Record{a, b, gone})) {
					return
				}
				name := fmt.Sprintf("w%d-r%d.txt", w, i)
				got, err := s.Update(ctx, "t1", a.ID, metadata.Update{
					Filename: &name, AddRefs: []string{owner}, UpdatedAt: later(),
				})
				if assert.NoError(t, err) {
					assert.Equal(t, name, got.Filename)
				}
				assert.NoError(t, s.Delete(ctx, "t1", gone.ID, false))
				if r, err := s.Get(ctx, "t1", b.ID); assert.NoError(t, err) {
					assert.Equal(t, b.ID, r.ID)
				}
				recs, err := s.List(ctx, metadata.Query{Tenant: "t1", Owner: owner, Limit: 1000})
				if assert.NoError(t, err) {
					assert.Len(t, recs, 2*(i+1), "worker %d round %d", w, i)
				}
				_, err = s.List(ctx, metadata.Query{Tenant: "t1", FilenameContains: "w", Limit: 10})
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	all := walk(t, s, metadata.Query{Tenant: "t1", Limit: 50})
	require.Len(t, all, workers*rounds*2)
	for w := range workers {
		owner := fmt.Sprintf("worker:%d", w)
		named := list(t, s, metadata.Query{Tenant: "t1", Owner: owner, FilenameContains: fmt.Sprintf("w%d-", w)})
		require.Len(t, named, rounds, "renamed records of %s", owner)
	}
}

// Updates are read-modify-write: concurrent AddRefs to one record must all
// land, and so must label and filename changes racing with them.
func testConcurrentUpdates(t *testing.T, s metadata.Store) {
	const workers, rounds = 8, 10
	r := newRecord(t, "t1")
	mustCreate(t, s, r)
	ctx := t.Context()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				ref := fmt.Sprintf("ref:%d:%d", w, i)
				_, err := s.Update(ctx, "t1", r.ID, metadata.Update{AddRefs: []string{ref}, UpdatedAt: later()})
				assert.NoError(t, err)
				if i%2 == 0 {
					_, err = s.Update(ctx, "t1", r.ID, metadata.Update{
						Labels: map[string]string{"writer": fmt.Sprint(w)}, UpdatedAt: later(),
					})
					assert.NoError(t, err)
				}
			}
		})
	}
	wg.Wait()
	got := mustGet(t, s, "t1", r.ID)
	require.Len(t, got.Refs, workers*rounds, "lost updates")
	seen := map[string]bool{}
	for _, ref := range got.Refs {
		require.False(t, seen[ref], "ref %s twice", ref)
		seen[ref] = true
	}
	// The label set is exactly one writer's, and the label index agrees.
	require.Len(t, got.Labels, 1)
	require.Equal(t, []string{r.ID}, list(t, s, metadata.Query{Tenant: "t1", Labels: got.Labels}))
}

// Delete without force and AddRefs race: either the delete wins (and the
// update finds nothing) or the ref wins (and the delete is refused). Never
// is the record deleted with the update reported as applied.
func testConcurrentDeleteAndRef(t *testing.T, s metadata.Store) {
	const n = 20
	recs := newRecords(t, n, "t1")
	mustCreate(t, s, recs...)
	ctx := t.Context()
	type outcome struct{ updateErr, deleteErr error }
	results := make([]outcome, n)
	var wg sync.WaitGroup
	for i, r := range recs {
		wg.Go(func() {
			_, results[i].updateErr = s.Update(ctx, "t1", r.ID, metadata.Update{AddRefs: []string{"doc:1"}, UpdatedAt: later()})
		})
		wg.Go(func() {
			results[i].deleteErr = s.Delete(ctx, "t1", r.ID, false)
		})
	}
	wg.Wait()
	for i, r := range recs {
		res := results[i]
		switch {
		case res.deleteErr == nil:
			require.ErrorIs(t, res.updateErr, metadata.ErrNotFound, "deleted, yet the ref was added")
			requireNotFound(t, s, "t1", r.ID)
		default:
			require.ErrorIs(t, res.deleteErr, metadata.ErrReferenced)
			require.NoError(t, res.updateErr)
			require.Equal(t, []string{"doc:1"}, mustGet(t, s, "t1", r.ID).Refs)
		}
	}
}
