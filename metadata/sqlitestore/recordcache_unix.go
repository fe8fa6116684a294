//go:build unix

package sqlitestore

import (
	"os"
	"syscall"
)

const canTellShmReplaced = true

// shmReplaced reports whether f, the -shm file the cache reads, is no
// longer the database's: SQLite unlinks the file when the last connection
// to the database closes, and the next connection makes a new one, which
// an open f would never show. A file that cannot be checked counts as
// replaced.
func shmReplaced(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil {
		return true
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || st.Nlink == 0
}
