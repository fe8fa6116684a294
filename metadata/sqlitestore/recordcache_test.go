//go:build unix

package sqlitestore

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/attachkit/attachment/metadata"
)

// openCached opens a store on path with the record cache on, as Open
// does by default.
func openCached(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	require.NotNil(t, s.cache, "no record cache on a unix system")
	return s
}

// mustGetName reads id through s and returns its filename.
func mustGetName(t *testing.T, s *Store, id string) string {
	t.Helper()
	r, err := s.Get(t.Context(), "t1", id)
	require.NoError(t, err)
	return r.Filename
}

// A second Get of an unchanged record is answered from the cache, with a
// copy the caller may change; a commit by another Store on the same file,
// or by a connection that is not a Store's at all, is seen by the next
// Get; a delete too.
func TestRecordCacheSeesEveryWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	a := openCached(t, path)
	b := openCached(t, path)
	r := groupRecord("t1")
	require.NoError(t, a.Create(t.Context(), []*metadata.Record{r}))

	require.Equal(t, r.Filename, mustGetName(t, a, r.ID))
	hits := a.cache.hits.Load()
	got, err := a.Get(t.Context(), "t1", r.ID)
	require.NoError(t, err)
	require.Equal(t, hits+1, a.cache.hits.Load(), "the second Get was not a hit")
	got.Labels["k"] = "changed by the caller"
	again, err := a.Get(t.Context(), "t1", r.ID)
	require.NoError(t, err)
	require.Equal(t, "v", again.Labels["k"], "a caller changed the cached record")

	_, err = b.Update(t.Context(), "t1", r.ID, metadata.Update{Filename: ptr("renamed-by-b.jpg"), UpdatedAt: time.Now()})
	require.NoError(t, err)
	require.Equal(t, "renamed-by-b.jpg", mustGetName(t, a, r.ID))

	raw, err := sql.Open("sqlite", dsn(path, nil))
	require.NoError(t, err)
	defer raw.Close()
	_, err = raw.Exec(`UPDATE attachments SET filename = 'renamed-by-sql.jpg' WHERE id = ?`, r.ID)
	require.NoError(t, err)
	require.Equal(t, "renamed-by-sql.jpg", mustGetName(t, a, r.ID))

	require.NoError(t, b.Delete(t.Context(), "t1", r.ID, true))
	_, err = a.Get(t.Context(), "t1", r.ID)
	require.ErrorIs(t, err, metadata.ErrNotFound)
}

// A commit by another process is seen by the next Get: the test binary
// runs itself to rename the record with plain SQL.
func TestRecordCacheSeesOtherProcess(t *testing.T) {
	if path := os.Getenv("SQLITESTORE_RENAME_IN"); path != "" {
		renameInOtherProcess(t, path, os.Getenv("SQLITESTORE_RENAME_ID"))
		return
	}
	path := filepath.Join(t.TempDir(), "meta.db")
	a := openCached(t, path)
	r := groupRecord("t1")
	require.NoError(t, a.Create(t.Context(), []*metadata.Record{r}))
	require.Equal(t, r.Filename, mustGetName(t, a, r.ID))
	require.Equal(t, r.Filename, mustGetName(t, a, r.ID)) // now cached

	cmd := exec.Command(os.Args[0], "-test.run=^TestRecordCacheSeesOtherProcess$")
	cmd.Env = append(os.Environ(), "SQLITESTORE_RENAME_IN="+path, "SQLITESTORE_RENAME_ID="+r.ID)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, "renamed-elsewhere.jpg", mustGetName(t, a, r.ID))
}

func renameInOtherProcess(t *testing.T, path, id string) {
	raw, err := sql.Open("sqlite", dsn(path, nil))
	require.NoError(t, err)
	defer raw.Close()
	res, err := raw.Exec(`UPDATE attachments SET filename = 'renamed-elsewhere.jpg' WHERE id = ?`, id)
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.Equal(t, int64(1), n, fmt.Sprintf("record %s in %s", id, path))
}

// Under concurrent renames, no Get answers a name older than the last
// rename that had returned before the Get began.
func TestRecordCacheNeverStale(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	a := openCached(t, path)
	b := openCached(t, path) // the renames commit through another Store
	r := groupRecord("t1")
	require.NoError(t, a.Create(t.Context(), []*metadata.Record{r}))
	var done atomic.Int64 // the last rename that returned
	stop := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		defer close(errs)
		for i := int64(1); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := b.Update(t.Context(), "t1", r.ID, metadata.Update{Filename: ptr(fmt.Sprint(i)), UpdatedAt: time.Now()}); err != nil {
				errs <- err
				return
			}
			done.Store(i)
		}
	}()
	var g errgroup.Group
	for range 4 {
		g.Go(func() error {
			for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); {
				before := done.Load()
				got, err := a.Get(t.Context(), "t1", r.ID)
				if err != nil {
					return err
				}
				var n int64
				if got.Filename != r.Filename {
					if _, err := fmt.Sscan(got.Filename, &n); err != nil {
						return err
					}
				}
				if n < before {
					return fmt.Errorf("Get answered rename %d after rename %d had returned", n, before)
				}
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())
	close(stop)
	require.NoError(t, <-errs)
	require.Positive(t, a.cache.hits.Load(), "no Get was answered from the cache")
}

// Options.NoRecordCache leaves Get without a cache.
func TestNoRecordCache(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "meta.db"), &Options{NoRecordCache: true})
	require.NoError(t, err)
	defer s.Close()
	require.Nil(t, s.cache)
}

func ptr[T any](v T) *T { return &v }
