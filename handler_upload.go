package attachment

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/attachkit/attachment/internal/filename"
)

// labelPrefix starts the form fields and query parameters that set labels.
const labelPrefix = "label."

// uploadResponse is the body of a successful upload.
type uploadResponse struct {
	Attachments []*Attachment `json:"attachments"`
}

// Upload handles POST / (relative to the mount): a multipart/form-data body
// with one attachment per file part, or any other body as one file named
// by the filename query parameter or a Content-Disposition header. It
// answers 201 with the records, all or nothing. A body that stalls for
// HandlerOptions.UploadIdleTimeout is answered 408 bad_request.
func (h *Handler) Upload(w http.ResponseWriter, r *http.Request) {
	c, svc, _, err := h.authorize(r, OpUpload, "")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	atts, err := h.ReadUpload(w, r, svc, c, &UploadRequest{
		FieldsFirst: true,
		Fields:      nativeFields,
		Raw:         nativeRawFile,
	})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	base := h.base(r)
	for _, a := range atts {
		h.decorate(base, a)
	}
	w.Header().Set("Location", atts[0].URL)
	writeJSON(w, r, http.StatusCreated, "application/json", uploadResponse{Attachments: atts})
}

// nativeRawFile names a raw-body upload by the filename query parameter or
// a Content-Disposition header; its claimed type is the Content-Type.
func nativeRawFile(r *http.Request) (name, contentType string, err error) {
	name = r.URL.Query().Get("filename")
	if name == "" {
		if cd := r.Header.Get("Content-Disposition"); cd != "" {
			n, err := filename.FromContentDisposition(cd)
			if err != nil {
				return "", "", badRequest("malformed Content-Disposition header")
			}
			name = n
		}
	}
	if name == "" {
		return "", "", inputErr(ErrInvalidFilename, "a raw-body upload needs a filename: the filename query parameter or a Content-Disposition header")
	}
	return name, r.Header.Get("Content-Type"), nil
}

// nativeFields reads owner and label.KEY from an upload's form fields or,
// for a raw body, its query parameters. Other fields are ignored: clients
// may send their own (a CSRF token).
func nativeFields(fields url.Values, _ bool, opts *UploadOptions) error {
	opts.Owner = fields.Get("owner")
	for k, vs := range fields {
		key, ok := strings.CutPrefix(k, labelPrefix)
		if !ok {
			continue
		}
		if len(vs) > 1 {
			return badRequest("label " + key + " is given more than once")
		}
		if opts.Labels == nil {
			opts.Labels = map[string]string{}
		}
		opts.Labels[key] = vs[0]
	}
	return nil
}
