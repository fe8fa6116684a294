package coco

import (
	"net/http"
	"strings"
	"time"

	"github.com/attachkit/attachment"
)

// content handles GET and HEAD /{id}: the content, with Range and
// conditional requests as the native download, and the Filename and
// Created headers Coco's check for an attachment answers with.
func (h *Handler) content(w http.ResponseWriter, r *http.Request, id string) {
	_, _, a, err := h.h.Authorize(r, attachment.OpDownload, id)
	if err != nil {
		h.h.WriteError(w, r, err)
		return
	}
	hdr := w.Header()
	hdr.Set("Filename", filenameHeader(a.Filename))
	hdr.Set("Created", formatTime(a.CreatedAt))
	h.h.ServeContent(w, r, a, nil)
}

// deleteResponse is the body of a successful delete.
type deleteResponse struct {
	ID     string `json:"_id"`
	Result string `json:"result"`
}

// delete handles DELETE /{id}. An attachment with references (added
// through the native API) is not deleted: 409 with type "referenced".
func (h *Handler) delete(w http.ResponseWriter, r *http.Request, id string) {
	_, svc, a, err := h.h.Authorize(r, attachment.OpDelete, id)
	if err != nil {
		h.h.WriteError(w, r, err)
		return
	}
	if err := svc.Delete(r.Context(), a.ID, nil); err != nil {
		h.h.WriteError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, &deleteResponse{ID: a.ID, Result: "deleted"})
}

// formatTime writes a time as the Created header and the created and
// updated fields of a search hit do: RFC 3339 in UTC, with as many
// fractional digits as it has.
func formatTime(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// utf8Prefix starts a Filename header that carries a name in RFC 8187's
// encoding.
const utf8Prefix = "UTF-8''"

// filenameHeader returns the Filename header of a name: the name itself
// when it is printable ASCII, else (and for a name that itself starts as
// an encoded one would) RFC 8187's UTF-8”percent-encoded form, since a
// header can carry only ASCII safely. Names are cleaned at upload, so
// they hold no control characters.
func filenameHeader(name string) string {
	for i := 0; i < len(name); i++ {
		if name[i] < 0x20 || name[i] > 0x7e {
			return utf8Prefix + percentEncode(name)
		}
	}
	if len(name) >= len(utf8Prefix) && strings.EqualFold(name[:len(utf8Prefix)], utf8Prefix) {
		return utf8Prefix + percentEncode(name)
	}
	return name
}

// percentEncode encodes every byte of s but RFC 8187's attr-char as %XX.
func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAttrChar(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// isAttrChar reports whether c is an attr-char of RFC 8187.
func isAttrChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
