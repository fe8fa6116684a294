// Package sqlitestore is a metadata.Store in a SQLite database file, with
// the pure-Go driver modernc.org/sqlite (no cgo). It is the embedded
// default: one file beside the host's data, safe for many goroutines, and
// fast to list at millions of records.
//
// Importing it registers the "sqlite" scheme with metadata.DefaultURLMux:
//
//	sqlite://data/meta.db      relative to the working directory
//	sqlite://./data/meta.db    the same
//	sqlite:///var/lib/meta.db  absolute
//
// The database runs in WAL mode with synchronous=NORMAL, foreign keys on and
// a busy timeout, set on every connection. The writer's page cache holds up
// to 64 MiB and each reader's up to 16 MiB, filled as pages are read; a
// host may have the file read through a memory map (Options.MmapBytes). Writes
// go through one connection in IMMEDIATE transactions, so they queue in the
// process instead of failing with SQLITE_BUSY; concurrent Creates share one
// commit. Reads use a pool of read-only connections and never wait for
// writes. Get answers again from a cache of the records it read while the
// database is unchanged, which it checks on every call in SQLite's
// WAL-index header, the "-shm" file that every connection of every process
// shares (see recordcache.go and Options.NoRecordCache). The schema is
// created and migrated on Open.
//
// Store is also a metadata.Queue: jobs live in the jobs table beside the
// records, are claimed in one IMMEDIATE transaction per Claim, and every
// Finish and Extend is fenced by the claim's attempt (see queue.go).
//
// Store is also a metadata.Uploads: resumable upload sessions live in the
// uploads table, every change an IMMEDIATE transaction conditional on the
// row's version (see uploads.go).
package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/attachkit/attachment/metadata"
)

var _ metadata.Store = (*Store)(nil)

// Options tunes a Store. A nil *Options, and every zero field, means the
// default.
type Options struct {
	// BusyTimeout is how long a connection waits for a lock held by another
	// connection (another process using the same file, or a checkpoint)
	// before it fails with SQLITE_BUSY. Zero means 5 seconds.
	BusyTimeout time.Duration
	// MaxReaders is the most read connections open at once. Zero means
	// runtime.GOMAXPROCS(0), and at least 4.
	MaxReaders int
	// ReserveBytes is the disk space the store holds in a file beside the
	// database (its path with "-reserve" appended) and gives up when a
	// Delete finds the disk full, so that deletes, which free space, work
	// on a full disk (see docs/architecture.md). Zero means
	// DefaultReserveBytes (1 MiB); NoReserve (-1) holds none.
	ReserveBytes int64
	// MmapBytes is how much of the database file each connection reads
	// through a memory map rather than a read system call per page (PRAGMA
	// mmap_size): pages then come straight from the operating system's
	// page cache, shared by all connections, and survive the drop of a
	// connection's own cache that every commit causes in WAL mode: a Get
	// of a random record among a million reads no page with a system call.
	// Zero (the default, SQLite's too) maps none, because of the price: an
	// I/O error reading the file through the map, or another program
	// truncating it, crashes the process (SIGBUS) instead of failing the
	// call. MaxMmapBytes is the most SQLite maps. The map takes address
	// space, not memory: the pages read through it are the page cache's,
	// which the kernel reclaims as it needs (they do count in the
	// process's RSS).
	MmapBytes int64
	// NoRecordCache turns off the cache of the records Get reads. By
	// default Get keeps up to 4096 records and answers again from the
	// cache while the database has not changed since, which it checks on
	// every call by reading SQLite's WAL-index header from the database's
	// "-shm" file: a commit by any connection, in this process or another,
	// empties the cache. Unix only; elsewhere there is no cache.
	NoRecordCache bool
}

// MaxMmapBytes is the most Options.MmapBytes can map: 2 GiB less 64 KiB,
// SQLite's limit here; a larger file is read through the map up to there
// and with read calls beyond. A larger MmapBytes is taken as it.
const MaxMmapBytes = 0x7fff0000

const defaultBusyTimeout = 5 * time.Second

// writerCacheKiB and readerCacheKiB are the page cache sizes (PRAGMA
// cache_size, in KiB) of the writer and of each reader; SQLite's default is
// 2 MiB. A cache holds the pages its connection has read, up to its size,
// so a small database uses little of it. The writer's is larger: it is one
// connection, and every write walks the indexes of the tables it changes,
// whose interior pages take some 20 MiB at 2,000,000 records; with 2 MiB
// the writer read them from the file again and again (an Update at a
// million records per tenant made 14 reads, 10 with 64 MiB; 3.3 at
// 10,000). A reader's cache is dropped whenever another connection has
// committed (WAL mode), so a larger one pays only while nobody writes.
// At most 64 MiB + MaxReaders x 16 MiB.
const (
	writerCacheKiB = 64 << 10
	readerCacheKiB = 16 << 10
)

// Store is a metadata.Store in a SQLite file. Open one with Open; it is safe
// for concurrent use.
type Store struct {
	// mu is held for reading by every call and for writing by Close, so
	// that a call either runs on open pools or reports ErrClosed.
	mu     sync.RWMutex
	closed bool

	path string  // the absolute path of the database file
	w    *sql.DB // one connection; every write transaction
	r    *sql.DB // read-only connections
	// getStmt is Get's query, prepared once (per reader connection, by
	// database/sql) rather than parsed on every call: Get runs on every
	// request about one attachment.
	getStmt *sql.Stmt
	// insRecord, insLabel, insJob, insName and insGram are Create's
	// statements, prepared once on the writer.
	insRecord, insLabel, insJob, insName, insGram *sql.Stmt
	// getUpload and updUpload are GetUpload's and UpdateUpload's
	// statements, which every append to a resumable upload runs.
	getUpload, updUpload *sql.Stmt
	// searchWindow and searchCandidates steer filename searches (see
	// search); tests lower them.
	searchWindow, searchCandidates int
	// reserve holds disk space for deletes on a full disk.
	reserve reserve
	// group batches concurrent Creates into one commit; nil commits each
	// alone (tests compare the two).
	group *groupCommit
	// cache keeps the records Get read while the database is unchanged
	// (see recordCache); nil when off or not possible.
	cache *recordCache
}

