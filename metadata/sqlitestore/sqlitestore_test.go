package sqlitestore_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/metadatatest"
	"github.com/attachkit/attachment/metadata/sqlitestore"
)

func TestConformance(t *testing.T) {
	metadatatest.Run(t, func(t *testing.T) metadata.Store {
		s, err := sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "meta.db"), nil)
		require.NoError(t, err)
		return s
	})
}

func record(tenant string) *metadata.Record {
	return &metadata.Record{
		ID:          uuid.Must(uuid.NewV7()).String(),
		Tenant:      tenant,
		Filename:    "a.txt",
		ContentType: "text/plain",
		Labels:      map[string]string{"k": "v"},
		Refs:        []string{"doc:1"},
		CreatedAt:   time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC),
		UpdatedAt:   time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC),
	}
}

func open(t *testing.T, path string) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.Open(t.Context(), path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s := open(t, path)
	r := record("t1")
	require.NoError(t, s.Create(t.Context(), []*metadata.Record{r}))
	_, err := s.Update(t.Context(), "t1", r.ID, metadata.Update{Filename: new("b.txt"), UpdatedAt: r.UpdatedAt})
	require.NoError(t, err)
	require.NoError(t, s.Close())

	// Opening again applies no migration twice (CREATE TABLE would fail)
	// and finds the record, its label index included.
	s = open(t, path)
	got, err := s.Get(t.Context(), "t1", r.ID)
	require.NoError(t, err)
	require.Equal(t, "b.txt", got.Filename)
	require.Equal(t, r.Labels, got.Labels)
	recs, err := s.List(t.Context(), metadata.Query{Tenant: "t1", Labels: map[string]string{"k": "v"}, FilenameContains: "B.TXT", Limit: 10})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.NoError(t, s.Close())

	ms, err := filepath.Glob("migrations/*.sql")
	require.NoError(t, err)
	require.Equal(t, len(ms), userVersion(t, path), "the schema version is that of the last migration")
}

// userVersion reads the schema version of the file at path.
func userVersion(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	var v int
	require.NoError(t, db.QueryRow("PRAGMA user_version").Scan(&v))
	return v
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	require.NoError(t, open(t, path).Close())
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	_, err = db.Exec("PRAGMA user_version = 99")
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s, err := sqlitestore.Open(t.Context(), path, nil)
	require.ErrorContains(t, err, "schema version 99 is newer")
	require.Nil(t, s)
	require.Equal(t, 99, userVersion(t, path), "a refused file is left as it was")
}

func TestOpenMakesParentDirectories(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "meta.db")
	s := open(t, path)
	require.Equal(t, path, s.Path())
	require.NoError(t, s.Create(t.Context(), []*metadata.Record{record("t1")}))
	info, err := os.Stat(filepath.Dir(path))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o755), info.Mode().Perm()&0o755)
}

// Characters that mean something in a SQLite URI are part of the name.
func TestOpenOddFilename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "we?ird #name%20&mode=ro.db")
	s := open(t, path)
	require.NoError(t, s.Create(t.Context(), []*metadata.Record{record("t1")}))
	require.NoError(t, s.Close())
	_, err := os.Stat(path)
	require.NoError(t, err, "the database is not where it was asked to be")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		require.Contains(t, e.Name(), "we?ird #name%20&mode=ro.db")
	}
}

func TestOpenErrors(t *testing.T) {
	_, err := sqlitestore.Open(t.Context(), "", nil)
	require.ErrorContains(t, err, "empty path")

	notADB := filepath.Join(t.TempDir(), "text.db")
	require.NoError(t, os.WriteFile(notADB, []byte("this is not a database, not at all, really not"), 0o644))
	_, err = sqlitestore.Open(t.Context(), notADB, nil)
	require.Error(t, err)

	_, err = sqlitestore.Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), &sqlitestore.Options{MaxReaders: -1})
	require.Error(t, err)
}

// Two stores on one file, as two processes would have: their writers wait
// for each other (busy_timeout, IMMEDIATE transactions) instead of failing.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	stores := []*sqlitestore.Store{open(t, path), open(t, path)}
	const perStore, batches = 4, 8
	var wg sync.WaitGroup
	for i, s := range stores {
		for g := range perStore {
			wg.Go(func() {
				for range batches {
					r := record(fmt.Sprint("store", i))
					if !assert.NoError(t, s.Create(t.Context(), []*metadata.Record{r, record(r.Tenant)}), "goroutine %d", g) {
						return
					}
					_, err := s.Update(t.Context(), r.Tenant, r.ID, metadata.Update{AddRefs: []string{"x"}, UpdatedAt: r.UpdatedAt})
					assert.NoError(t, err)
				}
			})
		}
	}
	wg.Wait()
	for i := range stores {
		for _, s := range stores {
			recs, err := s.List(t.Context(), metadata.Query{Tenant: fmt.Sprint("store", i), Limit: 1000})
			require.NoError(t, err)
			require.Len(t, recs, perStore*batches*2)
		}
	}
}

func TestListLimitMustBePositive(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "meta.db"))
	_, err := s.List(t.Context(), metadata.Query{Tenant: "t1"})
	require.ErrorContains(t, err, "limit")
}
