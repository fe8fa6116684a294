package attachment

import (
	"net/http"

	"github.com/attachkit/attachment/internal/filename"
)

// This file holds what the Handler exports for layers: handlers of other
// wire formats over the same Service (the seed dialects in compat/, a
// host's own API shape). A layer routes its own requests and, for each,
// uses Authorize for the access flow, ReadUpload or ReadBody for the body,
// ServeContent for content and WriteError for failures, through a view of
// the Handler whose error answers are written in its own format
// (WithProblemWriter).

// ProblemWriter writes an error answer in a layer's own format. p is the
// answer the Handler would give as problem+json: its Status, stable Code
// and a Detail written for the client (never the server's internal
// detail). When it is called, the headers that the answer needs are set
// (Retry-After on a 503, Connection: close after a stalled body,
// Content-Range on a 416) and those that described content are removed. It
// must write the status and, but for a HEAD request, a body.
type ProblemWriter func(w http.ResponseWriter, r *http.Request, p *Problem)

// WithProblemWriter returns a view of h that writes every error answer
// with pw instead of as problem+json: from WriteError, from the exported
// operations (Download, Metadata, ...) and from ServeContent's range and
// precondition checks alike. The view shares h's Service, options, access
// hook and limits (MaxStatusWaits counts across both); h is unchanged. A
// nil pw gives problem+json again.
func (h *Handler) WithProblemWriter(pw ProblemWriter) *Handler {
	v := *h
	v.writeProblem = pw
	return &v
}

// WriteError answers err as the Handler answers it on its own routes:
// with the status and code of the first sentinel err wraps (see
// wire.Kinds), the detail of an *Error, 408 bad_request for a body that
// stalled (ReadUpload, ReadBody), 413 too_large for a body over a
// limit, and 500 internal, with the error logged and not sent, for anything
// else. It writes through the view's ProblemWriter when there is one.
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	h.writeError(w, r, err)
}

// WriteJSON answers v as JSON with the status, with the headers the
// Handler puts on its own JSON answers: Content-Type application/json,
// X-Content-Type-Options nosniff, a sandbox Content-Security-Policy and
// Cache-Control no-store. A HEAD request gets the headers alone. When v
// cannot be encoded it returns the error and writes nothing.
func WriteJSON(w http.ResponseWriter, r *http.Request, status int, v any) error {
	return tryWriteJSON(w, r, status, "application/json", v)
}

// ServeOptions are the choices of ServeContent. The zero value (or nil)
// serves the content as an attachment under its own filename.
type ServeOptions struct {
	// Inline asks for Content-Disposition: inline. It is granted only for
	// types a browser displays without running code (images but SVG, PDF,
	// plain text, audio and video); anything else (HTML, SVG, XML, ...) is
	// served as an attachment all the same.
	Inline bool
}

// ServeContent serves the content of a, an attachment the caller has been
// allowed to read (see Authorize), as Download does: with Range requests
// (at most HandlerOptions.MaxRanges ranges), conditional requests against
// a strong ETag from its SHA-256 (304, 412), its stored Content-Type under
// nosniff and a sandbox CSP, and a Content-Disposition naming the file. A
// HEAD request gets the headers alone. Errors (the content cannot be
// opened, a range cannot be satisfied) are answered through WriteError.
func (h *Handler) ServeContent(w http.ResponseWriter, r *http.Request, a *Attachment, o *ServeOptions) {
	obj, err := h.svc.core.openContent(r.Context(), a)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	defer obj.Close()
	disp := "attachment"
	if o != nil && o.Inline && inlineAllowed(a.ContentType) {
		disp = "inline"
	}
	setHeaders(w.Header(),
		"Content-Type", a.ContentType,
		"Etag", `"`+a.SHA256+`"`,
		"X-Content-Type-Options", "nosniff",
		"Content-Security-Policy", "sandbox",
		// A document shown inline (a PDF with links) must not hand its
		// URL, which may be a signed one, to the sites it links to.
		"Referrer-Policy", "no-referrer",
		"Content-Disposition", filename.ContentDisposition(disp, a.Filename),
		"Cache-Control", "private, no-cache")
	h.serveContent(w, r, a.CreatedAt, obj.Size(), obj)
}

// ContentDisposition formats a Content-Disposition header value of the
// disposition ("attachment" or "inline") naming the file: a plain
// filename parameter where the name is printable ASCII, and an RFC 8187
// filename* (UTF-8) beside an ASCII fallback where it is not.
func ContentDisposition(disposition, name string) string {
	return filename.ContentDisposition(disposition, name)
}

// FilenameFromContentDisposition returns the filename a Content-Disposition
// header value names (filename* preferred, in UTF-8 or ISO-8859-1), not
// cleaned; "" when it names none. A malformed value is an error.
func FilenameFromContentDisposition(v string) (string, error) {
	return filename.FromContentDisposition(v)
}
