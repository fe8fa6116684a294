package pgstore

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
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

// freshPool returns a pool on a fresh schema, closed when the test ends.
func freshPool(t *testing.T) (schema string, pool *pgxpool.Pool) {
	t.Helper()
	schema, connString := freshSchema(t)
	pool, err := pgxpool.New(t.Context(), connString)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return schema, pool
}

// versions returns the rows of the version table: version → times applied.
func versions(t *testing.T, pool *pgxpool.Pool) map[int]int {
	t.Helper()
	rows, err := pool.Query(t.Context(), `SELECT version, count(*) FROM attachment_schema_migrations GROUP BY version`)
	require.NoError(t, err)
	out := map[int]int{}
	for rows.Next() {
		var v, n int
		require.NoError(t, rows.Scan(&v, &n))
		out[v] = n
	}
	require.NoError(t, rows.Err())
	return out
}

// tables returns the tables of the schema, sorted.
func tables(t *testing.T, pool *pgxpool.Pool, schema string) []string {
	t.Helper()
	rows, err := pool.Query(t.Context(), `SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename`, schema)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return names
}

// Each migration runs once: a second migrate with more migrations runs only
// the new ones (rerunning the first would fail on CREATE TABLE).
func TestMigrateAppliesOnlyNew(t *testing.T) {
	schema, pool := freshPool(t)
	one := migration{1, "0001_a.sql", "CREATE TABLE a (x integer); INSERT INTO a VALUES (1);"}
	two := migration{2, "0002_b.sql", "CREATE TABLE b (y integer); INSERT INTO a VALUES (2);"}

	require.NoError(t, migrate(t.Context(), pool, []migration{one}))
	require.Equal(t, map[int]int{1: 1}, versions(t, pool))
	require.NoError(t, migrate(t.Context(), pool, []migration{one}))
	require.NoError(t, migrate(t.Context(), pool, []migration{one, two}))
	require.Equal(t, map[int]int{1: 1, 2: 1}, versions(t, pool))
	require.Equal(t, []string{"a", "attachment_schema_migrations", "b"}, tables(t, pool, schema))
	var n int
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*) FROM a").Scan(&n))
	require.Equal(t, 2, n, "migration 1 ran twice, or 2 did not run")

	err := migrate(t.Context(), pool, []migration{one})
	require.ErrorContains(t, err, "schema version 2 is newer than this code knows (1)")
}

// A migration that fails leaves the schema as it was: no half-applied
// schema, no version row.
func TestMigrateIsAtomic(t *testing.T) {
	schema, pool := freshPool(t)
	one := migration{1, "0001_a.sql", "CREATE TABLE a (x integer);"}
	bad := migration{2, "0002_bad.sql", "CREATE TABLE b (y integer); THIS IS NOT SQL;"}
	require.NoError(t, migrate(t.Context(), pool, []migration{one}))

	err := migrate(t.Context(), pool, []migration{one, bad})
	require.ErrorContains(t, err, "0002_bad.sql")
	require.Equal(t, map[int]int{1: 1}, versions(t, pool))
	require.Equal(t, []string{"a", "attachment_schema_migrations"}, tables(t, pool, schema))
}

// Eight instances starting at once on a fresh schema all open it, and the
// migrations run once: one version row each, the schema at the last.
func TestConcurrentOpen(t *testing.T) {
	schema, connString := freshSchema(t)
	const instances = 8
	stores := make([]*Store, instances)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() {
			<-start
			s, err := Open(t.Context(), connString, nil)
			if assert.NoError(t, err, "instance %d", i) {
				stores[i] = s
			}
		})
	}
	close(start)
	wg.Wait()
	for _, s := range stores {
		if s != nil {
			defer s.Close()
		}
	}
	require.False(t, t.Failed())

	ms, err := migrations()
	require.NoError(t, err)
	want := map[int]int{}
	for _, m := range ms {
		want[m.version] = 1
	}
	pool := stores[0].pool
	require.Equal(t, want, versions(t, pool))
	require.Equal(t, []string{"attachment_jobs", "attachment_labels", "attachment_schema_migrations", "attachment_uploads", "attachments"},
		tables(t, pool, schema))
	// Every instance works on the schema.
	for i, s := range stores {
		r := &metadata.Record{ID: fmt.Sprintf("id-%d", i), Tenant: "t1", Filename: fmt.Sprint(i)}
		require.NoError(t, s.Create(t.Context(), []*metadata.Record{r}))
		_, err := stores[(i+1)%instances].Get(t.Context(), "t1", r.ID)
		require.NoError(t, err)
	}
}

