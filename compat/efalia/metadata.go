package efalia

import (
	"errors"
	"net/http"

	"github.com/attachkit/attachment"
)

// DateLayout is how AttachmentMetadata.Date is written: an RFC 3339
// date-time in UTC with milliseconds, as the document's schema
// (format: date-time) asks and with the precision of its example.
const DateLayout = "2006-01-02T15:04:05.000Z07:00"

// AttachmentMetadata is the Efalia API's record of an attachment, the
// answer of an upload and of GET /{uuid}/metadata.
type AttachmentMetadata struct {
	// Date is when the attachment was uploaded (DateLayout).
	Date string `json:"date"`
	// Actor is who uploaded it; null when the upload named nobody.
	Actor *WorkeyObject `json:"actor"`
	// FileName is the attachment's (cleaned) filename.
	FileName string `json:"fileName"`
	// Size is the content's length in bytes.
	Size int64 `json:"size"`
	// ID is the attachment's ID in canonical UUID form.
	ID string `json:"id"`
	// Type is the content's media type, as detected on upload.
	Type string `json:"type"`
	// URL is the path-absolute URL of the content (GET /{uuid}), under
	// the prefix the request came through.
	URL string `json:"url"`
	// Thumbnail tells whether GET /{uuid}/thumbnail serves a thumbnail:
	// thumbnails are made on demand, so this is whether one can be.
	Thumbnail bool `json:"thumbnail"`
}

// WorkeyObject is the Efalia API's reference to a Workey object: here, the
// actor who uploaded an attachment. Only Name is known to this server (the
// access hook's Caller.Name, recorded as the attachment's CreatedBy); the
// numeric ID, label and description are null.
type WorkeyObject struct {
	// ID is the object's numeric Workey ID; always null here.
	ID *int64 `json:"id"`
	// Name is the object's name.
	Name string `json:"name"`
	// Label is the object's display label; always null here.
	Label *string `json:"label"`
	// Description is the object's description; always null here.
	Description *string `json:"description"`
}

// Metadata returns the AttachmentMetadata of a, as svc (the caller's view
// of the Service) sees it, with its URL under base, the path the routes
// are mounted at.
func Metadata(svc *attachment.Service, a *attachment.Attachment, base string) *AttachmentMetadata {
	m := &AttachmentMetadata{
		Date:      a.CreatedAt.UTC().Format(DateLayout),
		FileName:  a.Filename,
		Size:      a.Size,
		ID:        a.ID,
		Type:      a.ContentType,
		URL:       base + "/" + a.ID,
		Thumbnail: svc.Thumbnailable(a),
	}
	if a.CreatedBy != "" {
		m.Actor = &WorkeyObject{Name: a.CreatedBy}
	}
	return m
}

// metadata serves GET /{uuid}/metadata.
func (h *Handler) metadata(w http.ResponseWriter, r *http.Request, base, raw string) {
	_, svc, a, err := h.h.Authorize(r, attachment.OpRead, CanonicalID(raw))
	if errors.Is(err, attachment.ErrNotFound) {
		err = &attachment.Error{Kind: attachment.ErrNotFound, Detail: `Cannot get metadata for attachment "` + quoteID(raw) + `"`}
	}
	if err != nil {
		h.h.WriteError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, Metadata(svc, a, base))
}

// quoteID bounds an ID from the path for a message.
func quoteID(raw string) string {
	const max = 64
	if len(raw) > max {
		return raw[:max] + "..."
	}
	return raw
}
