package resumable

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/wire"
)

// The tus protocol's constants as this package speaks them.
const (
	// Version is the tus version spoken, sent in Tus-Resumable and
	// Tus-Version.
	Version = "1.0.0"
	// Extensions is the Tus-Extension header: the extensions supported.
	Extensions = "creation,creation-with-upload,creation-defer-length,termination,expiration,checksum,concatenation"
	// ContentType is the Content-Type of a PATCH body (and of a creation
	// that carries its first bytes).
	ContentType = "application/offset+octet-stream"
)

// infoMetadata is the key of NewUpload.Info holding the raw Upload-Metadata.
const infoMetadata = "tus.metadata"

// Options configure a Layer. The zero value (or nil) means defaults.
type Options struct {
	// DefaultName is the file's name when Upload-Metadata names none.
	// Empty means "upload".
	DefaultName string
	// Logger receives what the layer logs (a Service without resumable
	// uploads). Nil means slog.Default().
	Logger *slog.Logger
}

// Layer serves tus 1.0.0 for an attachment.Handler: set it as
// HandlerOptions.Uploads. It is safe for concurrent use and may serve
// several Handlers.
type Layer struct {
	opts Options
	warn sync.Once
}

var _ attachment.Layer = (*Layer)(nil)

// New returns a Layer with the options (nil: defaults).
func New(opts *Options) *Layer {
	l := &Layer{}
	if opts != nil {
		l.opts = *opts
	}
	if l.opts.DefaultName == "" {
		l.opts.DefaultName = "upload"
	}
	if l.opts.Logger == nil {
		l.opts.Logger = slog.Default()
	}
	return l
}

// request is one request being served.
type request struct {
	l    *Layer
	h    *attachment.Handler      // the view writing the protocol's problems
	pw   attachment.ProblemWriter // the protocol's problem writer
	w    http.ResponseWriter
	r    *http.Request
	base string // the mount prefix, for URLs
	c    attachment.Caller
	svc  *attachment.Service
	max  int64 // Options.MaxFileSize; attachment.Off for none
}

// ServeLayer answers r, a request for {prefix}/uploads,
// {prefix}/uploads/ or {prefix}/uploads/{id} (attachment.Layer).
func (l *Layer) ServeLayer(h *attachment.Handler, w http.ResponseWriter, r *http.Request) {
	if v, ok := ietfVersion(r); ok {
		l.serveIETF(h, w, r, v)
		return
	}
	q := &request{l: l, w: w, r: r}
	w.Header().Set("Tus-Resumable", Version)
	method, rest, ok := q.route(h, q.writeProblem, func(method string) bool {
		switch method {
		case http.MethodOptions, http.MethodHead, http.MethodGet:
			return true
		}
		if r.Header.Get("Tus-Resumable") == Version {
			return true
		}
		w.Header().Set("Tus-Version", Version)
		q.problem(http.StatusPreconditionFailed, wire.CodeBadRequest, "Tus-Resumable: "+Version+" is required")
		return false
	})
	if !ok {
		return
	}
	switch method {
	case http.MethodOptions:
		q.options()
	case http.MethodPost:
		q.create()
	case http.MethodHead, http.MethodGet:
		q.head(rest)
	case http.MethodPatch:
		q.patch(rest)
	case http.MethodDelete:
		q.terminate(rest)
	}
}

