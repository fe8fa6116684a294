// Package pgtest gives a test its own schema on the PostgreSQL server that
// the module's tests run against, when one is configured. Only tests
// import it.
//
// The server is named by ATTACHMENT_TEST_POSTGRES_URL, a connection string
// (URL or keyword/value) of a user who may create schemas and, once, the
// pg_trgm extension. .ci/services starts a throwaway server and prints it.
package pgtest

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
)

// EnvURL is the environment variable holding the server's connection
// string.
const EnvURL = "ATTACHMENT_TEST_POSTGRES_URL"

// SkipReason is why PostgreSQL tests skip when EnvURL is not set.
const SkipReason = EnvURL + ` is not set; start a server with: eval "$(.ci/services start /tmp/attachment-services)"`

// Skip returns SkipReason when no server is configured, and "" when one
// is.
func Skip() string {
	if os.Getenv(EnvURL) == "" {
		return SkipReason
	}
	return ""
}

// URL returns the server's connection string, or skips t with SkipReason.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		t.Skip(SkipReason)
	}
	return u
}

var trgm struct {
	once sync.Once
	err  error
}

// Schema creates a schema with a random name, dropped with everything in
// it when t ends, and returns its name and a connection string of the
// server whose search_path is that schema alone. It skips t when no server
// is configured.
//
// pg_trgm is installed in public first (once per process), as an
// administrator would for a database shared by several stores: stores use
// it from there, and dropping a test's schema never drops it.
func Schema(t testing.TB) (schema, connString string) {
	t.Helper()
	base := URL(t)
	ctx := context.Background() // t.Context is canceled before cleanups run
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	trgm.once.Do(func() {
		_, trgm.err = conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public`)
	})
	if trgm.err != nil {
		t.Fatalf("pgtest: create extension pg_trgm: %v", trgm.err)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema = "attachment_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() { drop(t, base, schema) })
	return schema, WithSearchPath(t, base, schema)
}

// drop drops the schema and everything in it.
func drop(t testing.TB, base, schema string) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Errorf("pgtest: drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		t.Errorf("pgtest: drop schema %s: %v", schema, err)
	}
}

// WithSearchPath returns the connection string base with its search_path
// set to path: a URL's query parameter, or a keyword/value pair.
func WithSearchPath(t testing.TB, base, path string) string {
	t.Helper()
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return base + " search_path='" + path + "'"
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("pgtest: %s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", path)
	u.RawQuery = q.Encode()
	return u.String()
}