// Open opens the SQLite database at path, relative to the working directory
// unless absolute, creating the file and its parent directory if they do
// not exist, and brings its schema up to date. A file whose schema is newer
// than this package knows is refused.
func Open(ctx context.Context, path string, opts *Options) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("sqlitestore: open: empty path")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.BusyTimeout < 0 || o.MaxReaders < 0 || o.ReserveBytes < NoReserve || o.MmapBytes < 0 {
		return nil, fmt.Errorf("sqlitestore: open %s: negative option in %+v", path, o)
	}
	if o.BusyTimeout == 0 {
		o.BusyTimeout = defaultBusyTimeout
	}
	if o.MaxReaders == 0 {
		o.MaxReaders = max(4, runtime.GOMAXPROCS(0))
	}
	if o.ReserveBytes == 0 {
		o.ReserveBytes = DefaultReserveBytes
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}

	s := &Store{path: abs, searchWindow: defaultSearchWindow, searchCandidates: defaultSearchCandidates}
	s.reserve = reserve{path: abs + "-reserve", size: max(o.ReserveBytes, 0)}
	s.group = &groupCommit{}
	busy := fmt.Sprintf("busy_timeout(%d)", o.BusyTimeout.Milliseconds())
	mmap := fmt.Sprintf("mmap_size(%d)", min(o.MmapBytes, MaxMmapBytes))
	// The writer turns on WAL (a property of the file) before any reader
	// connects; journal_mode is not set by readers, which may not write.
	s.w, err = sql.Open("sqlite", dsn(abs, url.Values{
		"_pragma": {busy, "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(1)", cacheSize(writerCacheKiB), mmap},
		"_txlock": {"immediate"},
	}))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxIdleTime(0)
	s.w.SetConnMaxLifetime(0)
	ms, err := migrations()
	if err == nil {
		err = migrate(ctx, s.w, ms)
	}
	if err != nil {
		s.w.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}

	s.r, err = sql.Open("sqlite", dsn(abs, url.Values{
		"_pragma": {busy, "foreign_keys(1)", "query_only(1)", cacheSize(readerCacheKiB), mmap},
	}))
	if err != nil {
		s.w.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	s.r.SetMaxOpenConns(o.MaxReaders)
	s.r.SetMaxIdleConns(o.MaxReaders)
	if err := s.r.PingContext(ctx); err != nil {
		s.r.Close()
		s.w.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	if err := s.prepare(ctx); err != nil {
		s.r.Close()
		s.w.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	s.reserve.take()
	if !o.NoRecordCache {
		s.cache = newRecordCache(abs) // the -shm file exists: the writer is open in WAL mode
	}
	return s, nil
}

// cacheSize is the pragma that sets a connection's page cache to kib KiB.
func cacheSize(kib int) string { return fmt.Sprintf("cache_size(-%d)", kib) }

// dsn returns the driver's name for the file at the absolute path abs with
// the query q: a SQLite URI, in which '?', '#' and '%' of the path must be
// escaped.
func dsn(abs string, q url.Values) string {
	p := filepath.ToSlash(abs)
	p = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter: file:/C:/...
	}
	return "file:" + p + "?" + q.Encode()
}

// Path returns the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Close implements metadata.Store. It waits for calls in progress, then
// closes the database; calls after it, Close included, return
// metadata.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("sqlitestore: close: %w", metadata.ErrClosed)
	}
	s.closed = true
	if s.cache != nil {
		s.cache.close()
	}
	for _, st := range []*sql.Stmt{s.getStmt, s.insRecord, s.insLabel, s.insJob, s.insName, s.insGram, s.getUpload, s.updUpload} {
		st.Close()
	}
	errR := s.r.Close()
	errW := s.w.Close()
	if errR != nil {
		return fmt.Errorf("sqlitestore: close: %w", errR)
	}
	if errW != nil {
		return fmt.Errorf("sqlitestore: close: %w", errW)
	}
	return nil
}

// acquire holds s open for the length of one call: it returns a func that
// releases it, or an error wrapping metadata.ErrClosed. The call defers
// release with its error result, which release classifies (see classify):
// every exported call reports a full disk or a lock held too long alike.
func (s *Store) acquire(op string) (release func(*error), err error) {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, fmt.Errorf("sqlitestore: %s: %w", op, metadata.ErrClosed)
	}
	return func(err *error) {
		s.mu.RUnlock()
		*err = classify(*err)
	}, nil
}

// prepare prepares the statements of the hot paths once.
func (s *Store) prepare(ctx context.Context) error {
	var err error
	for _, p := range []struct {
		db    *sql.DB
		query string
		stmt  **sql.Stmt
	}{
		{s.r, getRecord, &s.getStmt},
		{s.w, insertRecord, &s.insRecord},
		{s.w, insertLabel, &s.insLabel},
		{s.w, insertJob, &s.insJob},
		{s.w, insertName, &s.insName},
		{s.w, insertGram, &s.insGram},
		{s.r, getUploadQuery, &s.getUpload},
		{s.w, updateUpload, &s.updUpload},
	} {
		if *p.stmt, err = p.db.PrepareContext(ctx, p.query); err != nil {
			return err
		}
	}
	return nil
}
