package attachment

import (
	"errors"
	"net/http"
	"strconv"
)

// Thumbnail handles GET and HEAD /{id}/thumbnail?size=N: a JPEG (opaque
// images) or PNG (transparent ones) whose longest side is at most N (one
// of Options.Thumbnails.Sizes; default Options.Thumbnails.DefaultSize), made
// once and then served from the store with a weak ETag and conditional
// requests. 204 No Content when no thumbnail can be made; 400
// invalid_size for a size not allowed; 503 unavailable, with a
// Retry-After header, when one not made yet finds every decoder
// (Options.Thumbnails.Workers) busy for 10 seconds.
func (h *Handler) Thumbnail(w http.ResponseWriter, r *http.Request, id string) {
	size := 0
	if v := r.URL.Query().Get("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			h.writeError(w, r, inputErr(ErrInvalidSize, "size must be one of %v", h.svc.core.opts.Thumbnails.Sizes))
			return
		}
		size = n
	}
	_, svc, a, err := h.authorize(r, OpThumbnail, id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	// The record authorize read is the one to serve: no second read.
	var th *Thumbnail
	if size, err = svc.core.thumbSize(size); err == nil {
		th, err = svc.thumbnailOf(r.Context(), a, size, svc.core.thumbs.slotWait)
	}
	if errors.Is(err, ErrUnavailable) {
		w.Header().Set("Retry-After", thumbnailRetryAfter)
	}
	if errors.Is(err, ErrNoThumbnail) {
		w.Header().Set("Cache-Control", "private, no-cache")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	defer th.Close()
	setHeaders(w.Header(),
		"Content-Type", th.ContentType,
		"Etag", th.ETag,
		"X-Content-Type-Options", "nosniff",
		"Content-Security-Policy", "sandbox",
		"Referrer-Policy", "no-referrer", // see ServeContent
		"Cache-Control", "private, no-cache")
	h.serveContent(w, r, th.ModTime(), th.Object.Size(), th)
}
