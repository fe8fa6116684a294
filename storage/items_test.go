package storage_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/fileblob"

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
				"content/odd.name", "derived/loose", "elsewhere/" + id1,
				storage.UploadPrefix(id1) + "c-0000000000000000", "uploads/loose"} {
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

			got = items(t, s, storage.UploadsPrefix)
			require.Len(t, got, 2)
			require.Equal(t, storage.Item{Key: storage.UploadPrefix(id1) + "c-0000000000000000", Kind: storage.KindUpload, ID: id1, ModTime: got[0].ModTime}, got[0])
			require.Equal(t, storage.KindUnknown, got[1].Kind)

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

// A file:// bucket opened by Open, or given to New with FileDir, is listed
// by reading its directory: the same items as the bucket's own listing,
// including temporary files, and without fileblob's sidecar files.
func TestItemsFileDirectory(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	for _, params := range []string{"create_dir=1&no_tmp_dir=1&metadata=skip", "create_dir=1",
		"create_dir=1&no_tmp_dir=1&prefix=app/one/", "create_dir=1&prefix=odd"} {
		t.Run(params, func(t *testing.T) {
			dir := filepath.Join(dir, fmt.Sprint(len(params)))
			s, err := storage.Open(ctx, "file://"+dir+"?"+params)
			require.NoError(t, err)
			defer s.Close()
			var ids []string
			for i := range 30 {
				id := fmt.Sprintf("0193b1a2-0000-7000-8000-%012d", 100-i)
				ids = append(ids, id)
				require.NoError(t, s.Bucket().WriteAll(ctx, storage.ContentKey(id), []byte(id), nil))
				if i%3 == 0 {
					require.NoError(t, s.Bucket().WriteAll(ctx, storage.DerivativeKey(id, "thumb-64"), []byte("t"), nil))
					require.NoError(t, s.Bucket().WriteAll(ctx, storage.DerivativeKey(id, "thumb-256"), []byte("t"), nil))
				}
			}
			require.NoError(t, s.Bucket().WriteAll(ctx, "content/notes", []byte("x"), nil))
			contentDir := filepath.Join(dir, "content")
			if strings.Contains(params, "prefix=app/one/") {
				contentDir = filepath.Join(dir, "app", "one", "content")
			}
			if !strings.Contains(params, "prefix=odd") { // keys "oddcontent/...": no directory of their own
				require.NoError(t, os.WriteFile(filepath.Join(contentDir, ids[0]+".18a3f0c2b1d4e5f6.tmp"), []byte("partial"), 0o600))
			}
			listed := storage.New(s.Bucket()) // the same bucket, listed through gocloud
			stores := map[string]*storage.Store{"Open": s}
			if !strings.Contains(params, "prefix=odd") {
				// The same bucket given to New with its directory.
				stores["New+FileDir"] = storage.New(s.Bucket(), storage.FileDir(filepath.Dir(contentDir)))
			}
			for name, s := range stores {
				for _, prefix := range []string{storage.ContentPrefix, storage.DerivativesPrefix} {
					got, want := items(t, s, prefix), items(t, listed, prefix)
					require.NotEmpty(t, got, name)
					require.Equal(t, len(want), len(got), name)
					for i := range want {
						require.Equal(t, want[i].Key, got[i].Key, name)
						require.Equal(t, want[i].Kind, got[i].Kind, name)
						require.Equal(t, want[i].ID, got[i].ID, name)
						require.True(t, want[i].ModTime.Equal(got[i].ModTime), "%s: ModTime of %s", name, got[i].Key)
					}
				}
				require.Empty(t, items(t, s, "nothing/"), name)
			}
		})
	}
}

// Files removed while the directory is read are skipped: the listing of a
// busy bucket goes through, where fileblob's own listing fails a page on
// the first file that vanished under its walk. That holds for a bucket
// opened by URL and for one given to New with FileDir, and only a walk of
// the directory sees the removals (gocloud's listing takes a page of all
// 1,000 keys before the first is yielded).
func TestItemsFileDirectoryWhileRemoving(t *testing.T) {
	const n = 1000
	name := func(i int) string { return fmt.Sprintf("0193b1a2-0000-7000-8000-%012d", i) }
	for _, how := range []string{"Open", "New+FileDir"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			ctx := t.Context()
			var s *storage.Store
			if how == "Open" {
				var err error
				s, err = storage.Open(ctx, "file://"+dir+"?create_dir=1&no_tmp_dir=1&metadata=skip")
				require.NoError(t, err)
				defer s.Close()
			} else {
				b, err := fileblob.OpenBucket(dir, &fileblob.Options{NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
				require.NoError(t, err)
				defer b.Close()
				s = storage.New(b, storage.FileDir(dir))
			}
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "content"), 0o755))
			for i := range n {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "content", name(i)), nil, 0o644))
			}
			// The walk has read the directory's names when it yields its
			// first item: each item seen removes the next one, which the walk
			// then finds gone.
			var seen []string
			for it, err := range s.Items(ctx, storage.ContentPrefix) {
				require.NoError(t, err)
				seen = append(seen, it.ID)
				var i int
				_, err := fmt.Sscanf(it.ID[len(it.ID)-12:], "%d", &i)
				require.NoError(t, err)
				require.NoError(t, os.Remove(filepath.Join(dir, "content", name(i+1))))
			}
			require.Len(t, seen, n/2)
			for k, id := range seen {
				require.Equal(t, name(2*k), id)
			}
		})
	}
}

// FileDir makes a relative directory absolute when New runs, as fileblob
// does with the directory it opens, and an empty one leaves the bucket
// listed through gocloud.
func TestFileDirRelative(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	b, err := fileblob.OpenBucket("blobs", &fileblob.Options{CreateDir: true, NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
	require.NoError(t, err)
	defer b.Close()
	require.NoError(t, b.WriteAll(t.Context(), storage.ContentKey(id), []byte("x"), nil))
	s := storage.New(b, storage.FileDir("blobs"))
	t.Chdir(t.TempDir()) // elsewhere: the directory was made absolute
	got := items(t, s, storage.ContentPrefix)
	require.Len(t, got, 1)
	require.Equal(t, storage.ContentKey(id), got[0].Key)
	require.Len(t, items(t, storage.New(b, storage.FileDir("")), storage.ContentPrefix), 1)
}
