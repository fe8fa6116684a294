package attachment

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"

	"github.com/attachkit/attachment/internal/digest"
	"github.com/attachkit/attachment/internal/filename"
	"github.com/attachkit/attachment/internal/mpart"
)

// UploadRequest says how ReadUpload reads an upload request. The zero
// value (or nil) takes every file part of a multipart/form-data body and
// refuses any other body.
type UploadRequest struct {
	// FileFields names the form fields whose parts are files; a part of
	// another field is read as a text field, and one of these fields
	// without a filename is a file all the same. Empty means every part
	// with a filename parameter.
	FileFields []string
	// MaxFiles, when positive, bounds the files of this request below
	// Options.MaxFiles (a protocol whose upload takes one file sets 1):
	// one more file part is refused with an error wrapping
	// ErrTooManyFiles before any of it is stored.
	MaxFiles int
	// Options are the upload's options. When CreatedBy is empty it is the
	// caller's Name.
	Options UploadOptions
	// FieldsFirst refuses a text field that comes after a file (400
	// bad_request), as the native API does: the upload's options are then
	// known before any content is read.
	FieldsFirst bool
	// Fields, when set, turns the request's fields into the upload's
	// options: it is given a copy of Options to change, and the fields,
	// which are the text fields of a multipart body or the query
	// parameters of a raw one. It is called before the first file is read,
	// with the fields sent so far and final false, and again before the
	// upload is committed, with every field and final true: a field the
	// protocol requires is checked then, as it may come after the files.
	// When fields came after a file, the options of the final call replace
	// those of the first, and the access hook and commit checks are asked
	// again about each file as it will be stored. An error refuses the
	// upload and nothing is stored; an *Error's Detail reaches the client.
	// It must not keep the values.
	Fields func(fields url.Values, final bool, opts *UploadOptions) error
	// Raw, when set, accepts a body that is not multipart/form-data as
	// one file: it returns the file's name and the type the client claims
	// (see File.ContentType), or an error to refuse it. Nil refuses such
	// bodies (400 bad_request).
	Raw func(r *http.Request) (name, contentType string, err error)
}

// ReadUpload reads the upload request r and stores its files through svc
// (the view Authorize returned for OpUpload) as uploads by c, all or
// nothing, with the limits of the native upload route: MaxRequestSize
// checked before the body is read, MaxParts, the part header limits,
// Options.MaxFieldBytes per text field, MaxFileSize, UploadIdleTimeout,
// Content-Digest and Content-MD5 checked against each file (the request's
// for a raw body, each part's for a multipart one). A multipart body is
// read as a stream, one part at a time: nothing of it is buffered whole.
// It returns the attachments (without URLs), or an error for WriteError to
// answer; then nothing is stored.
func (h *Handler) ReadUpload(w http.ResponseWriter, r *http.Request, svc *Service, c Caller, o *UploadRequest) ([]*Attachment, error) {
	var req UploadRequest
	if o != nil {
		req = *o
	}
	if req.Options.CreatedBy == "" {
		req.Options.CreatedBy = c.Name
	}
	// The request's size is checked before any of the body is read: net/http
	// sends "100 Continue" only when a handler first reads, so a client
	// that asked for it sends nothing more.
	var body io.Reader = r.Body
	if max := h.opts.MaxRequestSize; max > 0 {
		if r.ContentLength > max {
			return nil, inputErr(ErrTooLarge, "the request body is larger than %d bytes", max)
		}
		// Read through a wrapper, leaving r.Body as the server made it:
		// net/http looks at it to tell whether a 100 Continue was sent
		// and the rest of the body may be skipped.
		body = http.MaxBytesReader(w, r.Body, max)
	}
	var atts []*Attachment
	err := h.readBody(w, body, func(body io.Reader) (err error) {
		mt, params, perr := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch {
		case perr == nil && mt == "multipart/form-data":
			atts, err = h.readMultipart(r, body, svc, &req, params["boundary"])
		case req.Raw != nil:
			atts, err = readRaw(r, body, svc, &req)
		default:
			err = badRequest("the body must be multipart/form-data")
		}
		return err
	})
	return atts, err
}

// readRaw stores a request body as one file.
func readRaw(r *http.Request, body io.Reader, svc *Service, req *UploadRequest) ([]*Attachment, error) {
	name, claimed, err := req.Raw(r)
	if err != nil {
		return nil, err
	}
	opts := req.Options
	if req.Fields != nil {
		if err := req.Fields(r.URL.Query(), true, &opts); err != nil {
			return nil, err
		}
	}
	if max := svc.core.opts.MaxFileSize; max > 0 && r.ContentLength > max {
		return nil, inputErr(ErrTooLarge, "file %q is larger than %d bytes", truncate(name, 64), max)
	}
	exp, err := digest.FromHeader(textproto.MIMEHeader(r.Header))
	if err != nil {
		return nil, badRequest("malformed Content-Digest or Content-MD5 header")
	}
	return svc.Upload(r.Context(), &opts, File{
		Name:        name,
		Content:     clientReader{body},
		ContentType: claimed,
		SHA256:      exp.SHA256,
		MD5:         exp.MD5,
	})
}

// readMultipart stores every file part of a multipart/form-data body and
// collects its text fields.
func (h *Handler) readMultipart(r *http.Request, body io.Reader, svc *Service, req *UploadRequest, boundary string) (atts []*Attachment, err error) {
	if boundary == "" {
		return nil, badRequest("multipart/form-data without a boundary")
	}
	maxField := svc.core.opts.MaxFieldBytes
	mr := mpart.NewReader(clientReader{body}, boundary, nil)
	defer mr.Close() // its buffer goes back to a pool: every part is read by now
	fields := url.Values{}
	late := false
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
		if len(req.FileFields) > 0 {
			isFile = slices.Contains(req.FileFields, p.FormName())
		}
		if !isFile {
			if batch != nil {
				if req.FieldsFirst {
					return nil, badRequest("text field " + p.FormName() + " comes after a file; fields must come first")
				}
				late = true
			}
			v, err := readFieldValue(p, p.FormName(), maxField)
			if err != nil {
				return nil, err
			}
			fields.Add(p.FormName(), v)
			continue
		}
		if req.MaxFiles > 0 && batch != nil && batch.Len() >= req.MaxFiles {
			if req.MaxFiles == 1 {
				return nil, inputErr(ErrTooManyFiles, "this upload takes one file")
			}
			return nil, inputErr(ErrTooManyFiles, "this upload takes at most %d files", req.MaxFiles)
		}
		if batch == nil {
			opts := req.Options
			if req.Fields != nil {
				if err := req.Fields(fields, false, &opts); err != nil {
					return nil, err
				}
			}
			if batch, err = svc.NewBatch(&opts); err != nil {
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
	if req.Fields != nil {
		opts := req.Options
		if err := req.Fields(fields, true, &opts); err != nil {
			return nil, err
		}
		if late {
			if err := batch.SetOptions(r.Context(), &opts); err != nil {
				return nil, err
			}
		}
	}
	return batch.Commit(r.Context())
}

// readFieldValue reads one text field of at most maxBytes bytes.
func readFieldValue(p io.Reader, name string, maxBytes int) (string, error) {
	b, err := io.ReadAll(io.LimitReader(clientReader{p}, int64(maxBytes)+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxBytes {
		return "", badRequest("form field " + name + " is longer than the limit")
	}
	return string(b), nil
}