// route is what a request of either protocol starts with: the Handler's
// view writing the protocol's problems (pw), the mount prefix, the method
// (a POST with X-HTTP-Method-Override: PATCH or DELETE to an upload is
// that method), the protocol's own check of the request (precheck, which
// answers when it refuses), the methods allowed (405 with Allow), the
// access flow, and whether the Service keeps upload sessions. It returns
// the method to serve and the upload's ID ("" for the collection), or
// false once it has answered.
func (q *request) route(h *attachment.Handler, pw attachment.ProblemWriter, precheck func(method string) bool) (method, id string, ok bool) {
	q.h, q.pw = h.WithProblemWriter(pw), pw
	var rel string
	q.base, rel = attachment.SplitPath(q.r, h.Options().Prefix)
	id, _ = strings.CutPrefix(rel, "/uploads")
	id = strings.TrimPrefix(id, "/")
	method = q.r.Method
	if o := q.r.Header.Get("X-HTTP-Method-Override"); method == http.MethodPost && id != "" && (o == http.MethodPatch || o == http.MethodDelete) {
		method = o
	}
	if precheck != nil && !precheck(method) {
		return "", "", false
	}
	allow := "OPTIONS, POST"
	if id != "" {
		allow = "OPTIONS, HEAD, GET, PATCH, DELETE"
	}
	if !slices.Contains(strings.Split(allow, ", "), method) {
		q.w.Header().Set("Allow", allow)
		q.problem(http.StatusMethodNotAllowed, wire.CodeBadRequest, "method "+method+" is not allowed here; allowed: "+allow)
		return "", "", false
	}
	c, svc, _, err := q.h.Authorize(q.r, attachment.OpUpload, "")
	if err != nil {
		q.h.WriteError(q.w, q.r, err)
		return "", "", false
	}
	q.c, q.svc, q.max = c, svc, svc.Options().MaxFileSize
	if !svc.ResumableSupported() {
		q.l.warn.Do(func() {
			q.l.opts.Logger.Warn("resumable: the Service's metadata store keeps no upload sessions (metadata.Uploads); every upload request is answered 404")
		})
		q.problem(http.StatusNotFound, wire.CodeNotFound, "resumable uploads are not available here")
		return "", "", false
	}
	return method, id, true
}

// writeProblem writes p as problem+json with the tus headers
// (attachment.ProblemWriter).
func (q *request) writeProblem(w http.ResponseWriter, r *http.Request, p *attachment.Problem) {
	hdr := w.Header()
	hdr.Set("Tus-Resumable", Version)
	if p.Status == http.StatusRequestEntityTooLarge && q.max > 0 {
		hdr.Set("Tus-Max-Size", strconv.FormatInt(q.max, 10))
	}
	body, _ := json.Marshal(p)
	hdr.Set("Content-Type", "application/problem+json")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(p.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(append(body, '\n'))
	}
}

// problem answers an error of the protocol's own (412, 415, 405) with
// the protocol's problem writer.
func (q *request) problem(status int, code, detail string) {
	title := http.StatusText(status)
	if status == StatusChecksumMismatch {
		title = "Checksum Mismatch" // tus's own status: not in net/http's table
	}
	q.pw(q.w, q.r, &attachment.Problem{
		Type: "about:blank", Title: title, Status: status, Code: code, Detail: detail,
	})
}

// fail answers err through the Handler, with the headers tus adds to a
// wrong offset (Upload-Offset) and a locked upload (Retry-After).
func (q *request) fail(err error) {
	if errors.Is(err, attachment.ErrChunkMismatch) {
		q.problem(StatusChecksumMismatch, wire.CodeChecksumMismatch, err.Error())
		return
	}
	var oe *attachment.OffsetError
	if errors.As(err, &oe) {
		q.w.Header().Set("Upload-Offset", strconv.FormatInt(oe.Expected, 10))
	}
	var le *attachment.LockedError
	if errors.As(err, &le) {
		wait := 1
		if !le.Until.IsZero() {
			wait = max(1, int(time.Until(le.Until).Seconds()+0.999))
		}
		q.w.Header().Set("Retry-After", strconv.Itoa(wait))
	}
	q.h.WriteError(q.w, q.r, err)
}

func badRequest(detail string) error {
	return &attachment.Error{Kind: attachment.ErrInvalid, Detail: detail}
}

// options answers OPTIONS: what the server supports.
func (q *request) options() {
	hdr := q.w.Header()
	hdr.Set("Tus-Version", Version)
	hdr.Set("Tus-Extension", Extensions)
	hdr.Set("Tus-Checksum-Algorithm", ChecksumAlgorithms)
	if q.max > 0 {
		hdr.Set("Tus-Max-Size", strconv.FormatInt(q.max, 10))
	}
	q.w.WriteHeader(http.StatusNoContent)
}

// uploadURL is the URL of the upload id.
func (q *request) uploadURL(id string) string { return q.base + "/uploads/" + id }

