package client

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"

	"github.com/attachkit/attachment/wire"
)

// File is one file to upload.
type File struct {
	// Name is the file's name; the server cleans it (dropping any path) and
	// refuses one that cleans to nothing with ErrInvalidFilename.
	Name string
	// Content is read once, as the request is sent, and never buffered
	// whole: the upload streams. It is not read after the upload returns,
	// except when ctx ended while a Read of it was blocked: that Read
	// still returns to a goroutine of the upload's, which then stops.
	Content io.Reader
	// ContentType is the client's claim. The server detects the type from
	// the bytes and uses the claim only when detection finds nothing
	// better than application/octet-stream or text/plain. Optional.
	ContentType string
	// Size is the content's length in bytes, when known. Zero means: find
	// it from Content when Content tells it (a *bytes.Reader,
	// *strings.Reader, *bytes.Buffer, *io.SectionReader or regular
	// *os.File, from its current offset), else unknown. A negative Size is
	// unknown. A known size is sent as Content-Length, so a server refuses
	// a file over its limit before any of it is sent, and the progress
	// callback gets a total. Content must then give exactly Size bytes.
	Size int64
	// SHA256, when set, is the expected SHA-256 digest of the content (32
	// bytes), sent as Content-Digest; the server refuses content that does
	// not match with ErrChecksumMismatch and stores nothing.
	SHA256 []byte
}

// UploadOptions are the choices of an upload that apply to every file.
type UploadOptions struct {
	// Owner is the attachments' owner, an opaque string the host groups
	// attachments by (a document, a chat session). Optional.
	Owner string
	// Labels are opaque string pairs, filterable in List. Optional.
	Labels map[string]string
	// Progress, when set, is called as the content is handed to the
	// connection, with the bytes of content sent so far and the total
	// (the sum of the files' sizes), or -1 for total when a size is
	// unknown. Calls come from one goroutine at a time; the last one, on
	// success, has sent equal to the whole content's length.
	Progress func(sent, total int64)
}

// uploadResponse is the body of a 201 answer to an upload.
type uploadResponse struct {
	Attachments []*wire.Attachment `json:"attachments"`
}

// Upload uploads one file as the body of a POST and returns its record.
// The content streams from f.Content as the request is sent. Nothing of a
// failed upload remains on the server.
func (c *Client) Upload(ctx context.Context, f File, opts *UploadOptions) (*wire.Attachment, error) {
	if opts == nil {
		opts = &UploadOptions{}
	}
	if f.Content == nil {
		return nil, errors.New("attachment client: Upload: File.Content is nil")
	}
	if mt, _, _ := mime.ParseMediaType(f.ContentType); mt == "multipart/form-data" {
		// As a raw body's type it would read as a form: send a form.
		atts, err := c.UploadMany(ctx, []File{f}, opts)
		if err != nil {
			return nil, err
		}
		return atts[0], nil
	}
	q := fieldValues(opts)
	if f.Name != "" {
		q.Set("filename", f.Name)
	}
	size := fileSize(f)
	cr := &countingReader{r: f.Content, total: size, progress: opts.Progress}
	body, finish := streamBody(ctx, func(w io.Writer) error {
		_, err := io.Copy(w, cr)
		return err
	})
	req, err := c.newRequest(ctx, http.MethodPost, c.endpoint(q), body)
	if err != nil {
		finish()
		return nil, err
	}
	req.ContentLength = size
	req.Header.Set("Content-Type", cmp.Or(f.ContentType, "application/octet-stream"))
	if f.SHA256 != nil {
		req.Header.Set("Content-Digest", contentDigest(f.SHA256))
	}
	atts, err := c.sendUpload(req)
	if err := uploadErr(ctx, err, finish(), cr); err != nil {
		return nil, err
	}
	if len(atts) != 1 {
		return nil, fmt.Errorf("attachment client: upload: the server answered %d records for one file", len(atts))
	}
	return atts[0], nil
}

// UploadMany uploads files in one multipart/form-data request and returns
// their records, in order. The request is all or nothing: on any error
// none of the files remains on the server. The content streams through a
// pipe as the request is sent; when every size is known the request has a
// Content-Length. The server bounds the files of one request (MaxFiles,
// ErrTooManyFiles).
func (c *Client) UploadMany(ctx context.Context, files []File, opts *UploadOptions) ([]*wire.Attachment, error) {
	if opts == nil {
		opts = &UploadOptions{}
	}
	if len(files) == 0 {
		return nil, errors.New("attachment client: UploadMany: no files")
	}
	sizes := make([]int64, len(files))
	var total int64
	for i, f := range files {
		if f.Content == nil {
			return nil, fmt.Errorf("attachment client: UploadMany: file %d (%s): Content is nil", i, f.Name)
		}
		sizes[i] = fileSize(f)
		if sizes[i] < 0 || total < 0 {
			total = -1
		} else {
			total += sizes[i]
		}
	}
	boundary := multipart.NewWriter(nil).Boundary()
	length := int64(-1)
	if total >= 0 {
		// The form's length: its parts' headers and boundaries, written
		// once without content, plus the content.
		var n byteCounter
		if err := writeForm(&n, boundary, files, opts, nil); err != nil {
			return nil, err
		}
		length = int64(n) + total
	}

	cr := &countingReader{total: total, progress: opts.Progress}
	body, finish := streamBody(ctx, func(w io.Writer) error {
		return writeForm(w, boundary, files, opts, cr)
	})
	req, err := c.newRequest(ctx, http.MethodPost, c.endpoint(nil), body)
	if err != nil {
		finish()
		return nil, err
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	atts, err := c.sendUpload(req)
	if err := uploadErr(ctx, err, finish(), cr); err != nil {
		return nil, err
	}
	if len(atts) != len(files) {
		return nil, fmt.Errorf("attachment client: upload: the server answered %d records for %d files", len(atts), len(files))
	}
	return atts, nil
}

// streamBody returns a request body that is a pipe from a goroutine
// running write: the content streams, and ctx's end breaks the pipe, so
// that a request ends with ctx even while the content's reader blocks
// (the transport itself waits for a blocked body read). finish stops the
// writer (blocked on a pipe the server no longer reads, after an early
// answer) and waits for it unless ctx has ended, so that no content is
// read after the upload returns; it reports whether the writer is done.
func streamBody(ctx context.Context, write func(io.Writer) error) (body io.ReadCloser, finish func() bool) {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.CloseWithError(write(pw))
	}()
	stop := context.AfterFunc(ctx, func() { pr.CloseWithError(context.Cause(ctx)) })
	return pr, func() bool {
		stop()
		pr.CloseWithError(errUploadDone)
		select {
		case <-done:
			return true
		case <-ctx.Done():
			select {
			case <-done:
				return true
			default:
				return false
			}
		}
	}
}

