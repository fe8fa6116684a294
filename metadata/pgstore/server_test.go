package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// The tests run against a real server, named by this environment variable,
// and are skipped without it.
const (
	serverEnv  = "ATTACHMENT_TEST_POSTGRES_URL"
	skipReason = serverEnv + ` is not set; start a server with: eval "$(.ci/services start /tmp/attachment-services)"`
)

// serverURL returns the test server's URL, or skips the test.
func serverURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(serverEnv)
	if u == "" {
		tb.Skip(skipReason)
	}
	return u
}

var trgmOnce sync.Once

// freshSchema creates a schema with a random name, dropped with everything
// in it when the test ends, and returns its name and a connection string
// of the test server whose search_path is that schema alone.
//
// pg_trgm is installed in public first (once), as an administrator would
// do for a database shared by several stores: the stores then use it from
// there, and dropping a test's schema never drops it.
func freshSchema(tb testing.TB) (schema, connString string) {
	tb.Helper()
	base := serverURL(tb)
	ctx := context.Background() // tb.Context is canceled before the cleanups run
	conn, err := pgx.Connect(ctx, base)
	require.NoError(tb, err)
	defer conn.Close(ctx)
	trgmOnce.Do(func() {
		_, err = conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public`)
	})
	require.NoError(tb, err)

	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema = "pgstore_test_" + hex.EncodeToString(b)
	_, err = conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
	require.NoError(tb, err)
	tb.Cleanup(func() { dropSchema(tb, base, schema) })
	return schema, withSearchPath(tb, base, schema)
}

// dropSchema drops the schema and everything in it.
func dropSchema(tb testing.TB, base, schema string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Errorf("drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		tb.Errorf("drop schema %s: %v", schema, err)
	}
}

// withSearchPath returns the connection string base with its search_path
// set to path: a URL's query parameter, or a keyword/value pair.
func withSearchPath(tb testing.TB, base, path string) string {
	tb.Helper()
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return base + " search_path='" + path + "'"
	}
	u, err := url.Parse(base)
	require.NoError(tb, err)
	q := u.Query()
	q.Set("search_path", path)
	u.RawQuery = q.Encode()
	return u.String()
}

// openFresh opens a store on a fresh schema, closed when the test ends.
func openFresh(tb testing.TB) *Store {
	tb.Helper()
	_, connString := freshSchema(tb)
	s, err := Open(tb.Context(), connString, nil)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = s.Close() })
	return s
}
