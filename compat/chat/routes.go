package chat

import (
	"maps"
	"net/http"
	"net/url"
	"strconv"

	"github.com/attachkit/attachment"
)

// upload serves POST /messages/{messageId}/attachments.
func (d *Handler) upload(w http.ResponseWriter, r *http.Request, base, messageID string) {
	c, svc, _, err := d.h.Authorize(r, attachment.OpUpload, "")
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	if err := checkID("messageId", messageID); err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	labels := map[string]string{LabelTextMessageID: messageID}
	var fields func(url.Values, bool, *attachment.UploadOptions) error
	if d.roomID != nil {
		room, err := d.roomID(r, messageID)
		if err != nil {
			d.h.WriteError(w, r, err)
			return
		}
		if room != "" {
			labels[LabelRoomID] = room
		}
		fields = func(f url.Values, _ bool, _ *attachment.UploadOptions) error {
			return checkFields(f)
		}
	} else {
		query := r.URL.Query()[LabelRoomID]
		if len(query) > 0 {
			if _, err := roomFrom(query, nil); err != nil {
				d.h.WriteError(w, r, err)
				return
			}
		}
		fields = func(f url.Values, _ bool, o *attachment.UploadOptions) error {
			if err := checkFields(f); err != nil {
				return err
			}
			room, err := roomFrom(query, f[LabelRoomID])
			if err != nil {
				return err
			}
			if room != "" {
				o.Labels = maps.Clone(o.Labels)
				o.Labels[LabelRoomID] = room
			}
			return nil
		}
	}
	atts, err := d.h.ReadUpload(w, r, svc, c, &attachment.UploadRequest{
		FileFields: []string{FilesField},
		Options:    attachment.UploadOptions{Labels: labels},
		Fields:     fields,
	})
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	ans := UploadAnswer{HTTPStatusCode: http.StatusOK, Attachments: make([]Attachment, len(atts))}
	for i, a := range atts {
		ans.Attachments[i] = record(svc, a, base)
	}
	writeJSON(w, r, http.StatusOK, ans)
}

// checkFields refuses a text field other than roomId. A file sent under
// another name than "files" arrives here as a text field, so this refuses
// it rather than drop it unsaid.
func checkFields(f url.Values) error {
	for k := range f {
		if k != LabelRoomID {
			return &attachment.Error{Kind: attachment.ErrInvalid,
				Detail: "unexpected form field " + quoteName(k) + ": files go under \"files\", and the only other field is \"roomId\""}
		}
	}
	return nil
}

// roomFrom is the roomId the client sent as query parameters and form
// fields: at most one value, the same in both; "" when none was sent.
func roomFrom(query, form []string) (string, error) {
	vals := append(append([]string(nil), query...), form...)
	if len(vals) == 0 {
		return "", nil
	}
	for _, v := range vals[1:] {
		if v != vals[0] {
			return "", &attachment.Error{Kind: attachment.ErrInvalid, Detail: "roomId is given more than once with different values"}
		}
	}
	if err := checkID("roomId", vals[0]); err != nil {
		return "", err
	}
	return vals[0], nil
}

// metadata serves GET and HEAD /attachments/{id}.
func (d *Handler) metadata(w http.ResponseWriter, r *http.Request, base, id string) {
	_, svc, a, err := d.h.Authorize(r, attachment.OpRead, id)
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, record(svc, a, base))
}

// download serves GET and HEAD /attachments/{id}/{fileName}. The file name
// is not checked against the stored one: the ID names the content, and the
// Content-Disposition header names the file as stored.
func (d *Handler) download(w http.ResponseWriter, r *http.Request, id string) {
	_, _, a, err := d.h.Authorize(r, attachment.OpDownload, id)
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	d.h.ServeContent(w, r, a, nil)
}

// delete serves DELETE /attachments/{id}.
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
	writeJSON(w, r, http.StatusOK, OKAnswer{HTTPStatusCode: http.StatusOK})
}

// quoteName quotes a client's field name for an error text, cut to 64
// bytes.
func quoteName(k string) string {
	if len(k) > 64 {
		k = k[:64] + "..."
	}
	return strconv.Quote(k)
}