// A schema whose version is newer than the code knows is refused, and left
// as it was.
func TestNewerSchemaIsRefused(t *testing.T) {
	_, connString := freshSchema(t)
	s, err := Open(t.Context(), connString, nil)
	require.NoError(t, err)
	_, err = s.pool.Exec(t.Context(), `INSERT INTO attachment_schema_migrations (version, name) VALUES (99, '0099_future.sql')`)
	require.NoError(t, err)
	before := versions(t, s.pool)

	for _, opts := range []*Options{nil, {NoMigrate: true}} {
		s2, err := Open(t.Context(), connString, opts)
		require.ErrorContains(t, err, "schema version 99 is newer than this code knows")
		require.Nil(t, s2)
	}
	require.Equal(t, before, versions(t, s.pool), "a refused schema is left as it was")
	require.NoError(t, s.Close())
}

// Migrations of different schemas do not wait for each other: the lock is
// the schema's. One of the same schema waits until the lock is free.
func TestMigrationLockIsPerSchema(t *testing.T) {
	schemaA, connA := freshSchema(t)
	_, connB := freshSchema(t)
	ctx := t.Context()

	// Hold schema A's migration lock, as an instance migrating it would.
	holder, err := pgx.Connect(ctx, connA)
	require.NoError(t, err)
	defer holder.Close(context.Background())
	tx, err := holder.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, lockPrefix+schemaA)
	require.NoError(t, err)

	b, err := Open(ctx, connB, nil)
	require.NoError(t, err, "schema B waited for schema A's lock")
	require.NoError(t, b.Close())

	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = Open(short, connA, nil)
	require.ErrorIs(t, err, context.DeadlineExceeded, "schema A migrated while its lock was held")

	opened := make(chan error, 1)
	go func() {
		a, err := Open(ctx, connA, nil)
		if err == nil {
			a.Close()
		}
		opened <- err
	}()
	select {
	case err := <-opened:
		t.Fatalf("Open returned while the lock was held: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	require.NoError(t, tx.Rollback(ctx))
	require.NoError(t, <-opened)
}

// With NoMigrate, Open changes nothing: it refuses a schema that is not up
// to date, and opens one that is.
func TestNoMigrate(t *testing.T) {
	schema, connString := freshSchema(t)
	_, err := Open(t.Context(), connString, &Options{NoMigrate: true})
	require.ErrorContains(t, err, "is at version 0")

	pool, err := pgxpool.New(t.Context(), connString)
	require.NoError(t, err)
	defer pool.Close()
	require.Empty(t, tables(t, pool, schema), "NoMigrate created tables")

	s, err := Open(t.Context(), connString, nil)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	s, err = Open(t.Context(), connString, &Options{NoMigrate: true})
	require.NoError(t, err)
	require.NoError(t, s.Create(t.Context(), []*metadata.Record{{ID: "x", Tenant: "t"}}))
	require.NoError(t, s.Close())
}

// A search_path that names no existing schema leaves nowhere to create the
// tables: Open says so.
func TestNoSchemaOnSearchPath(t *testing.T) {
	connString := withSearchPath(t, serverURL(t), "pgstore_test_no_such_schema")
	_, err := Open(t.Context(), connString, nil)
	require.ErrorContains(t, err, "no schema on search_path")
}
