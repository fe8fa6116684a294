package storage_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/storage"
)

// items collects what Items yields under prefix.
func items(t *testing.T, s *storage.Store, prefix string) []storage.Item {
	t.Helper()
	var out []storage.Item
	for it, err := range s.Items(t.Context(), prefix) {
		require.NoError(t, err)
		out = append(out, it)
	}
	return out
}

func TestItems(t *testing.T) {
	const (
		id1 = "0193b1a2-0000-7000-8000-000000000001"
		id2 = "0193b1a2-0000-7000-8000-000000000002"
	)
	for _, bc := range buckets() {
		t.Run(bc.name, func(t *testing.T) {
			tb := bc.open(t)
			s := storage.New(tb.Bucket)
			start := time.Now().Add(-time.Minute)
			for _, k := range []string{storage.ContentKey(id2), storage.ContentKey(id1),
				storage.DerivativeKey(id1, "thumb-256"), storage.DerivativeKey(id2, "thumb-64"),
				"content/odd.name", "derived/loose", "elsewhere/" + id1} {
				require.NoError(t, tb.WriteAll(t.Context(), k, []byte(k), nil))
			}
			got := items(t, s, storage.ContentPrefix)
			keys := make([]string, len(got))
			for i, it := range got {
				keys[i] = it.Key
				require.True(t, it.ModTime.After(start), "ModTime of %s: %v", it.Key, it.ModTime)
			}
			require.Equal(t, []string{storage.ContentKey(id1), storage.ContentKey(id2), "content/odd.name"}, keys)
			require.Equal(t, storage.KindContent, got[0].Kind)
			require.Equal(t, id1, got[0].ID)
			require.Equal(t, id2, got[1].ID)
			require.Equal(t, storage.KindUnknown, got[2].Kind)

			got = items(t, s, storage.DerivativesPrefix)
			require.Len(t, got, 3)
			require.Equal(t, storage.Item{Key: storage.DerivativeKey(id1, "thumb-256"), Kind: storage.KindDerivative, ID: id1, ModTime: got[0].ModTime}, got[0])
			require.Equal(t, id2, got[1].ID)
			require.Equal(t, storage.KindUnknown, got[2].Kind)

			// Breaking off the iteration stops it.
			n := 0
			for range s.Items(t.Context(), storage.ContentPrefix) {
				n++
				break
			}
			require.Equal(t, 1, n)

			require.NoError(t, s.RemoveKey(t.Context(), storage.ContentKey(id1)))
			require.NoError(t, s.RemoveKey(t.Context(), storage.ContentKey(id1)), "a key already gone")
			require.Len(t, items(t, s, storage.ContentPrefix), 2)
		})
	}
}

// A write cut off mid-way leaves fileblob's temporary file beside the key
// (with no_tmp_dir): Items reports it as KindTemporary, with its ID, and
// RemoveKey removes it.
func TestItemsTemporaryFiles(t *testing.T) {
	tb := buckets()[0].open(t) // fileblob with NoTempDir
	s := storage.New(tb.Bucket)
	const id = "0193b1a2-0000-7000-8000-000000000003"
	require.NoError(t, tb.WriteAll(t.Context(), storage.ContentKey(id), []byte("x"), nil))
	require.NoError(t, tb.WriteAll(t.Context(), storage.DerivativeKey(id, "thumb-64"), []byte("x"), nil))
	for _, name := range []string{"content/" + id + ".18a3f0c2b1d4e5f6.tmp", "derived/" + id + "/thumb-64.1f.tmp"} {
		p := filepath.Join(tb.dir, filepath.FromSlash(name))
		require.NoError(t, os.WriteFile(p, []byte("partial"), 0o600))
	}
	got := items(t, s, storage.ContentPrefix)
	require.Len(t, got, 2)
	i := slices.IndexFunc(got, func(it storage.Item) bool { return it.Kind == storage.KindTemporary })
	require.GreaterOrEqual(t, i, 0, "items: %+v", got)
	require.Equal(t, id, got[i].ID)
	got = items(t, s, storage.DerivativesPrefix)
	require.Len(t, got, 2)
	i = slices.IndexFunc(got, func(it storage.Item) bool { return it.Kind == storage.KindTemporary })
	require.GreaterOrEqual(t, i, 0, "items: %+v", got)
	require.Equal(t, id, got[i].ID)
	require.NoError(t, s.RemoveKey(t.Context(), got[i].Key))
	require.Len(t, items(t, s, storage.DerivativesPrefix), 1)
	require.Len(t, files(t, tb.dir), 3)
}
