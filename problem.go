package attachment

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/attachkit/attachment/internal/mpart"
	"github.com/attachkit/attachment/wire"
)

// badRequest returns an error answered with 400 bad_request and detail.
func badRequest(detail string) error { return &Error{Kind: ErrInvalid, Detail: detail} }

// writeError answers err as a problem, with the status and code package
// wire's table gives the first sentinel it wraps. Client errors carry the detail of
// an *Error; everything else is a 500 whose detail stays in the log.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		h.problem(w, r, http.StatusRequestEntityTooLarge, wire.CodeTooLarge, "the request body is too large")
		return
	case errors.Is(err, mpart.ErrHeaderTooLarge):
		h.problem(w, r, http.StatusBadRequest, wire.CodeBadRequest, "a multipart part's header is too large")
		return
	case errors.Is(err, errBodyRead):
		h.problem(w, r, http.StatusBadRequest, wire.CodeBadRequest, "the request body could not be read")
		return
	}
	if k, ok := wire.KindOfError(err); ok {
		detail := http.StatusText(k.Status)
		var e *Error
		if errors.As(err, &e) {
			detail = e.Detail
		}
		h.problem(w, r, k.Status, k.Code, detail)
		return
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client is gone; nobody reads this answer.
		h.problem(w, r, http.StatusBadRequest, wire.CodeBadRequest, "request canceled")
		return
	}
	h.log.ErrorContext(r.Context(), "attachment: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	h.problem(w, r, http.StatusInternalServerError, wire.CodeInternal, "internal error")
}

// problem writes a problem details answer.
func (h *Handler) problem(w http.ResponseWriter, r *http.Request, status int, code, detail string) {
	hdr := w.Header()
	for _, k := range []string{"Content-Disposition", "Content-Encoding", "Content-Length", "ETag", "Last-Modified", "Content-Range", "Accept-Ranges"} {
		if k == "Content-Range" && status == http.StatusRequestedRangeNotSatisfiable {
			continue // "bytes */size", which a 416 should carry
		}
		hdr.Del(k)
	}
	writeJSON(w, r, status, "application/problem+json", Problem{
		Type:   "about:blank",
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Code:   code,
	})
}

// writeJSON writes v as JSON with the status, under nosniff and a sandbox
// CSP like every answer with a body. HEAD requests get the headers alone.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, contentType string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only our own types are encoded here; this cannot fail.
		panic(err)
	}
	body = append(body, '\n')
	hdr := w.Header()
	hdr.Set("Content-Type", contentType)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", "sandbox")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
