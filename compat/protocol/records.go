package protocol

import (
	"errors"
	"net/http"

	"github.com/attachkit/attachment"
)

// maxUpdateBody bounds the body of PUT /{id}.
const maxUpdateBody = 64 << 10

// retrieve handles GET /{id}: the attachment's model (not its content).
func (d *Handler) retrieve(w http.ResponseWriter, r *http.Request, base, id string) {
	_, _, a, err := d.h.Authorize(r, attachment.OpRead, id)
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, toModel(base, a))
}

// content handles GET /{id}/content, the file_url: the content, with
// Range and conditional requests, as an attachment unless
// ?disposition=inline is asked for a type that is safe to display.
func (d *Handler) content(w http.ResponseWriter, r *http.Request, id string) {
	inline := false
	switch r.URL.Query().Get("disposition") {
	case "", "attachment":
	case "inline":
		inline = true
	default:
		d.h.WriteError(w, r, invalid("disposition must be inline or attachment"))
		return
	}
	_, _, a, err := d.h.Authorize(r, attachment.OpDownload, id)
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	d.h.ServeContent(w, r, a, &attachment.ServeOptions{Inline: inline})
}

// update handles PUT /{id}: a new filename, from a form (as curl -d sends
// it) or a JSON object. A body without filename changes nothing and
// answers the attachment as it is.
func (d *Handler) update(w http.ResponseWriter, r *http.Request, base, id string) {
	_, svc, a, err := d.h.Authorize(r, attachment.OpUpdate, id)
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	body, err := d.h.ReadBody(w, r, maxUpdateBody)
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	name, err := parseUpdate(r.Header.Get("Content-Type"), body)
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	if name != nil {
		if a, err = svc.Update(r.Context(), id, attachment.Change{Filename: name}); err != nil {
			d.h.WriteError(w, r, err)
			return
		}
	}
	writeJSON(w, r, http.StatusOK, toModel(base, a))
}

// delete handles DELETE /{id}: 204 No Content. An attachment the host's
// application holds references to is not deleted (409 referenced).
func (d *Handler) delete(w http.ResponseWriter, r *http.Request, id string) {
	_, svc, _, err := d.h.Authorize(r, attachment.OpDelete, id)
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	if err := svc.Delete(r.Context(), id, nil); err != nil {
		if errors.Is(err, attachment.ErrReferenced) {
			err = &attachment.Error{Kind: attachment.ErrReferenced, Detail: "attachment " + id +
				" is referenced by the application and cannot be deleted until those references are removed"}
		}
		d.h.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
