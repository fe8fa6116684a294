package efalia

import (
	"errors"
	"net/http"

	"github.com/attachkit/attachment"
)

// content serves GET /{uuid} (as an attachment) and GET /{uuid}/inline
// (inline where the type is safe to show: never HTML, SVG or XML).
func (h *Handler) content(w http.ResponseWriter, r *http.Request, raw string, inline bool) {
	_, _, a, err := h.h.Authorize(r, attachment.OpDownload, CanonicalID(raw))
	if err != nil {
		h.h.WriteError(w, r, err)
		return
	}
	h.h.ServeContent(w, r, a, &attachment.ServeOptions{Inline: inline})
}

// delete serves DELETE /{uuid}: an attachment that documents still
// reference (see the native API's refs) is not removed.
func (h *Handler) delete(w http.ResponseWriter, r *http.Request, raw string) {
	_, svc, a, err := h.h.Authorize(r, attachment.OpDelete, CanonicalID(raw))
	if err != nil {
		h.h.WriteError(w, r, err)
		return
	}
	err = svc.Delete(r.Context(), a.ID, nil)
	if errors.Is(err, attachment.ErrReferenced) {
		err = &attachment.Error{Kind: attachment.ErrReferenced,
			Detail: "Attachment " + a.ID + " is referenced by one or more documents; it was not removed."}
	}
	if err != nil {
		h.h.WriteError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, &RestMessage{Code: http.StatusOK, Message: "Attachment " + a.ID + " removed."})
}
