package resumable

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dunglas/httpsfv"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/internal/digest"
	"github.com/attachkit/attachment/wire"
)

// The IETF draft "Resumable Uploads for HTTP" (draft-ietf-httpbis-
// resumable-upload) as this package speaks it, on the same endpoint as
// tus: a request is the draft's when its Upload-Draft-Interop-Version is
// one of InteropVersions, and tus's otherwise.

// PartialUploadType is the Content-Type of an append (PATCH) in the IETF
// draft; interop versions 6 and 8 require it.
const PartialUploadType = "application/partial-upload"

// StatusUploadResumptionSupported is the interim status (104) announcing
// an upload's Location to an IETF client before its content is read.
const StatusUploadResumptionSupported = 104

// InteropVersions returns the values of Upload-Draft-Interop-Version
// served as the IETF draft: 5 (draft -03, tus-js-client's
// 'ietf-draft-03'), 6 (drafts -04 and -05, tus-js-client's
// 'ietf-draft-05') and 8 (drafts -09 to -11, the latest). Any other value
// leaves the request to tus, which answers 412 without Tus-Resumable:
// 1.0.0, and never with a 104.
func InteropVersions() []int { return []int{5, 6, 8} }

// problemTypes is the registry of the draft's problem types.
const problemTypes = "https://iana.org/assignments/http-problem-types#"

// ietfVersion returns the interop version r asks for, if it is one the
// layer speaks. The header is a Structured Fields Integer; anything else
// is no version.
func ietfVersion(r *http.Request) (int, bool) {
	vs := r.Header.Values("Upload-Draft-Interop-Version")
	if len(vs) == 0 {
		return 0, false
	}
	item, err := httpsfv.UnmarshalItem(vs)
	if err != nil {
		return 0, false
	}
	n, ok := item.Value.(int64)
	if !ok || !slices.Contains(InteropVersions(), int(n)) {
		return 0, false
	}
	return int(n), true
}

// sfInt reads a header that is a non-negative Structured Fields Integer
// (Upload-Offset, Upload-Length). present says the header was sent; a
// value that is not such an integer is not ok (the draft has it ignored).
func sfInt(h http.Header, name string) (n int64, present, ok bool) {
	vs := h.Values(name)
	if len(vs) == 0 {
		return 0, false, false
	}
	item, err := httpsfv.UnmarshalItem(vs)
	if err != nil {
		return 0, true, false
	}
	n, ok = item.Value.(int64)
	return n, true, ok && n >= 0
}

// sfBool reads a header that is a Structured Fields Boolean
// (Upload-Complete): its value, and whether it was sent well-formed.
func sfBool(h http.Header, name string) (v, ok bool) {
	vs := h.Values(name)
	if len(vs) == 0 {
		return false, false
	}
	item, err := httpsfv.UnmarshalItem(vs)
	if err != nil {
		return false, false
	}
	v, ok = item.Value.(bool)
	return v, ok
}

// ietfRequest is one request of the IETF draft being served.
type ietfRequest struct {
	request
	v int // the interop version

	// What the next problem written adds: the draft's problem type and
	// the members of a mismatching offset.
	ptype, ptitle      string
	expected, provided *int64
}

// ietfProblem is a problem+json body with the draft's members.
type ietfProblem struct {
	*attachment.Problem
	ExpectedOffset *int64 `json:"expected-offset,omitempty"`
	ProvidedOffset *int64 `json:"provided-offset,omitempty"`
}

// serveIETF answers r, a request of the IETF draft in interop version v.
func (l *Layer) serveIETF(h *attachment.Handler, w http.ResponseWriter, r *http.Request, v int) {
	q := &ietfRequest{request: request{l: l, w: w, r: r}, v: v}
	method, rest, ok := q.route(h, q.writeProblem, nil)
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
		q.cancel(rest)
	}
}