// uploadErr is the error of an upload that sendUpload answered with err:
// ctx's end, the content reader's error (when the writer is done and
// cr is safe to read), or err.
func uploadErr(ctx context.Context, err error, writerDone bool, cr *countingReader) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("attachment client: upload: %w", context.Cause(ctx))
	case writerDone && cr.err != nil:
		return fmt.Errorf("attachment client: upload: reading content: %w", cr.err)
	}
	return err
}

// errUploadDone ends the form writer once the request is over.
var errUploadDone = errors.New("attachment client: the upload request is over")

// sendUpload sends an upload request and reads its 201 answer.
func (c *Client) sendUpload(req *http.Request) ([]*wire.Attachment, error) {
	req.Header.Set("Accept", "application/json")
	resp, err := c.send(req, http.StatusCreated)
	if err != nil {
		return nil, err
	}
	defer drainClose(resp.Body)
	var out uploadResponse
	if err := decodeBody(req, resp, &out); err != nil {
		return nil, err
	}
	return out.Attachments, nil
}

// writeForm writes the multipart form of an upload to w: the text fields,
// then one part per file. With cr nil it writes no content (to measure
// the form); otherwise each file's content is read through cr.
func writeForm(w io.Writer, boundary string, files []File, opts *UploadOptions, cr *countingReader) error {
	mw := multipart.NewWriter(w)
	if err := mw.SetBoundary(boundary); err != nil {
		return err
	}
	fields := fieldValues(opts)
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if err := mw.WriteField(k, fields.Get(k)); err != nil {
			return err
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": f.Name}))
		h.Set("Content-Type", cmp.Or(f.ContentType, "application/octet-stream"))
		if f.SHA256 != nil {
			h.Set("Content-Digest", contentDigest(f.SHA256))
		}
		pw, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		if cr == nil {
			continue
		}
		cr.r = f.Content
		if _, err := io.Copy(pw, cr); err != nil {
			return err
		}
	}
	return mw.Close()
}

// fieldValues are the owner and label.KEY fields of opts.
func fieldValues(opts *UploadOptions) url.Values {
	q := url.Values{}
	if opts.Owner != "" {
		q.Set("owner", opts.Owner)
	}
	for k, v := range opts.Labels {
		q.Set("label."+k, v)
	}
	return q
}

// contentDigest is the RFC 9530 Content-Digest of a SHA-256 digest.
func contentDigest(sum []byte) string {
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum) + ":"
}

// fileSize is f's size: f.Size when set, else what f.Content tells, else
// -1 for unknown.
func fileSize(f File) int64 {
	switch {
	case f.Size > 0:
		return f.Size
	case f.Size < 0:
		return -1
	}
	switch r := f.Content.(type) {
	case interface{ Len() int }: // *bytes.Reader, *strings.Reader, *bytes.Buffer
		return int64(r.Len())
	case interface {
		Size() int64
		io.Seeker
	}: // *io.SectionReader
		if off, err := r.Seek(0, io.SeekCurrent); err == nil {
			return max(r.Size()-off, 0)
		}
	case statSeeker: // *os.File
		fi, err := r.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return -1
		}
		if off, err := r.Seek(0, io.SeekCurrent); err == nil {
			return max(fi.Size()-off, 0)
		}
	}
	return -1
}

// countingReader counts what is read through it for the progress
// callback, and keeps the first read error that is not io.EOF.
type countingReader struct {
	r        io.Reader
	sent     int64
	total    int64
	progress func(sent, total int64)
	err      error
}

func (cr *countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	if n > 0 {
		cr.sent += int64(n)
		if cr.progress != nil {
			cr.progress(cr.sent, cr.total)
		}
	}
	if err != nil && err != io.EOF && cr.err == nil {
		cr.err = err
	}
	return n, err
}

// statSeeker is a file: *os.File.
type statSeeker interface {
	Stat() (fs.FileInfo, error)
	io.Seeker
}

// byteCounter is an io.Writer that counts and discards.
type byteCounter int64

func (n *byteCounter) Write(p []byte) (int, error) {
	*n += byteCounter(len(p))
	return len(p), nil
}
