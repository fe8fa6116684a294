package documents

import (
	"cmp"
	"net/http"
	"net/url"
	"time"

	"github.com/attachkit/attachment"
)

// Label and owner names of the native record (docs/dialects.md).
const (
	labelDocument  = "documentId"
	labelWorkspace = "workspaceId"
	ownerPrefix    = "document:"
)

// item is an AttachmentResponse of the document.
type item struct {
	ID         string  `json:"id"`
	DocumentID *string `json:"documentId"`
	FileName   string  `json:"fileName"`
	FileSize   int64   `json:"fileSize"`
	MimeType   string  `json:"mimeType"`
	URL        string  `json:"url"`
	Width      *int    `json:"width"`
	Height     *int    `json:"height"`
	CreatedAt  string  `json:"createdAt"`
}

// newItem is a as the dialect shows it; base is the mount point. Width and
// height are null but for images whose dimensions are known, documentId
// is null for an attachment without the label (a native upload).
func newItem(base string, a *attachment.Attachment) item {
	it := item{
		ID:        a.ID,
		FileName:  a.Filename,
		FileSize:  a.Size,
		MimeType:  a.ContentType,
		URL:       fileURL(base, a.ID),
		CreatedAt: a.CreatedAt.UTC().Format(time.RFC3339),
	}
	if v, ok := a.Labels[labelDocument]; ok {
		it.DocumentID = &v
	}
	if a.Width > 0 && a.Height > 0 {
		w, h := a.Width, a.Height
		it.Width, it.Height = &w, &h
	}
	return it
}

// fileURL is the URL of the content of the attachment with the ID: its key
// is the ID.
func fileURL(base, id string) string {
	return base + "/file?url=" + url.QueryEscape(id)
}

// envelope is the document's ApiResponse.
type envelope struct {
	Success bool `json:"success"`
	Data    any  `json:"data,omitempty"`
}

// errorBody is the answer to every error.
type errorBody struct {
	Success bool        `json:"success"`
	Error   errorDetail `json:"error"`
}

type errorDetail struct {
	// Code is the native API's problem code (not_found, bad_request, ...).
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeProblem is the dialect's attachment.ProblemWriter.
func writeProblem(w http.ResponseWriter, r *http.Request, p *attachment.Problem) {
	writeJSON(w, r, p.Status, errorBody{Error: errorDetail{
		Code:    p.Code,
		Message: cmp.Or(p.Detail, http.StatusText(p.Status)),
	}})
}

// writeJSON answers v as JSON with the status; a HEAD request gets the
// headers alone.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	if err := attachment.WriteJSON(w, r, status, v); err != nil {
		// The dialect's own types always encode; should one not, the
		// client gets a 500 in the same shape.
		writeProblem(w, r, &attachment.Problem{Status: http.StatusInternalServerError, Code: "internal", Detail: "internal error"})
	}
}