// writeProblem writes p as problem+json, with the draft's type and
// members when the request set them (attachment.ProblemWriter). An error
// answer names no upload: the Location a 104 announced is dropped.
func (q *ietfRequest) writeProblem(w http.ResponseWriter, r *http.Request, p *attachment.Problem) {
	hdr := w.Header()
	hdr.Del("Location")
	hdr.Del("Upload-Limit")
	if p.Status == http.StatusRequestEntityTooLarge {
		if limit := q.limit(-1); limit != "" {
			hdr.Set("Upload-Limit", limit)
		}
	}
	body := ietfProblem{Problem: p}
	if q.ptype != "" {
		cp := *p
		cp.Type, cp.Title = q.ptype, q.ptitle
		body = ietfProblem{Problem: &cp, ExpectedOffset: q.expected, ProvidedOffset: q.provided}
	}
	b, _ := json.Marshal(body)
	hdr.Set("Content-Type", "application/problem+json")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(p.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(append(b, '\n'))
	}
}

// fail answers err through the Handler: an expired upload is 404 (not
// active), a wrong offset 409 with Upload-Offset (and from version 6 the
// draft's mismatching-upload-offset problem, from version 8 with
// Upload-Complete: ?0), a locked upload 423 with Retry-After.
func (q *ietfRequest) fail(err error) {
	hdr := q.w.Header()
	var (
		oe *attachment.OffsetError
		le *attachment.LockedError
	)
	switch {
	case errors.Is(err, attachment.ErrGone):
		err = &attachment.Error{Kind: attachment.ErrNotFound, Detail: "the upload is not active: it has expired"}
	case errors.As(err, &oe):
		hdr.Set("Upload-Offset", strconv.FormatInt(oe.Expected, 10))
		if q.v >= 6 {
			q.ptype, q.ptitle = problemTypes+"mismatching-upload-offset", "Mismatching upload offset"
			q.expected, q.provided = &oe.Expected, &oe.Provided
		}
		if q.v >= 8 {
			hdr.Set("Upload-Complete", "?0")
		}
	case errors.As(err, &le):
		wait := 1
		if !le.Until.IsZero() {
			wait = max(1, int(time.Until(le.Until).Seconds()+0.999))
		}
		hdr.Set("Retry-After", strconv.Itoa(wait))
	}
	q.h.WriteError(q.w, q.r, err)
}

// inconsistent answers 400 for length indications that disagree (from
// version 8 with the draft's inconsistent-upload-length problem).
func (q *ietfRequest) inconsistent(detail string) {
	if q.v >= 8 {
		q.ptype, q.ptitle = problemTypes+"inconsistent-upload-length", "Inconsistent upload length"
	}
	q.fail(badRequest(detail))
}

// completed answers 400 for an append to an upload already complete
// (from version 6 with the draft's completed-upload problem).
func (q *ietfRequest) completed() {
	if q.v >= 6 {
		q.ptype, q.ptitle = problemTypes+"completed-upload", "Completed upload"
	}
	q.fail(badRequest("the upload is complete: nothing can be appended to it"))
}

// limit is the Upload-Limit of an upload that expires in age (negative:
// not said), "" for version 5.
func (q *ietfRequest) limit(age time.Duration) string {
	return uploadLimit(q.v, q.max, q.h.Options().MaxRequestSize, age)
}

// options answers OPTIONS: tus's answer, and from version 6 the draft's
// Upload-Limit and Accept-Patch.
func (q *ietfRequest) options() {
	hdr := q.w.Header()
	if limit := q.limit(q.svc.Options().UploadExpiry); limit != "" {
		hdr.Set("Upload-Limit", limit)
		hdr.Set("Accept-Patch", PartialUploadType)
	}
	q.request.options()
}

// anyHeader reports whether r carries one of the headers.
func anyHeader(r *http.Request, names ...string) bool {
	for _, n := range names {
		if len(r.Header.Values(n)) > 0 {
			return true
		}
	}
	return false
}