// setState puts the headers of an upload's state on the answer.
func (q *request) setState(info *attachment.UploadInfo) {
	hdr := q.w.Header()
	hdr.Set("Upload-Offset", strconv.FormatInt(info.Offset, 10))
	if !info.ExpiresAt.IsZero() {
		hdr.Set("Upload-Expires", info.ExpiresAt.UTC().Format(http.TimeFormat))
	}
}

// create answers POST /uploads/: the creation extension, with its
// first bytes when the body is application/offset+octet-stream
// (creation-with-upload).
func (q *request) create() {
	r := q.r
	raw := r.Header.Get("Upload-Metadata")
	md, err := ParseMetadata(raw)
	if err != nil {
		q.fail(badRequest(err.Error()))
		return
	}
	nu := &attachment.NewUpload{
		File:    attachment.File{Name: md.Name(), ContentType: md.ContentType()},
		Options: attachment.UploadOptions{Owner: md.Owner(), Labels: md.Labels(), CreatedBy: q.c.Name},
	}
	if raw != "" {
		nu.Info = map[string]string{infoMetadata: raw}
	}
	if cv := r.Header.Values("Upload-Concat"); len(cv) > 0 {
		partial, urls, err := ParseConcat(cv[0])
		if err == nil && len(cv) > 1 {
			err = errors.New("Upload-Concat is sent twice")
		}
		if err != nil {
			q.fail(badRequest(err.Error()))
			return
		}
		nu.Partial = partial
		if !partial {
			if nu.File.Name == "" {
				nu.File.Name = q.l.opts.DefaultName
			}
			q.createFinal(urls, nu)
			return
		}
	}
	if nu.File.Name == "" && !nu.Partial {
		nu.File.Name = q.l.opts.DefaultName
	}
	lv, dv := r.Header.Values("Upload-Length"), r.Header.Get("Upload-Defer-Length")
	nu.Length = -1
	switch {
	case len(lv) > 0 && dv != "":
		q.fail(badRequest("Upload-Length and Upload-Defer-Length are exclusive"))
		return
	case len(lv) > 0:
		n, ok := parseSize(lv[0])
		if !ok || len(lv) > 1 {
			q.fail(badRequest("malformed Upload-Length"))
			return
		}
		nu.Length = n
	case dv != "1":
		q.fail(badRequest("Upload-Length, or Upload-Defer-Length: 1, is required"))
		return
	}
	length := nu.Length
	withBody := isOffsetStream(r) && r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody
	var sum *attachment.Checksum
	if withBody {
		if sum, err = q.checksum(); err != nil {
			q.fail(err)
			return
		}
	}
	if withBody && length >= 0 && r.ContentLength > length {
		q.fail(&attachment.Error{Kind: attachment.ErrTooLarge, Detail: "the body is longer than Upload-Length"})
		return
	}
	info, err := q.svc.CreateUpload(r.Context(), nu)
	if err != nil {
		q.fail(err)
		return
	}
	q.w.Header().Set("Location", q.uploadURL(info.ID))
	if withBody && info.Attachment == nil {
		next, err := q.appendBody(info.ID, 0, 0, sum)
		if err != nil {
			q.fail(err)
			return
		}
		info = next
	}
	q.setState(info)
	q.w.WriteHeader(http.StatusCreated)
}

// isOffsetStream reports whether r's body is application/offset+octet-stream.
func isOffsetStream(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == ContentType
}

// checksum reads the request's Upload-Checksum: nil when it has none.
func (q *request) checksum() (*attachment.Checksum, error) {
	v := q.r.Header.Values("Upload-Checksum")
	if len(v) == 0 {
		return nil, nil
	}
	if len(v) > 1 {
		return nil, badRequest("Upload-Checksum is sent twice")
	}
	sum, err := ParseChecksum(v[0])
	if err != nil {
		return nil, badRequest(err.Error())
	}
	return sum, nil
}

// appendBody appends r's body at offset to the upload id, checked
// against sum when not nil.
func (q *request) appendBody(id string, offset, setLength int64, sum *attachment.Checksum) (*attachment.UploadInfo, error) {
	var info *attachment.UploadInfo
	err := q.h.ReadStream(q.w, q.r, -1, func(body io.Reader) (err error) {
		info, err = q.svc.AppendUpload(q.r.Context(), id, q.c.Name, &attachment.AppendRequest{
			Offset: offset, Body: body, SetLength: setLength, Checksum: sum,
		})
		return err
	})
	return info, err
}

