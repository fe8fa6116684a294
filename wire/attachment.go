package wire

import "time"

// Attachment is an attachment's record, as the API returns it. See the
// HTTP API document for each field.
type Attachment struct {
	ID          string            `json:"id"`
	Filename    string            `json:"filename"`
	ContentType string            `json:"content_type"`
	Size        int64             `json:"size"`
	SHA256      string            `json:"sha256"`
	Owner       string            `json:"owner,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Refs        []string          `json:"refs,omitempty"`
	CreatedBy   string            `json:"created_by,omitempty"`
	// Width and Height are an image's dimensions as displayed (EXIF
	// orientation applied), once the analyze processor has run.
	Width  int `json:"width,omitempty"`
	Height int `json:"height,omitempty"`
	// State is "ready" (StateReady) once the content is stored, which it
	// is for every attachment the API returns. Processing never holds it
	// back.
	State string `json:"state"`
	// Processing maps each processor that has work for the attachment to
	// its job's state: JobPending, JobProcessing, JobCompleted, JobFailed
	// or JobCanceled.
	Processing map[string]string `json:"processing,omitempty"`
	// URL and ThumbnailURL are set by the server's Handler (they include
	// its mount prefix, and are path-absolute); the Service leaves them
	// empty.
	URL          string    `json:"url,omitempty"`
	ThumbnailURL string    `json:"thumbnail_url,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// Tenant is the tenant the attachment belongs to. It is never sent to
	// clients, so a client always sees it empty.
	Tenant string `json:"-"`
}

// StateReady is the State of an attachment whose content is stored.
const StateReady = "ready"

// Change describes an update to an attachment. Nil fields stay as they are.
type Change struct {
	// Filename, when non-nil, renames the attachment; it is cleaned as an
	// uploaded filename is.
	Filename *string
	// Owner, when non-nil, replaces the owner ("" clears it).
	Owner *string
	// Labels, when non-nil, replaces every label; an empty non-nil map
	// removes them all.
	Labels map[string]string
}

// DeleteOptions tunes a delete. The zero value (or nil) deletes only
// attachments that have no references.
type DeleteOptions struct {
	// Force deletes the attachment even when it is referenced.
	Force bool
}
