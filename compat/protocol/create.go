package protocol

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/attachkit/attachment"
)

// fileField is the form field of the uploaded file.
const fileField = "file"

// create handles POST /: a multipart/form-data body with one file part
// named file and, optionally, the text fields conversation_id and
// message_id. It answers 201 with the attachment.
func (d *Handler) create(w http.ResponseWriter, r *http.Request, base string) {
	c, svc, _, err := d.h.Authorize(r, attachment.OpUpload, "")
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	atts, err := d.h.ReadUpload(w, r, svc, c, &attachment.UploadRequest{
		FileFields: []string{fileField},
		MaxFiles:   1,
		Fields:     uploadFields,
	})
	if errors.Is(err, attachment.ErrInvalidFilename) {
		// A part of the file field without a filename: most often curl's
		// -F file="path" without the @, which sends the path as text.
		err = &attachment.Error{Kind: attachment.ErrInvalidFilename, Detail: "file must be a file part with a filename" +
			" (with curl: -F file=@path; without the @ curl sends the path itself as a text field)"}
	}
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	m := toModel(base, atts[0])
	w.Header().Set("Location", itemURL(base, m.ID))
	writeJSON(w, r, http.StatusCreated, m)
}

// uploadFields turns the text fields of an upload into its labels:
// conversation_id and message_id, each at most once. An empty value is no
// label. Any other field is refused, so that a misspelt one does not leave
// an attachment out of its conversation unnoticed.
func uploadFields(fields url.Values, _ bool, opts *attachment.UploadOptions) error {
	for k, vs := range fields {
		switch k {
		case LabelConversation, LabelMessage:
		default:
			return unknownParameter(k)
		}
		if len(vs) > 1 {
			return invalid(k + " is given more than once")
		}
		if vs[0] == "" {
			continue
		}
		if opts.Labels == nil {
			opts.Labels = map[string]string{}
		}
		opts.Labels[k] = vs[0]
	}
	return nil
}