// head answers HEAD (and GET) /uploads/{id}: the upload's offset.
func (q *request) head(id string) {
	info, err := q.svc.GetUpload(q.r.Context(), id, q.c.Name)
	if err != nil {
		q.fail(err)
		return
	}
	hdr := q.w.Header()
	hdr.Set("Cache-Control", "no-store")
	q.setState(info)
	switch {
	case info.Attachment != nil:
		hdr.Set("Upload-Length", strconv.FormatInt(info.Attachment.Size, 10))
		if q.h.Allowed(q.r, q.c, attachment.OpRead, info.Attachment) == nil {
			hdr.Set("Location", q.base+"/"+info.ID)
		}
	case info.Length < 0:
		hdr.Set("Upload-Defer-Length", "1")
	default:
		hdr.Set("Upload-Length", strconv.FormatInt(info.Length, 10))
	}
	if md := info.Info[infoMetadata]; md != "" {
		hdr.Set("Upload-Metadata", md)
	}
	if info.Partial {
		hdr.Set("Upload-Concat", "partial")
	}
	q.w.WriteHeader(http.StatusNoContent)
}

// patch answers PATCH /uploads/{id}: an append at Upload-Offset.
func (q *request) patch(id string) {
	r := q.r
	if !isOffsetStream(r) {
		q.problem(http.StatusUnsupportedMediaType, wire.CodeBadRequest, "the body of a PATCH must be "+ContentType)
		return
	}
	offset, ok := parseSize(r.Header.Get("Upload-Offset"))
	if !ok {
		q.fail(badRequest("a non-negative Upload-Offset is required"))
		return
	}
	sum, err := q.checksum()
	if err != nil {
		q.fail(err)
		return
	}
	var setLength int64 = -1
	if v := r.Header.Get("Upload-Length"); v != "" {
		n, ok := parseSize(v)
		if !ok {
			q.fail(badRequest("malformed Upload-Length"))
			return
		}
		switch {
		case n > 0:
			setLength = n
		case offset > 0:
			q.fail(badRequest("Upload-Length is less than Upload-Offset"))
			return
		default:
			// AppendRequest declares a length only when positive: an empty
			// deferred upload ends with Complete.
			q.finishEmpty(id)
			return
		}
	}
	info, err := q.appendBody(id, offset, setLength, sum)
	if errors.Is(err, attachment.ErrNotFound) {
		// A replay of the last PATCH of an upload committed since: the
		// same offset, nothing more.
		if done, gerr := q.svc.GetUpload(r.Context(), id, q.c.Name); gerr == nil && done.Attachment != nil {
			if offset != done.Offset {
				err = &attachment.OffsetError{Expected: done.Offset, Provided: offset}
			} else {
				info, err = done, nil
			}
		}
	}
	if err != nil {
		q.fail(err)
		return
	}
	q.answerAppend(info)
}

// finishEmpty ends a deferred upload of no bytes (Upload-Length: 0 at
// offset 0).
func (q *request) finishEmpty(id string) {
	var info *attachment.UploadInfo
	err := q.h.ReadStream(q.w, q.r, 0, func(body io.Reader) (err error) {
		info, err = q.svc.AppendUpload(q.r.Context(), id, q.c.Name, &attachment.AppendRequest{Body: body, Complete: true})
		return err
	})
	if err != nil {
		q.fail(err)
		return
	}
	q.answerAppend(info)
}

// answerAppend answers an append that succeeded.
func (q *request) answerAppend(info *attachment.UploadInfo) {
	q.setState(info)
	if info.Attachment != nil {
		q.w.Header().Set("Location", q.base+"/"+info.ID)
	}
	q.w.WriteHeader(http.StatusNoContent)
}

// terminate answers DELETE /uploads/{id} (the termination extension).
func (q *request) terminate(id string) {
	if err := q.svc.TerminateUpload(q.r.Context(), id, q.c.Name); err != nil {
		q.fail(err)
		return
	}
	q.w.WriteHeader(http.StatusNoContent)
}
