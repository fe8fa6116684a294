package attachment

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/attachkit/attachment/internal/digest"
	"github.com/attachkit/attachment/internal/filename"
	"github.com/attachkit/attachment/internal/mpart"
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
	// The request's size is checked before any of the body is read: net/http
	// sends "100 Continue" only when a handler first reads, so a client
	// that asked for it sends nothing more.
	var body io.Reader = r.Body
	if max := h.opts.MaxRequestSize; max > 0 {
		if r.ContentLength > max {
			h.writeError(w, r, inputErr(ErrTooLarge, "the request body is larger than %d bytes", max))
			return
		}
		// Read through a wrapper, leaving r.Body as the server made it:
		// net/http looks at it to tell whether a 100 Continue was sent
		// and the rest of the body may be skipped.
		body = http.MaxBytesReader(w, r.Body, max)
	}
	var atts []*Attachment
	if !h.readBody(w, r, body, func(body io.Reader) (err error) {
		mt, params, perr := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if perr == nil && mt == "multipart/form-data" {
			atts, err = h.uploadMultipart(r, body, svc, c, params["boundary"])
		} else {
			atts, err = h.uploadRaw(r, body, svc, c)
		}
		return err
	}) {
		return
	}
	base := h.base(r)
	for _, a := range atts {
		h.decorate(base, a)
	}
	w.Header().Set("Location", atts[0].URL)
	writeJSON(w, r, http.StatusCreated, "application/json", uploadResponse{Attachments: atts})
}

// uploadRaw stores a request body as one file.
func (h *Handler) uploadRaw(r *http.Request, body io.Reader, svc *Service, c Caller) ([]*Attachment, error) {
	q := r.URL.Query()
	name := q.Get("filename")
	if name == "" {
		if cd := r.Header.Get("Content-Disposition"); cd != "" {
			n, err := filename.FromContentDisposition(cd)
			if err != nil {
				return nil, badRequest("malformed Content-Disposition header")
			}
			name = n
		}
	}
	if name == "" {
		return nil, inputErr(ErrInvalidFilename, "a raw-body upload needs a filename: the filename query parameter or a Content-Disposition header")
	}
	opts, err := uploadOptionsFromQuery(q, c)
	if err != nil {
		return nil, err
	}
	if max := svc.core.opts.MaxFileSize; max > 0 && r.ContentLength > max {
		return nil, inputErr(ErrTooLarge, "file %q is larger than %d bytes", name, max)
	}
	exp, err := digest.FromHeader(textproto.MIMEHeader(r.Header))
	if err != nil {
		return nil, badRequest("malformed Content-Digest or Content-MD5 header")
	}
	return svc.Upload(r.Context(), opts, File{
		Name:        name,
		Content:     clientReader{body},
		ContentType: r.Header.Get("Content-Type"),
		SHA256:      exp.SHA256,
		MD5:         exp.MD5,
	})
}

// uploadOptionsFromQuery reads owner and label.KEY parameters.
func uploadOptionsFromQuery(q url.Values, c Caller) (*UploadOptions, error) {
	opts := &UploadOptions{Owner: q.Get("owner"), CreatedBy: c.Name}
	for k, vs := range q {
		key, ok := strings.CutPrefix(k, labelPrefix)
		if !ok {
			continue
		}
		if len(vs) > 1 {
			return nil, badRequest("label " + key + " is given more than once")
		}
		if opts.Labels == nil {
			opts.Labels = map[string]string{}
		}
		opts.Labels[key] = vs[0]
	}
	return opts, nil
}

// uploadMultipart stores every file part of a multipart/form-data body.
// Text fields (owner, label.KEY) must come before the first file.
func (h *Handler) uploadMultipart(r *http.Request, body io.Reader, svc *Service, c Caller, boundary string) (atts []*Attachment, err error) {
	if boundary == "" {
		return nil, badRequest("multipart/form-data without a boundary")
	}
	core := svc.core
	mr := mpart.NewReader(clientReader{body}, boundary, nil)
	opts := &UploadOptions{CreatedBy: c.Name}
	var batch *Batch
	defer func() {
		if err != nil && batch != nil {
			batch.Abort(r.Context())
		}
	}()
	for parts := 0; ; parts++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, errBodyRead) || errors.Is(err, mpart.ErrHeaderTooLarge) {
				return nil, err
			}
			return nil, badRequest("malformed multipart body")
		}
		if h.opts.MaxParts > 0 && parts >= h.opts.MaxParts {
			return nil, badRequest("too many parts in the multipart body")
		}
		cd := p.Header.Get("Content-Disposition")
		disp, dparams, _ := mime.ParseMediaType(cd)
		if disp != "form-data" {
			return nil, badRequest("a multipart part without Content-Disposition: form-data")
		}
		// FromContentDisposition also decodes an ISO-8859-1 filename*,
		// which mime.ParseMediaType drops.
		fname, ferr := filename.FromContentDisposition(cd)
		if ferr != nil {
			return nil, badRequest("a multipart part with a malformed Content-Disposition")
		}
		_, hasName := dparams["filename"]
		isFile := hasName || fname != ""
		if !isFile {
			if batch != nil {
				return nil, badRequest("text field " + p.FormName() + " comes after a file; fields must come first")
			}
			if err := readField(p, p.FormName(), opts, core.opts.MaxFieldBytes); err != nil {
				return nil, err
			}
			continue
		}
		if batch == nil {
			if batch, err = svc.NewBatch(opts); err != nil {
				return nil, err
			}
		}
		exp, err := digest.FromHeader(p.Header)
		if err != nil {
			return nil, badRequest("malformed Content-Digest or Content-MD5 header in a part")
		}
		if err := batch.Add(r.Context(), File{
			Name:        fname,
			Content:     clientReader{p},
			ContentType: p.Header.Get("Content-Type"),
			SHA256:      exp.SHA256,
			MD5:         exp.MD5,
		}); err != nil {
			return nil, err
		}
	}
	if batch == nil {
		return nil, badRequest("the multipart body has no file part")
	}
	return batch.Commit(r.Context())
}

// readField reads one text field into opts.
func readField(p io.Reader, name string, opts *UploadOptions, maxBytes int) error {
	b, err := io.ReadAll(io.LimitReader(clientReader{p}, int64(maxBytes)+1))
	if err != nil {
		return err
	}
	if len(b) > maxBytes {
		return badRequest("form field " + name + " is longer than the limit")
	}
	v := string(b)
	switch {
	case name == "owner":
		opts.Owner = v
	case strings.HasPrefix(name, labelPrefix):
		key := name[len(labelPrefix):]
		if opts.Labels == nil {
			opts.Labels = map[string]string{}
		}
		if _, dup := opts.Labels[key]; dup {
			return badRequest("label " + key + " is given more than once")
		}
		opts.Labels[key] = v
	}
	// Other fields are ignored: clients may send their own (a CSRF token).
	return nil
}
