package sqlitestore

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/attachkit/attachment/metadata"
)

// recordColumns are the columns scanRecord reads, in its order.
const recordColumns = "id, tenant, filename, content_type, size, sha256, owner, labels, refs, created_by, width, height, created_at, updated_at"

// recordColumnsOf is recordColumns qualified with a table alias.
func recordColumnsOf(alias string) string {
	cols := strings.Split(recordColumns, ", ")
	for i, c := range cols {
		cols[i] = alias + "." + c
	}
	return strings.Join(cols, ", ")
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// scanRecord reads one row of recordColumns. Processing is left nil: it
// is read from the jobs table (see processing.go).
func scanRecord(sc scanner) (*metadata.Record, error) {
	var (
		r              metadata.Record
		labels, refs   sql.NullString
		created, updat int64
	)
	err := sc.Scan(&r.ID, &r.Tenant, &r.Filename, &r.ContentType, &r.Size, &r.SHA256, &r.Owner,
		&labels, &refs, &r.CreatedBy, &r.Width, &r.Height, &created, &updat)
	if err != nil {
		return nil, err
	}
	if labels.Valid {
		if err := json.Unmarshal([]byte(labels.String), &r.Labels); err != nil {
			return nil, fmt.Errorf("record %s: labels: %w", r.ID, err)
		}
		if len(r.Labels) == 0 {
			r.Labels = nil
		}
	}
	if refs.Valid {
		if err := json.Unmarshal([]byte(refs.String), &r.Refs); err != nil {
			return nil, fmt.Errorf("record %s: refs: %w", r.ID, err)
		}
		if len(r.Refs) == 0 {
			r.Refs = nil
		}
	}
	r.CreatedAt = fromMicros(created)
	r.UpdatedAt = fromMicros(updat)
	return &r, nil
}

// toMicros and fromMicros convert times to and from the stored form, unix
// microseconds. Every time.Time from year 1 (the zero Time) to past 290000
// fits.
func toMicros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// normTime is t as it comes back from the database.
func normTime(t time.Time) time.Time { return fromMicros(toMicros(t)) }

// labelsJSON is the stored form of labels: a JSON object, or NULL when
// there are none.
func labelsJSON(labels map[string]string) (any, error) {
	if len(labels) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(labels)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// refsJSON is the stored form of refs: a JSON array, or NULL when there are
// none.
func refsJSON(refs []string) (any, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(refs)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// lower is the filename_lower of a filename, and the search key of a
// FilenameContains: the contract defines the match with strings.ToLower,
// which SQLite's lower() (ASCII only) does not equal.
func lower(s string) string { return strings.ToLower(s) }

// isUniqueViolation reports whether err is a PRIMARY KEY or UNIQUE
// constraint failure.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return true
	}
	return false
}
