package sqlitestore

import (
	"bytes"
	"os"
	"sync"
	"sync/atomic"

	"github.com/attachkit/attachment/metadata"
)

// recordCache keeps the records Get read, for as long as the database is
// unchanged, so that a download of the same attachment again costs no
// query (a Get is ~17 µs of CPU; a hit is a read of 96 bytes and a copy).
//
// Whether the database is unchanged it learns as SQLite's own connections
// do before they trust their page caches: from the header of the WAL
// index, the "-shm" file that every connection to a WAL database, in any
// process, maps and shares (https://www.sqlite.org/walformat.html). A
// commit, by any connection of any process, increments the header's
// change counter and rewrites its checksum, and so does a checkpoint that
// restarts the WAL. The header is stored twice, and a commit writes the
// second copy before the first: two equal copies are a header no commit
// is writing. The format is shared by every SQLite version that opens the
// file at the same time, so it does not change under a running program.
//
// The cache holds records read under one header. Get reads the header
// before it looks: a different header empties the cache; a record it then
// queries is kept only if the header it read before the query is still
// the cache's, so a record is never served once a commit has followed
// the header it was read under. What Get reads inside the query is never
// older than that header: a read transaction that starts after a commit's
// header is visible sees the commit.
type recordCache struct {
	path string // of the -shm file

	mu      sync.Mutex
	shm     *os.File
	version [walHeaderBytes]byte // the header the entries were read under
	entries map[cacheKey]*metadata.Record

	hits atomic.Int64 // Gets answered from the cache (for tests)
}

type cacheKey struct{ tenant, id string }

const (
	// walHeaderBytes is the size of one copy of the WAL-index header.
	walHeaderBytes = 48
	// maxCachedRecords bounds the cache; when full it is emptied.
	maxCachedRecords = 4096
)

// newRecordCache returns the cache of the database at path, or nil where
// it cannot work: no -shm file to read (not in WAL mode), or a system
// where a replaced -shm file cannot be told (see shmReplaced).
func newRecordCache(path string) *recordCache {
	if !canTellShmReplaced {
		return nil
	}
	f, err := os.Open(path + "-shm")
	if err != nil {
		return nil
	}
	return &recordCache{path: path + "-shm", shm: f, entries: map[cacheKey]*metadata.Record{}}
}

// header reads the WAL-index header. ok is false when it cannot be
// trusted: unreadable, its copies differing (a commit is writing it), not
// initialised, or the -shm file replaced and not reopened.
func (c *recordCache) header() (h [walHeaderBytes]byte, ok bool) {
	c.mu.Lock()
	f := c.shm
	c.mu.Unlock()
	if f != nil && shmReplaced(f) {
		f = c.reopen(f)
	}
	if f == nil {
		return h, false
	}
	var both [2 * walHeaderBytes]byte
	if n, _ := f.ReadAt(both[:], 0); n != len(both) {
		return h, false
	}
	first, second := both[:walHeaderBytes], both[walHeaderBytes:]
	const isInit = 12 // offset of the header's isInit byte
	if !bytes.Equal(first, second) || first[isInit] != 1 {
		return h, false
	}
	copy(h[:], first)
	return h, true
}

// reopen replaces old, which SQLite has unlinked (every connection to the
// database closed, in every process, while this one was not looking), by
// the -shm file now at the path, and empties the cache. It returns the
// file to read, or nil if there is none.
func (c *recordCache) reopen(old *os.File) *os.File {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shm != old {
		return c.shm // another call reopened it, or close closed it
	}
	_ = old.Close()
	clear(c.entries)
	c.shm = nil
	if f, err := os.Open(c.path); err == nil {
		c.shm = f
	}
	return c.shm
}

// get returns a copy of the record of tenant and id if the cache holds it
// under header h; a cache under another header is emptied first.
func (c *recordCache) get(h [walHeaderBytes]byte, tenant, id string) *metadata.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h != c.version {
		clear(c.entries)
		c.version = h
		return nil
	}
	if r := c.entries[cacheKey{tenant, id}]; r != nil {
		c.hits.Add(1)
		return r.Clone()
	}
	return nil
}

// put keeps a copy of r, read after header h was, if h is still the
// cache's.
func (c *recordCache) put(h [walHeaderBytes]byte, r *metadata.Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h != c.version {
		return
	}
	if len(c.entries) >= maxCachedRecords {
		clear(c.entries)
	}
	c.entries[cacheKey{r.Tenant, r.ID}] = r.Clone()
}

// close closes the -shm file and empties the cache.
func (c *recordCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shm != nil {
		_ = c.shm.Close()
		c.shm = nil
	}
	clear(c.entries)
}
