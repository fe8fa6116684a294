package resumable

import (
	"bytes"
	"mime"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/internal/digest"
)

// create answers POST /uploads/ of the IETF draft: upload creation. The
// session is stored before any byte is read and announced by a 104
// (Upload Resumption Supported) with its Location; the body, if any, is
// then appended, and with Upload-Complete: ?1 completes the upload.
func (q *ietfRequest) create() {
	r := q.r
	if anyHeader(r, "Upload-Offset") {
		q.fail(badRequest("an upload creation takes no Upload-Offset"))
		return
	}
	complete, ok := sfBool(r.Header, "Upload-Complete")
	if !ok {
		q.fail(badRequest("an upload creation needs Upload-Complete: ?0 or ?1"))
		return
	}
	length, _, ok := q.lengthOf(0, complete)
	if !ok {
		return
	}
	nu, ok := q.newUpload(length, complete)
	if !ok {
		return
	}
	withBody := r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody
	if withBody && length >= 0 && r.ContentLength > length {
		q.fail(&attachment.Error{Kind: attachment.ErrTooLarge, Detail: "the body is longer than Upload-Length"})
		return
	}
	info, err := q.svc.CreateUpload(r.Context(), nu)
	if err != nil {
		q.fail(err)
		return
	}
	if info.Attachment != nil { // an empty upload, committed at once
		q.answerComplete(info.Attachment)
		return
	}
	hdr := q.w.Header()
	hdr.Set("Location", q.uploadURL(info.ID))
	if limit := q.limit(max(time.Until(info.ExpiresAt), 0)); limit != "" {
		hdr.Set("Upload-Limit", limit)
	}
	if r.ProtoAtLeast(1, 1) { // HTTP/1.0 has no interim answers
		hdr.Set("Upload-Draft-Interop-Version", strconv.Itoa(q.v))
		q.w.WriteHeader(StatusUploadResumptionSupported)
		// The final answer keeps Location and Upload-Limit (the header
		// map outlives the 104), not the interop version.
		hdr.Del("Upload-Draft-Interop-Version")
	}
	if withBody || complete {
		next, err := q.appendBody(info.ID, 0, length, complete, complete)
		if err != nil {
			q.fail(err)
			return
		}
		info = next
	}
	if info.Attachment != nil {
		q.answerComplete(info.Attachment)
		return
	}
	hdr.Set("Upload-Complete", "?0")
	hdr.Set("Upload-Offset", strconv.FormatInt(info.Offset, 10))
	q.w.WriteHeader(http.StatusCreated)
}

// newUpload describes the upload a creation asks for. Its name, claimed
// type, owner and labels come from Upload-Metadata as tus-js-client sends
// it in either protocol; failing that, as for the native raw upload: the
// name from the filename query parameter or Content-Disposition, the type
// from Content-Type, owner and label.KEY from the query. Its whole-file
// SHA-256 is Repr-Digest's, or with Upload-Complete: ?1 Content-Digest's
// (the request's content is then the whole file), with Content-MD5. It
// answers 400 and returns !ok when a header is malformed.
func (q *ietfRequest) newUpload(length int64, complete bool) (*attachment.NewUpload, bool) {
	r := q.r
	raw := r.Header.Get("Upload-Metadata")
	md, err := ParseMetadata(raw)
	if err != nil {
		q.fail(badRequest(err.Error()))
		return nil, false
	}
	query := r.URL.Query()
	name := md.Name()
	if name == "" {
		name = query.Get("filename")
	}
	if cd := r.Header.Get("Content-Disposition"); name == "" && cd != "" {
		if name, err = attachment.FilenameFromContentDisposition(cd); err != nil {
			q.fail(badRequest("malformed Content-Disposition header"))
			return nil, false
		}
	}
	if name == "" {
		name = q.l.opts.DefaultName
	}
	claim := md.ContentType()
	if claim == "" {
		claim = representationType(r)
	}
	opts := attachment.UploadOptions{Owner: md.Owner(), Labels: md.Labels(), CreatedBy: q.c.Name}
	if _, ok := md["owner"]; !ok {
		opts.Owner = query.Get("owner")
	}
	if opts.Labels == nil {
		if opts.Labels, err = queryLabels(query); err != nil {
			q.fail(err)
			return nil, false
		}
	}
	nu := &attachment.NewUpload{
		File:    attachment.File{Name: name, ContentType: claim},
		Length:  length,
		Options: opts,
	}
	if raw != "" {
		nu.Info = map[string]string{infoMetadata: raw}
	}
	if nu.File.SHA256, nu.File.MD5, err = wholeDigests(r.Header, complete); err != nil {
		q.fail(err)
		return nil, false
	}
	return nu, true
}

// representationType is the Content-Type of a creation's content, unless
// it is one of the protocols' own (application/partial-upload, which
// tus-js-client sends in 'ietf-draft-05', or tus's).
func representationType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil && (mt == PartialUploadType || mt == ContentType) {
		return ""
	}
	return ct
}

// queryLabels are the query's label.KEY parameters, as the native raw
// upload reads them; nil when there are none.
func queryLabels(query map[string][]string) (map[string]string, error) {
	var labels map[string]string
	for k, vs := range query {
		key, ok := strings.CutPrefix(k, "label.")
		if !ok {
			continue
		}
		if len(vs) > 1 {
			return nil, badRequest("label " + key + " is given more than once")
		}
		if labels == nil {
			labels = map[string]string{}
		}
		labels[key] = vs[0]
	}
	return labels, nil
}

// wholeDigests are the digests a creation says the whole file has: the
// sha-256 of Repr-Digest (RFC 9530, the same Dictionary as
// Content-Digest) and, when the request holds the whole file
// (Upload-Complete: ?1), Content-Digest's sha-256 and Content-MD5. Two
// SHA-256s that differ cannot both hold: 400.
func wholeDigests(h http.Header, complete bool) (sha, md5 []byte, err error) {
	var lines []string
	for _, l := range h.Values("Repr-Digest") {
		if strings.Trim(l, " \t") != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > 0 {
		e, err := digest.Parse(strings.Join(lines, ", "), "")
		if err != nil {
			return nil, nil, badRequest("malformed Repr-Digest header")
		}
		sha = e.SHA256
	}
	if !complete {
		return sha, nil, nil
	}
	e, err := digest.FromHeader(textproto.MIMEHeader(h))
	if err != nil {
		return nil, nil, badRequest("malformed Content-Digest or Content-MD5 header")
	}
	if e.SHA256 != nil {
		if sha != nil && !bytes.Equal(sha, e.SHA256) {
			return nil, nil, badRequest("Repr-Digest and Content-Digest name different SHA-256s")
		}
		sha = e.SHA256
	}
	return sha, e.MD5, nil
}
