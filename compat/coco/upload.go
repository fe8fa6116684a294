package coco

import (
	"net/http"
	"net/url"

	"github.com/attachkit/attachment"
)

// SessionLabel is the label an attachment's Coco session is stored under:
// the native API lists a session's attachments with ?label.session=S.
const SessionLabel = "session"

// fileField is the form field of the files of an upload.
const fileField = "files"

// sessionFields are the names a client may send the session under, as a
// form field or a query parameter: the document's curl example is under
// the text "The session_id need to be replaced", while its search and
// records call it session.
func sessionFields() []string { return []string{"session_id", "session"} }

// uploadResponse is the body of a successful upload.
type uploadResponse struct {
	Acknowledged bool     `json:"acknowledged"`
	Attachments  []string `json:"attachments"`
}

// upload handles POST /_upload: every "files" part of a multipart body,
// all or nothing, in the session named by a session_id or session form
// field or query parameter (none: an attachment of no session).
func (h *Handler) upload(w http.ResponseWriter, r *http.Request) {
	c, svc, _, err := h.h.Authorize(r, attachment.OpUpload, "")
	if err != nil {
		h.h.WriteError(w, r, err)
		return
	}
	query := r.URL.Query()
	if _, err := sessionOf(query, nil); err != nil {
		h.h.WriteError(w, r, err)
		return
	}
	atts, err := h.h.ReadUpload(w, r, svc, c, &attachment.UploadRequest{
		FileFields: []string{fileField},
		Fields: func(fields url.Values, _ bool, opts *attachment.UploadOptions) error {
			s, err := sessionOf(query, fields)
			if err != nil {
				return err
			}
			if s != "" {
				opts.Labels = map[string]string{SessionLabel: s}
			}
			return nil
		},
	})
	if err != nil {
		h.h.WriteError(w, r, err)
		return
	}
	ids := make([]string, len(atts))
	for i, a := range atts {
		ids[i] = a.ID
	}
	writeJSON(w, r, http.StatusOK, &uploadResponse{Acknowledged: true, Attachments: ids})
}

// sessionOf returns the session an upload names in its query and form
// fields, "" when it names none. Every value given, under either name and
// in either place, must be the same and not empty.
func sessionOf(query, fields url.Values) (string, error) {
	var s string
	for _, vs := range []url.Values{query, fields} {
		for _, name := range sessionFields() {
			for _, v := range vs[name] {
				switch {
				case v == "":
					return "", invalid(name + " must not be empty")
				case s != "" && v != s:
					return "", invalid("the session is given twice with different values")
				}
				s = v
			}
		}
	}
	return s, nil
}

// invalid is a client error whose text reaches the client.
func invalid(detail string) error {
	return &attachment.Error{Kind: attachment.ErrInvalid, Detail: detail}
}
