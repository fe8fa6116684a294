package sqlitestore

import (
	"errors"
	"fmt"
	"syscall"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/attachkit/attachment/metadata"
)

// classify wraps an error of SQLite with metadata.ErrInsufficientStorage
// when the disk (or max_page_count) is full, and with
// metadata.ErrUnavailable when the database stayed locked by another
// connection past the busy timeout. Every other error is returned as it
// is.
func classify(err error) error {
	if err == nil || errors.Is(err, metadata.ErrUnavailable) || errors.Is(err, metadata.ErrInsufficientStorage) {
		return err
	}
	if kind := outage(err); kind != nil {
		return fmt.Errorf("%w: %w", kind, err)
	}
	return err
}

// outage returns the sentinel for an error that is a full disk or a lock
// held too long, or nil.
func outage(err error) error {
	if isFull(err) {
		return metadata.ErrInsufficientStorage
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff { // the primary result code
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return metadata.ErrUnavailable
		}
	}
	return nil
}

// isFull reports whether err says that the disk is full: SQLITE_FULL
// (which SQLite reports for a write that fails with ENOSPC, and for a
// database at its max_page_count), or ENOSPC or EDQUOT from the file
// system.
func isFull(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL {
		return true
	}
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