// head answers HEAD (and GET) /uploads/{id}: offset retrieval.
func (q *ietfRequest) head(id string) {
	forbidden := []string{"Upload-Offset", "Upload-Complete"}
	if q.v >= 6 {
		forbidden = append(forbidden, "Upload-Length")
	}
	if anyHeader(q.r, forbidden...) {
		q.fail(badRequest("offset retrieval takes none of " + strings.Join(forbidden, ", ")))
		return
	}
	info, err := q.svc.GetUpload(q.r.Context(), id, q.c.Name)
	if err != nil {
		q.fail(err)
		return
	}
	hdr := q.w.Header()
	hdr.Set("Cache-Control", "no-store")
	age := time.Duration(-1)
	if a := info.Attachment; a != nil {
		hdr.Set("Upload-Complete", "?1")
		hdr.Set("Upload-Offset", strconv.FormatInt(a.Size, 10))
		hdr.Set("Upload-Length", strconv.FormatInt(a.Size, 10))
		if q.h.Allowed(q.r, q.c, attachment.OpRead, a) == nil {
			hdr.Set("Location", q.base+"/"+url.PathEscape(a.ID))
		}
	} else {
		hdr.Set("Upload-Complete", "?0")
		hdr.Set("Upload-Offset", strconv.FormatInt(info.Offset, 10))
		if info.Length >= 0 {
			hdr.Set("Upload-Length", strconv.FormatInt(info.Length, 10))
		}
		age = max(time.Until(info.ExpiresAt), 0)
	}
	if limit := q.limit(age); limit != "" {
		hdr.Set("Upload-Limit", limit)
	}
	q.w.WriteHeader(http.StatusNoContent)
}

// cancel answers DELETE /uploads/{id}: upload cancellation.
func (q *ietfRequest) cancel(id string) {
	if anyHeader(q.r, "Upload-Offset", "Upload-Complete") {
		q.fail(badRequest("upload cancellation takes neither Upload-Offset nor Upload-Complete"))
		return
	}
	if err := q.svc.TerminateUpload(q.r.Context(), id, q.c.Name); err != nil {
		q.fail(err)
		return
	}
	q.w.WriteHeader(http.StatusNoContent)
}

// isPartialUpload reports whether r's body is application/partial-upload.
func isPartialUpload(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == PartialUploadType
}

// patch answers PATCH /uploads/{id}: an append at Upload-Offset, which
// completes the upload when Upload-Complete is ?1.
func (q *ietfRequest) patch(id string) {
	r := q.r
	if q.v >= 6 && !isPartialUpload(r) {
		q.problem(http.StatusUnsupportedMediaType, wire.CodeBadRequest, "the body of an append must be "+PartialUploadType)
		return
	}
	offset, _, ok := sfInt(r.Header, "Upload-Offset")
	if !ok {
		q.fail(badRequest("an append needs Upload-Offset: a non-negative integer"))
		return
	}
	// A missing Upload-Complete is ?0 (as tusd has it): the upload goes on.
	complete, _ := sfBool(r.Header, "Upload-Complete")
	length, told, ok := q.lengthOf(offset, complete)
	if !ok {
		return
	}
	info, err := q.appendBody(id, offset, length, complete, false)
	switch {
	case errors.Is(err, attachment.ErrNotFound):
		q.appendToCommitted(id, offset, complete, err)
	case err != nil && told && errors.Is(err, attachment.ErrInvalid):
		// The engine refused the length the request indicates.
		q.inconsistent(err.Error())
	case err != nil:
		q.fail(err)
	default:
		q.answerAppend(info)
	}
}

// lengthOf is the upload's length as the request indicates it, by
// Upload-Length or by Upload-Complete: ?1 with a Content-Length (offset
// plus the content's), or -1; told says the request indicated one. When
// the two disagree it answers 400 and returns !ok.
func (q *ietfRequest) lengthOf(offset int64, complete bool) (length int64, told, ok bool) {
	length = -1
	if n, _, ok := sfInt(q.r.Header, "Upload-Length"); ok {
		length, told = n, true
	}
	if complete && q.r.ContentLength >= 0 {
		total := offset + q.r.ContentLength
		if told && total != length {
			q.inconsistent("Upload-Length is " + strconv.FormatInt(length, 10) + " but the upload completes at " + strconv.FormatInt(total, 10) + " bytes")
			return 0, false, false
		}
		length, told = total, true
	}
	return length, told, true
}

