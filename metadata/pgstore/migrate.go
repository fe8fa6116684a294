package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrationFS holds the schema migrations, NNNN_name.sql, numbered from 1
// without gaps. Migration N brings a schema from version N-1 to N.
// Released migrations are never edited: changes go in a new file.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one schema step.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order, checking
// that they are numbered 1, 2, 3... without gaps.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	out := make([]migration, 0, len(names))
	for i, name := range names { // fs.Glob sorts
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v != i+1 {
			return nil, fmt.Errorf("migration %s: want a name starting %04d_", base, i+1)
		}
		b, err := migrationFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: base, sql: string(b)})
	}
	return out, nil
}

// lockPrefix, followed by the schema's name, is hashed by the server into
// the key of the advisory lock that serializes migrations of that schema.
const lockPrefix = "github.com/attachkit/attachment/metadata/pgstore schema "

const (
	// The version table has a row per migration applied: its version,
	// file name and time. The schema's version is the largest.
	createVersionTable = `CREATE TABLE attachment_schema_migrations (
		version    integer     PRIMARY KEY,
		name       text        NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`
	versionTableExists = `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables
		WHERE schemaname = pg_catalog.current_schema() AND tablename = 'attachment_schema_migrations')`
	selectVersion = `SELECT coalesce(max(version), 0) FROM attachment_schema_migrations`
	insertVersion = `INSERT INTO attachment_schema_migrations (version, name) VALUES ($1, $2)`
)

// migrate brings the current schema up to the version of ms in one
// transaction. The transaction first takes an advisory lock keyed by the
// schema's name (pg_advisory_xact_lock, released at commit or rollback):
// instances migrating the same schema at once run one after the other, and
// each reads the version after the one before it committed, so every
// migration runs once. It creates the version table if the schema has
// none, applies only the migrations the schema has not had, and refuses a
// schema whose version is newer than the code knows. A migration that
// fails leaves the schema as it was.
func migrate(ctx context.Context, pool *pgxpool.Pool, ms []migration) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit

	schema, err := currentSchema(ctx, tx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended($1, 0))`,
		lockPrefix+schema); err != nil {
		return fmt.Errorf("migrate: lock schema %q: %w", schema, err)
	}
	var exists bool
	if err := tx.QueryRow(ctx, versionTableExists).Scan(&exists); err != nil {
		return fmt.Errorf("migrate: read schema version: %w", err)
	}
	have := 0
	if exists {
		if err := tx.QueryRow(ctx, selectVersion).Scan(&have); err != nil {
			return fmt.Errorf("migrate: read schema version: %w", err)
		}
	} else if _, err := tx.Exec(ctx, createVersionTable); err != nil {
		return fmt.Errorf("migrate: create version table in schema %q: %w", schema, err)
	}
	if err := checkHave(schema, have, len(ms)); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if have == len(ms) {
		return nil // the deferred Rollback releases the lock
	}
	for _, m := range ms[have:] {
		// No arguments: pgx sends it with the simple protocol, which runs
		// a file of several statements.
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("migrate: schema %q: %s: %w", schema, m.name, err)
		}
		if _, err := tx.Exec(ctx, insertVersion, m.version, m.name); err != nil {
			return fmt.Errorf("migrate: schema %q: %s: %w", schema, m.name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// checkVersion checks, without changing anything, that the current schema
// is at version want: for Options.NoMigrate.
func checkVersion(ctx context.Context, pool *pgxpool.Pool, want int) error {
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("check schema version: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only: nothing to commit
	schema, err := currentSchema(ctx, tx)
	if err != nil {
		return fmt.Errorf("check schema version: %w", err)
	}
	var exists bool
	if err := tx.QueryRow(ctx, versionTableExists).Scan(&exists); err != nil {
		return fmt.Errorf("check schema version: %w", err)
	}
	have := 0
	if exists {
		if err := tx.QueryRow(ctx, selectVersion).Scan(&have); err != nil {
			return fmt.Errorf("check schema version: %w", err)
		}
	}
	if err := checkHave(schema, have, want); err != nil {
		return fmt.Errorf("check schema version: %w", err)
	}
	if have < want {
		return fmt.Errorf("check schema version: schema %q is at version %d, this code needs %d; open it once without NoMigrate", schema, have, want)
	}
	return nil
}

// checkHave refuses a schema version that this code cannot work with.
func checkHave(schema string, have, known int) error {
	if have > known {
		return fmt.Errorf("schema %q: schema version %d is newer than this code knows (%d); use a newer release of pgstore", schema, have, known)
	}
	if have < 0 {
		return fmt.Errorf("schema %q: invalid schema version %d", schema, have)
	}
	return nil
}

// currentSchema returns the schema that unqualified names are created in:
// the first existing schema on search_path.
func currentSchema(ctx context.Context, tx pgx.Tx) (string, error) {
	var schema *string
	if err := tx.QueryRow(ctx, `SELECT pg_catalog.current_schema()`).Scan(&schema); err != nil {
		return "", err
	}
	if schema == nil {
		var path string
		if err := tx.QueryRow(ctx, `SHOW search_path`).Scan(&path); err != nil {
			return "", err
		}
		return "", errors.New("no schema on search_path (" + path + ") exists to hold the tables")
	}
	return *schema, nil
}
