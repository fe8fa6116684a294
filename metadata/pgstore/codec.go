package pgstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/attachkit/attachment/metadata"
)

// recordColumns are the columns scanRecord reads, in its order, qualified
// with the alias a.
const recordColumns = "a.id, a.tenant, a.filename, a.content_type, a.size, a.sha256, a.owner, a.labels, a.refs, " +
	"a.created_by, a.width, a.height, a.created_at, a.updated_at"

// processingColumn is the job states of the record a.id as a JSON object
// (NULL when it has no jobs): a primary key lookup in attachment_jobs.
const processingColumn = `(SELECT jsonb_object_agg(j.processor, j.state) FROM attachment_jobs j WHERE j.attachment_id = a.id)`

// scanRecord reads one row of recordColumns followed by processingColumn.
func scanRecord(row pgx.Row) (*metadata.Record, error) {
	var (
		r                        metadata.Record
		labels, refs, processing []byte
		width, height            int64
		created, updated         time.Time
	)
	err := row.Scan(&r.ID, &r.Tenant, &r.Filename, &r.ContentType, &r.Size, &r.SHA256, &r.Owner,
		&labels, &refs, &r.CreatedBy, &width, &height, &created, &updated, &processing)
	if err != nil {
		return nil, err
	}
	r.Width, r.Height = int(width), int(height)
	r.CreatedAt, r.UpdatedAt = created.UTC(), updated.UTC()
	if err := unmarshalJSON(labels, &r.Labels); err != nil {
		return nil, fmt.Errorf("record %s: labels: %w", r.ID, err)
	}
	if len(r.Labels) == 0 {
		r.Labels = nil
	}
	if err := unmarshalJSON(refs, &r.Refs); err != nil {
		return nil, fmt.Errorf("record %s: refs: %w", r.ID, err)
	}
	if len(r.Refs) == 0 {
		r.Refs = nil
	}
	if err := unmarshalJSON(processing, &r.Processing); err != nil {
		return nil, fmt.Errorf("record %s: processing: %w", r.ID, err)
	}
	if len(r.Processing) == 0 {
		r.Processing = nil
	}
	return &r, nil
}

// unmarshalJSON decodes a jsonb column into v, leaving v alone when the
// column is NULL.
func unmarshalJSON(b []byte, v any) error {
	if b == nil {
		return nil
	}
	return json.Unmarshal(b, v)
}

// normTime is t as the database keeps it: in UTC, truncated to the
// microsecond (as time.UnixMicro). Every time is passed to the database
// normalized, so that what is stored does not depend on how pgx encodes
// the parameter (in binary it truncates, in text the server would round).
func normTime(t time.Time) time.Time { return time.UnixMicro(t.UnixMicro()).UTC() }

// labelsJSON is the stored form of labels: a JSON object, or NULL when
// there are none.
func labelsJSON(labels map[string]string) (*string, error) {
	if len(labels) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(labels)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}

// refsJSON is the stored form of refs: a JSON array, or NULL when there are
// none.
func refsJSON(refs []string) (*string, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(refs)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}

// lower is the filename_lower of a filename, and the search key of a
// FilenameContains: the contract defines the match with strings.ToLower,
// which the server's lower() (by the database's locale) need not equal.
func lower(s string) string { return strings.ToLower(s) }

// isUniqueViolation reports whether err is the failure of a PRIMARY KEY or
// UNIQUE constraint, or of an exclusion constraint (attachments_id_key),
// and returns the server's detail (which names the key and the value that
// the caller gave).
func isUniqueViolation(err error) (string, bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "23505" || pe.Code == "23P01") {
		return pe.Detail, true
	}
	return "", false
}
