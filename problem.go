package attachment

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/attachkit/attachment/internal/mpart"
	"github.com/attachkit/attachment/wire"
)

// retryAfter is the Retry-After of a 503 unavailable answer, in seconds:
// a small fixed wait, long enough for a connection pool to reconnect or a
// bucket to recover from a short outage, short enough that a client does
// not wait much longer than the outage.
const retryAfter = "5"

// badRequest returns an error answered with 400 bad_request and detail.
func badRequest(detail string) error { return &Error{Kind: ErrInvalid, Detail: detail} }

// writeError answers err as a problem, with the status and code package
// wire's table gives the first sentinel it wraps. Client errors carry the detail of
// an *Error; everything else is a 500 whose detail stays in the log.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, errStalled):
		w.Header().Set("Connection", "close")
		h.problem(w, r, http.StatusRequestTimeout, wire.CodeBadRequest,
			"the request body stalled: no data for "+h.opts.UploadIdleTimeout.String())
		return
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
		var (
			e  *Error
			oe *OffsetError
			le *LockedError
		)
		switch {
		case errors.As(err, &e):
			detail = e.Detail
		case errors.As(err, &oe): // names the offset to go on from
			detail = oe.Error()
		case errors.As(err, &le):
			detail = le.Error()
		}
		if k.Status >= 500 && e == nil {
			// An outage or a full store: the cause is the operator's
			// business, and stays in the log. (An *Error, such as busy
			// decoders, carries a detail written for the client.)
			h.log.WarnContext(r.Context(), "attachment: "+k.Code, "method", r.Method, "path", r.URL.Path, "err", err)
			detail = outageDetail(k.Code)
		}
		if k.Status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
			// The route may have set a wait of its own (a busy decoder).
			w.Header().Set("Retry-After", retryAfter)
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

// outageDetail is the detail sent with a 5xx code that has a sentinel.
func outageDetail(code string) string {
	if code == wire.CodeInsufficientStorage {
		return "the server's storage is full; deleting attachments frees space"
	}
	return "the server's storage is unavailable; retry later"
}

// problem writes a problem details answer, or hands it to the view's
// ProblemWriter.
func (h *Handler) problem(w http.ResponseWriter, r *http.Request, status int, code, detail string) {
	hdr := w.Header()
	for _, k := range []string{"Content-Disposition", "Content-Encoding", "Content-Length", "ETag", "Last-Modified", "Content-Range", "Accept-Ranges"} {
		if k == "Content-Range" && status == http.StatusRequestedRangeNotSatisfiable {
			continue // "bytes */size", which a 416 should carry
		}
		hdr.Del(k)
	}
	p := &Problem{
		Type:   "about:blank",
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Code:   code,
	}
	if h.writeProblem != nil {
		h.writeProblem(w, r, p)
		return
	}
	writeJSON(w, r, status, "application/problem+json", p)
}

// writeJSON writes v as JSON with the status, under nosniff and a sandbox
// CSP like every answer with a body. HEAD requests get the headers alone.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, contentType string, v any) {
	if err := tryWriteJSON(w, r, status, contentType, v); err != nil {
		// Only our own types are encoded here; this cannot fail.
		panic(err)
	}
}

// tryWriteJSON is writeJSON, returning an error, with nothing written,
// when v cannot be encoded.
func tryWriteJSON(w http.ResponseWriter, r *http.Request, status int, contentType string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
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
	return nil
}