// appendBody appends r's body at offset to the upload id, declaring its
// length (positive) and its completion. When the request is an append,
// or a creation that does not hold the whole file, its Content-Digest
// (sha-256) or Content-MD5 covers this request's content only: a body
// that does not match is discarded whole (400 checksum_mismatch) and
// the offset stays.
func (q *ietfRequest) appendBody(id string, offset, length int64, complete, wholeFile bool) (*attachment.UploadInfo, error) {
	var sum *attachment.Checksum
	if !wholeFile {
		e, err := digest.FromHeader(textproto.MIMEHeader(q.r.Header))
		if err != nil {
			return nil, badRequest("malformed Content-Digest or Content-MD5 header")
		}
		switch {
		case e.SHA256 != nil:
			sum = &attachment.Checksum{Hash: sha256.New(), Sum: e.SHA256}
		case e.MD5 != nil:
			sum = &attachment.Checksum{Hash: md5.New(), Sum: e.MD5}
		}
	}
	var info *attachment.UploadInfo
	err := q.h.ReadStream(q.w, q.r, -1, func(body io.Reader) (err error) {
		info, err = q.svc.AppendUpload(q.r.Context(), id, q.c.Name, &attachment.AppendRequest{
			Offset: offset, Body: body, SetLength: length, Complete: complete, Checksum: sum,
		})
		return err
	})
	return info, err
}

// appendToCommitted answers an append to an ID that has no session: an
// upload committed already, or none (err). From version 8, repeating the
// completing request without content (Upload-Complete: ?1 at the
// upload's size) gets the completion's answer again.
func (q *ietfRequest) appendToCommitted(id string, offset int64, complete bool, err error) {
	info, gerr := q.svc.GetUpload(q.r.Context(), id, q.c.Name)
	if gerr != nil || info.Attachment == nil {
		q.fail(err)
		return
	}
	a := info.Attachment
	switch {
	case q.v >= 8 && complete && q.r.ContentLength == 0 && offset == a.Size &&
		q.h.Allowed(q.r, q.c, attachment.OpRead, a) == nil:
		q.answerComplete(a)
	case q.v >= 8 && q.r.ContentLength != 0:
		q.inconsistent("the upload is complete at " + strconv.FormatInt(a.Size, 10) + " bytes: nothing can be appended to it")
	default:
		q.completed()
	}
}

// answerAppend answers an append that succeeded: 204 with the new offset,
// or the completion's answer.
func (q *ietfRequest) answerAppend(info *attachment.UploadInfo) {
	if info.Attachment != nil {
		q.answerComplete(info.Attachment)
		return
	}
	hdr := q.w.Header()
	hdr.Set("Upload-Complete", "?0")
	hdr.Set("Upload-Offset", strconv.FormatInt(info.Offset, 10))
	q.w.WriteHeader(http.StatusNoContent)
}

// completion is the body of the answer that completes an upload: the
// native upload's.
type completion struct {
	Attachments []*attachment.Attachment `json:"attachments"`
}

// answerComplete answers the request that completed the upload of a as
// the native upload answers: 201, Location: {prefix}/{id} and
// {"attachments":[a]}, with Upload-Complete: ?1 and Upload-Offset.
func (q *ietfRequest) answerComplete(a *attachment.Attachment) {
	hdr := q.w.Header()
	hdr.Del("Upload-Limit")
	q.h.Decorate(q.base, a)
	hdr.Set("Location", a.URL)
	hdr.Set("Upload-Complete", "?1")
	hdr.Set("Upload-Offset", strconv.FormatInt(a.Size, 10))
	if err := attachment.WriteJSON(q.w, q.r, http.StatusCreated, completion{Attachments: []*attachment.Attachment{a}}); err != nil {
		q.fail(err)
	}
}
