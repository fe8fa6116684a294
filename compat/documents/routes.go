package documents

import (
	"net/http"
	"net/url"

	"github.com/attachkit/attachment"
)

// file handles GET and HEAD /file?url={key}: the content of the attachment
// whose key (its ID) is given, for display (inline where that is safe).
// Anything that is not the ID of an attachment the caller may read is 404.
func (d *Handler) file(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		d.h.WriteError(w, r, invalid("malformed query string"))
		return
	}
	keys := q["url"]
	switch {
	case len(keys) == 0 || keys[0] == "":
		d.h.WriteError(w, r, invalid("the url query parameter is required"))
		return
	case len(keys) > 1:
		d.h.WriteError(w, r, invalid("the url query parameter is given more than once"))
		return
	}
	_, _, a, err := d.h.Authorize(r, attachment.OpDownload, keys[0])
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	d.h.ServeContent(w, r, a, &attachment.ServeOptions{Inline: true})
}

// list handles GET /document/{documentId}: the attachments labelled with
// the document, oldest first, at most maxList of them.
func (d *Handler) list(w http.ResponseWriter, r *http.Request, base, documentID string) {
	_, svc, _, err := d.h.Authorize(r, attachment.OpList, "")
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	doc, ok := canonicalUUID(documentID)
	if !ok {
		d.h.WriteError(w, r, invalid("documentId must be a UUID (such as 550e8400-e29b-41d4-a716-446655440000)"))
		return
	}
	items := []item{}
	truncated := false
	opts := &attachment.ListOptions{
		Labels:    map[string]string{labelDocument: doc},
		Ascending: true,
		Limit:     min(d.maxList+1, attachment.MaxListLimit),
	}
	for a, err := range svc.All(r.Context(), opts) {
		if err != nil {
			d.h.WriteError(w, r, err)
			return
		}
		if len(items) == d.maxList {
			truncated = true
			break
		}
		items = append(items, newItem(base, a))
	}
	if truncated {
		w.Header().Set("X-Truncated", "true")
	}
	writeJSON(w, r, http.StatusOK, envelope{Success: true, Data: items})
}

// delete handles DELETE /{id}. A referenced attachment (native refs) is
// not deleted: 409.
func (d *Handler) delete(w http.ResponseWriter, r *http.Request, id string) {
	_, svc, _, err := d.h.Authorize(r, attachment.OpDelete, id)
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	if err := svc.Delete(r.Context(), id, nil); err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, envelope{Success: true})
}
