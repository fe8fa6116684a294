package sqlitestore

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEmbeddedMigrationsAreNumbered(t *testing.T) {
	ms, err := migrations()
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	for i, m := range ms {
		require.Equal(t, i+1, m.version, m.name)
		require.NotEmpty(t, m.sql, m.name)
	}
}

func rawDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db")+"?_txlock=immediate")
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func version(t *testing.T, db *sql.DB) int {
	t.Helper()
	var v int
	require.NoError(t, db.QueryRow("PRAGMA user_version").Scan(&v))
	return v
}

func tables(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		out = append(out, n)
	}
	return out
}

// Each migration runs once: a second migrate with more migrations runs only
// the new ones (rerunning the first would fail on CREATE TABLE).
func TestMigrateAppliesOnlyNew(t *testing.T) {
	db := rawDB(t)
	one := migration{1, "0001_a.sql", "CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);"}
	two := migration{2, "0002_b.sql", "CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (2);"}

	require.NoError(t, migrate(t.Context(), db, []migration{one}))
	require.Equal(t, 1, version(t, db))
	require.NoError(t, migrate(t.Context(), db, []migration{one}))
	require.NoError(t, migrate(t.Context(), db, []migration{one, two}))
	require.Equal(t, 2, version(t, db))
	require.Equal(t, []string{"a", "b"}, tables(t, db))
	var n int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM a").Scan(&n))
	require.Equal(t, 2, n, "migration 1 ran twice, or 2 did not run")

	err := migrate(t.Context(), db, []migration{one})
	require.ErrorContains(t, err, "schema version 2 is newer than this code knows (1)")
}

// A migration that fails leaves the file as it was: no half-applied schema,
// no version bump.
func TestMigrateIsAtomic(t *testing.T) {
	db := rawDB(t)
	one := migration{1, "0001_a.sql", "CREATE TABLE a (x INTEGER);"}
	bad := migration{2, "0002_bad.sql", "CREATE TABLE b (y INTEGER); THIS IS NOT SQL;"}
	require.NoError(t, migrate(t.Context(), db, []migration{one}))

	err := migrate(t.Context(), db, []migration{one, bad})
	require.ErrorContains(t, err, "0002_bad.sql")
	require.Equal(t, 1, version(t, db))
	require.Equal(t, []string{"a"}, tables(t, db))
}
