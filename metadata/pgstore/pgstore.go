// Package pgstore is a metadata.Store in a PostgreSQL database (13 or
// newer, UTF8 encoding), with github.com/jackc/pgx/v5 and its pgxpool. It is
// the store for hosts that run several instances against one database:
// every call is safe for concurrent use in and across processes, and
// listing stays fast at millions of records.
//
// Importing it registers the "postgres" and "postgresql" schemes with
// metadata.DefaultURLMux. The URL is handed to pgxpool.ParseConfig as it
// is, so every libpq and pgx parameter works (sslmode, pool_max_conns,
// ...), and any other parameter is a server run-time parameter, which the
// server refuses if it does not know it:
//
//	postgres://app:secret@db.example:5432/app?sslmode=verify-full
//	postgres://app@db/app?pool_max_conns=20&search_path=attachments
//
// # Schema
//
// The tables (attachments, attachment_labels, attachment_jobs,
// attachment_uploads and the version table attachment_schema_migrations) and the function
// attachment_tenant_grams are created in the current schema: the first
// existing schema on the connection's search_path. Give each store a
// schema of its own (search_path=NAME in the URL, or in the pool's config
// for New) to keep several apart in one database.
//
// Open brings the schema up to date with migrations embedded in the
// package, each run in a transaction that holds a transaction-level
// advisory lock derived from the schema's name: instances starting at once
// wait for one another and migrate once, and stores in other schemas do
// not wait at all. A schema whose version is newer than this package knows
// is refused. Migrating needs the CREATE privilege on the schema; with
// Options.NoMigrate, Open only checks the version.
//
// Filename searches use GIN indexes of the five- and three-character
// substrings of names, each key followed by the tenant, so that a search
// reads its own tenant's names only. Release 1's schema also needs the
// pg_trgm extension (its short searches used a trigram index, which the
// third migration drops; the extension is left installed). The first
// migration installs it with CREATE EXTENSION IF NOT EXISTS,
// which needs the CREATE privilege on the database (pg_trgm is a trusted
// extension since PostgreSQL 13), and puts it in the current schema. Where
// the user lacks that privilege, or several schemas use pgstore (dropping
// the schema that holds the extension would drop it from under the
// others), have an administrator install it first, for example with
// CREATE EXTENSION pg_trgm SCHEMA public; the first migration then finds
// it where it is, whether or not that schema is on search_path.
//
// # Performance
//
// A page of List is read in ID order from one index, from the cursor, and
// costs what it reads (see listQuery in list.go). A filename search that
// finds no page among the first 1000 records it reads collects the older
// matches from a filename index instead, which costs what they are: a
// rare name is found as fast in a million records as in ten thousand.
// The server plans that with the statistics of the tables, which
// autovacuum keeps (it analyzes and vacuums after inserts too; vacuuming
// also merges the pending entries of the filename indexes, which every
// search through them reads). After loading many records at once, run
// VACUUM (ANALYZE) on the three tables.
//
// Store is also a metadata.Queue: jobs live in attachment_jobs beside the
// records; Claim selects due jobs FOR UPDATE SKIP LOCKED and claims them in
// the same statement, so that instances share the work and never claim one
// job twice, and every Finish and Extend is fenced by the claim's attempt
// (see queue.go).
//
// Store is also a metadata.Uploads: resumable upload sessions live in
// attachment_uploads, every change conditional on the row's version (see
// uploads.go).
package pgstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/attachkit/attachment/metadata"
)

var _ metadata.Store = (*Store)(nil)

// Options tunes a Store. A nil *Options, and every zero field, means the
// default.
type Options struct {
	// NoMigrate makes Open and New leave the schema alone: they only check
	// that it is at the version this package knows, and fail otherwise.
	// For hosts that migrate in a separate step, with a more privileged
	// user, and run with one that may not change the schema.
	NoMigrate bool
}

// Store is a metadata.Store in PostgreSQL. Open one with Open or New; it is
// safe for concurrent use.
type Store struct {
	// mu is held for reading by every call and for writing by Close, so
	// that a call either runs on an open pool or reports ErrClosed.
	mu     sync.RWMutex
	closed bool

	pool    *pgxpool.Pool
	ownPool bool // Close closes pool: Open made it
	// mode is the pool's default query mode, and searchMode how List runs
	// a filename search: so that the server plans each with its words (and
	// picks the index that finds them best), never with a generic plan
	// cached for all. See listMode.
	mode, searchMode pgx.QueryExecMode
	// searchWalk is how many records a filename search reads in ID order
	// before it turns to the filename indexes (see listQuery).
	searchWalk int
}

// Open opens a pool to the database that connString names (a URL or a
// keyword/value string, as pgxpool.ParseConfig takes it), checks that the
// server answers, and brings the schema up to date. Close closes the pool.
func Open(ctx context.Context, connString string, opts *Options) (*Store, error) {
	s, err := open(ctx, connString, opts)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open: %w", err)
	}
	return s, nil
}

// open is Open with errors that do not say where they come from.
func open(ctx context.Context, connString string, opts *Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, err // pgconn's message masks the passwords of the string it quotes
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s, err := newStore(ctx, pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.ownPool = true
	return s, nil
}

// New returns a Store on a pool the host made and keeps: Close leaves it
// open. The pool's connections must all have the same search_path. New
// brings the schema up to date, like Open.
func New(ctx context.Context, pool *pgxpool.Pool, opts *Options) (*Store, error) {
	if pool == nil {
		return nil, fmt.Errorf("pgstore: new: nil pool")
	}
	s, err := newStore(ctx, pool, opts)
	if err != nil {
		return nil, fmt.Errorf("pgstore: new: %w", err)
	}
	return s, nil
}

func newStore(ctx context.Context, pool *pgxpool.Pool, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	// Filename search counts characters in the database as Go counts
	// runes, which holds in a UTF8 database only.
	var encoding string
	if err := pool.QueryRow(ctx, `SHOW server_encoding`).Scan(&encoding); err != nil {
		return nil, err
	}
	if encoding != "UTF8" {
		return nil, fmt.Errorf("database encoding is %s; pgstore needs UTF8", encoding)
	}
	ms, err := migrations()
	if err != nil {
		return nil, err
	}
	if o.NoMigrate {
		err = checkVersion(ctx, pool, len(ms))
	} else {
		err = migrate(ctx, pool, ms)
	}
	if err != nil {
		return nil, err
	}
	mode := pool.Config().ConnConfig.DefaultQueryExecMode
	return &Store{pool: pool, mode: mode, searchMode: searchMode(mode), searchWalk: defaultSearchWalk}, nil
}

// Close implements metadata.Store. It waits for calls in progress, then
// closes the pool if Open made it; calls after it, Close included, return
// metadata.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("pgstore: close: %w", metadata.ErrClosed)
	}
	s.closed = true
	if s.ownPool {
		s.pool.Close()
	}
	return nil
}

// acquire holds s open for the length of one call: it returns a func that
// releases it, or an error wrapping metadata.ErrClosed. The call defers
// release with its error result, which release classifies (see classify):
// every exported call reports outages alike.
func (s *Store) acquire(op string) (release func(*error), err error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, fmt.Errorf("pgstore: %s: %w", op, metadata.ErrClosed)
	}
	return func(err *error) {
		s.mu.RUnlock()
		*err = classify(*err)
	}, nil
}
