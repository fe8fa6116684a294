//go:build !unix

package sqlitestore

import "os"

// canTellShmReplaced is false here: without a link count, a -shm file
// that SQLite unlinked and made anew could not be told from the one the
// cache opened, so Get has no cache.
const canTellShmReplaced = false

func shmReplaced(*os.File) bool { return true }
