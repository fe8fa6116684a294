package attachment

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/attachkit/attachment/internal/mpart"
	"github.com/attachkit/attachment/metadata"
)

// The stable, machine-readable problem codes of the API.
const (
	codeBadRequest       = "bad_request"
	codeNotFound         = "not_found"
	codeTooLarge         = "too_large"
	codeTooManyFiles     = "too_many_files"
	codeUnsupportedType  = "unsupported_type"
	codeChecksumMismatch = "checksum_mismatch"
	codeInvalidFilename  = "invalid_filename"
	codeInvalidSize      = "invalid_size"
	codeReferenced       = "referenced"
	codeUnauthorized     = "unauthorized"
	codeForbidden        = "forbidden"
	codeConflict         = "conflict"
	codeInternal         = "internal"
)

// Problem is an RFC 9457 problem details object, as the API sends it with
// Content-Type application/problem+json.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Code is stable and machine-readable; see docs/api.md for the list.
	Code string `json:"code"`
}

// errorKinds maps the Service's sentinel errors to status and code. It is
// the one place where errors become HTTP.
var errorKinds = []struct {
	err    error
	status int
	code   string
}{
	{ErrNotFound, http.StatusNotFound, codeNotFound},
	{ErrTooLarge, http.StatusRequestEntityTooLarge, codeTooLarge},
	{ErrTooManyFiles, http.StatusBadRequest, codeTooManyFiles},
	{ErrUnsupportedType, http.StatusUnsupportedMediaType, codeUnsupportedType},
	{ErrChecksumMismatch, http.StatusBadRequest, codeChecksumMismatch},
	{ErrInvalidFilename, http.StatusBadRequest, codeInvalidFilename},
	{ErrInvalidSize, http.StatusBadRequest, codeInvalidSize},
	{ErrReferenced, http.StatusConflict, codeReferenced},
	{metadata.ErrExists, http.StatusConflict, codeConflict},
	{ErrUnauthorized, http.StatusUnauthorized, codeUnauthorized},
	{ErrForbidden, http.StatusForbidden, codeForbidden},
	{ErrInvalid, http.StatusBadRequest, codeBadRequest},
	{errBadRequest, http.StatusBadRequest, codeBadRequest},
}

// errBadRequest marks handler-made errors about a malformed request.
var errBadRequest = errors.New("bad request")

// badRequest returns an error answered with 400 bad_request and detail.
func badRequest(detail string) error { return &Error{Kind: errBadRequest, Detail: detail} }

// writeError answers err as a problem. Client errors carry the detail of
// an *Error; everything else is a 500 whose detail stays in the log.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		h.problem(w, r, http.StatusRequestEntityTooLarge, codeTooLarge, "the request body is too large")
		return
	case errors.Is(err, mpart.ErrHeaderTooLarge):
		h.problem(w, r, http.StatusBadRequest, codeBadRequest, "a multipart part's header is too large")
		return
	case errors.Is(err, errBodyRead):
		h.problem(w, r, http.StatusBadRequest, codeBadRequest, "the request body could not be read")
		return
	}
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			detail := http.StatusText(k.status)
			var e *Error
			if errors.As(err, &e) {
				detail = e.Detail
			}
			h.problem(w, r, k.status, k.code, detail)
			return
		}
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client is gone; nobody reads this answer.
		h.problem(w, r, http.StatusBadRequest, codeBadRequest, "request canceled")
		return
	}
	h.log.ErrorContext(r.Context(), "attachment: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	h.problem(w, r, http.StatusInternalServerError, codeInternal, "internal error")
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
