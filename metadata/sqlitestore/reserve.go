package sqlitestore

import (
	"bytes"
	"errors"
	"os"
	"sync"
)

// DefaultReserveBytes is the size of the reserve file when
// Options.ReserveBytes is zero.
const DefaultReserveBytes = 1 << 20

// NoReserve, given as Options.ReserveBytes, keeps no reserve file.
const NoReserve = -1

// reserve is disk space the store holds, in a file beside the database
// (its path with "-reserve" appended), so that a Delete can still be
// written when the disk is full: Delete writes to the write-ahead log
// like any change, and on a full disk that fails with SQLITE_FULL. Delete
// then removes the file and tries once more in the space it freed. Once
// a later write succeeds, which shows there is room again, the store
// takes the space back.
//
// The space freed goes to whoever writes first: another process filling
// the same disk may take it before the retry. The reserve keeps deletes
// possible when the disk fills up by the store's own uploads; it cannot
// win a race with a runaway writer.
type reserve struct {
	path string
	size int64 // 0: no reserve

	mu   sync.Mutex
	held bool
}

// take makes the reserve file, unless it is held: it writes size bytes
// (written blocks are allocated blocks on every file system, which a
// sparse file or a truncate would not be). Where that does not fit, it
// leaves no file and the reserve is not held; a later take tries again.
func (r *reserve) take() {
	if r.size <= 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.held {
		return
	}
	if fi, err := os.Stat(r.path); err == nil && fi.Size() >= r.size {
		r.held = true // from an earlier Open
		return
	}
	r.held = writeZeros(r.path, r.size) == nil
	if !r.held {
		_ = os.Remove(r.path)
	}
}

// free removes the reserve file and reports whether there was one to
// free.
func (r *reserve) free() bool {
	if r.size <= 0 {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.held {
		return false
	}
	r.held = false
	err := os.Remove(r.path)
	return err == nil || errors.Is(err, os.ErrNotExist)
}

// writeZeros writes a file of n zero bytes at path and syncs it.
func writeZeros(path string, n int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	buf := bytes.Repeat([]byte{0}, 64<<10)
	for n > 0 && err == nil {
		k := min(n, int64(len(buf)))
		_, err = f.Write(buf[:k])
		n -= k
	}
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}
