package e2e_test

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/internal/e2e/openapitest"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/resumable"
	"github.com/attachkit/attachment/storage"
)

// uploadsUnseen are the documented responses of the resumable upload
// routes that TestOpenAPIResumableUploads does not produce, with why.
var uploadsUnseen = map[string]string{
	"POST /uploads/ 104": "an interim answer: the Validator sees final answers only (the client gets it)",
	"POST /uploads/ 409": "a write conflict: an ID collision in the store",
	"POST /uploads/ 410": "a final concatenation naming a partial that expired meanwhile",
	"POST /uploads/ 423": "a final concatenation naming a partial another request holds",
}

// uploadsUnreachable reports whether a documented response needs a
// failing store, a race or a server error, which no test here makes: 5xx,
// 423 (another request holding the upload), and every status of the
// override POST but those driven (it is PATCH and DELETE by another name).
func uploadsUnreachable(k string) bool {
	switch {
	case strings.HasSuffix(k, " 500"), strings.HasSuffix(k, " 503"), strings.HasSuffix(k, " 507"), strings.HasSuffix(k, " 423"):
		return true
	case strings.HasPrefix(k, "POST /uploads/{id} "):
		return !slices.Contains([]string{"POST /uploads/{id} 204", "POST /uploads/{id} 405", "POST /uploads/{id} 412"}, k)
	case strings.HasPrefix(k, "OPTIONS /uploads/{id} "):
		return k != "OPTIONS /uploads/{id} 204"
	case strings.HasPrefix(k, "GET /uploads/{id} "):
		return k != "GET /uploads/{id} 204" && k != "GET /uploads/{id} 404"
	}
	_, ok := uploadsUnseen[k]
	return ok
}

// newUploadsServer is an oaServer whose handler serves resumable uploads
// (resumable.New) under /api/files, and under /short with uploads that
// expire at once, each behind a Validator.
func newUploadsServer(t *testing.T) (s *oaServer, short *openapitest.Validator) {
	t.Helper()
	newSvc := func(expiry time.Duration) *attachment.Service {
		bucket := memblob.OpenBucket(nil)
		meta := memstore.New()
		svc, err := attachment.New(storage.New(bucket), meta, &attachment.Options{
			MaxFileSize:  64 << 10,
			AllowedTypes: []string{"text/plain", "application/octet-stream"},
			UploadExpiry: expiry,
		})
		require.NoError(t, err)
		t.Cleanup(func() { svc.Close(); bucket.Close(); meta.Close() })
		return svc
	}
	const prefix = "/api/files"
	mainH := attachment.NewHandler(newSvc(0), &attachment.HandlerOptions{Prefix: prefix, Access: oaAccess,
		UploadIdleTimeout: oaIdle, Uploads: resumable.New(nil)})
	shortH := attachment.NewHandler(newSvc(time.Millisecond), &attachment.HandlerOptions{Prefix: "/short", Access: oaAccess,
		Uploads: resumable.New(nil)})
	s = &oaServer{t: t, prefix: prefix, main: openapitest.New(t, mainH, prefix)}
	short = openapitest.New(t, shortH, "/short")
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", s.main)
	mux.Handle("/short/", short)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s, short
}

// tusHdr are the headers of a tus request that carries a body.
func tusHdr(kv ...string) []string {
	return append([]string{"Tus-Resumable", "1.0.0", "Content-Type", resumable.ContentType}, kv...)
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestOpenAPIResumableUploads drives the resumable upload routes
// (HandlerOptions.Uploads: resumable.New) through a Validator, tus and the
// IETF draft (interop versions 5, 6 and 8): every request and answer must
// match openapi.json, every status answered must be documented for its
// operation, the routes and methods the layer says it takes (its Allow
// headers) must be the document's, and every documented response must be
// seen but those uploadsUnreachable names.
func TestOpenAPIResumableUploads(t *testing.T) {
	s, short := newUploadsServer(t)
	p := s.prefix + "/uploads/"
	loc := func(r oaResp) string {
		l := r.header.Get("Location")
		require.NotEmpty(t, l)
		require.True(t, strings.HasPrefix(l, p), l)
		return l
	}
	// create makes a tus upload of length n and returns its path.
	create := func(n int, kv ...string) string {
		return loc(s.expect(201, "", "POST", p, nil, append([]string{"Tus-Resumable", "1.0.0", "Upload-Length", fmt.Sprint(n)}, kv...)...))
	}

	// The routes and methods: what the layer's Allow headers list, and
	// POST to an upload (X-HTTP-Method-Override), are the document's.
	doc, err := openapitest.LoadDocument()
	require.NoError(t, err)
	var ops []string
	for _, op := range openapitest.Operations(doc) {
		if strings.Contains(op, " /uploads/") {
			ops = append(ops, op)
		}
	}
	var want []string
	for _, route := range []string{"/uploads/", "/uploads/{id}"} {
		r := s.expect(405, "bad_request", "PUT", s.prefix+strings.ReplaceAll(route, "{id}", "x"), nil, "Tus-Resumable", "1.0.0")
		for m := range strings.SplitSeq(r.header.Get("Allow"), ", ") {
			want = append(want, m+" "+route)
		}
	}
	want = append(want, "POST /uploads/{id}")
	assert.ElementsMatch(t, want, ops, "the document's /uploads operations are not the layer's")
	s.expect(405, "bad_request", "GET", p, nil)

	// tus: discovery, the version check, creation's errors.
	r := s.expect(204, "", "OPTIONS", p, nil)
	assert.Equal(t, resumable.Extensions, r.header.Get("Tus-Extension"))
	assert.Equal(t, fmt.Sprint(64<<10), r.header.Get("Tus-Max-Size"))
	s.expect(412, "bad_request", "POST", p, nil, "Upload-Length", "3")
	s.expect(412, "bad_request", "POST", p, nil, "Upload-Length", "3", "Tus-Resumable", "0.2.2")
	s.expect(400, "bad_request", "POST", p, nil, "Tus-Resumable", "1.0.0")
	s.expect(400, "bad_request", "POST", p, nil, "Tus-Resumable", "1.0.0", "Upload-Length", "3", "Upload-Defer-Length", "1")
	s.expect(400, "bad_request", "POST", p, nil, "Tus-Resumable", "1.0.0", "Upload-Length", "3", "Upload-Metadata", "filename !!")
	s.expect(400, "invalid_filename", "POST", p, nil, "Tus-Resumable", "1.0.0", "Upload-Length", "3", "Upload-Metadata", "filename "+b64("/"))
	r = s.expect(413, "too_large", "POST", p, nil, "Tus-Resumable", "1.0.0", "Upload-Length", fmt.Sprint(64<<10+1))
	assert.Equal(t, fmt.Sprint(64<<10), r.header.Get("Tus-Max-Size"))
	s.expect(401, "unauthorized", "POST", p, nil, "Tus-Resumable", "1.0.0", "Upload-Length", "3", "X-Auth", "none")
	s.expect(403, "forbidden", "POST", p, nil, "Tus-Resumable", "1.0.0", "Upload-Length", "3", "X-Deny", "upload")
	s.expect(404, "not_found", "POST", p, nil, "Tus-Resumable", "1.0.0", "Upload-Length", "3", "X-Auth", "hide")
	s.expect(401, "unauthorized", "OPTIONS", p, nil, "X-Auth", "none")
	s.expect(403, "forbidden", "OPTIONS", p, nil, "X-Auth", "forbid")
	s.expect(404, "not_found", "OPTIONS", p, nil, "X-Auth", "hide")

	// tus: an upload in three appends, one refused for its checksum.
	up := create(11, "Upload-Metadata", "filename "+b64("hello.txt")+",filetype "+b64("text/plain")+",label.k "+b64("v"))
	s.expect(204, "", "OPTIONS", up, nil)
	r = s.expect(204, "", "HEAD", up, nil)
	assert.Equal(t, "0", r.header.Get("Upload-Offset"))
	assert.Equal(t, "11", r.header.Get("Upload-Length"))
	s.expect(204, "", "GET", up, nil)
	s.expect(412, "bad_request", "PATCH", up, strings.NewReader("hello"), "Upload-Offset", "0", "Content-Type", resumable.ContentType)
	s.expect(415, "bad_request", "PATCH", up, strings.NewReader("hello"), "Tus-Resumable", "1.0.0", "Upload-Offset", "0", "Content-Type", "text/plain")
	s.expect(400, "bad_request", "PATCH", up, strings.NewReader("hello"), tusHdr("Upload-Offset", "-1")...)
	s.expect(400, "bad_request", "PATCH", up, strings.NewReader("hello"), tusHdr("Upload-Offset", "0", "Upload-Checksum", "crc32 AAAA")...)
	r = s.expect(409, "offset_mismatch", "PATCH", up, strings.NewReader("hello"), tusHdr("Upload-Offset", "5")...)
	assert.Equal(t, "0", r.header.Get("Upload-Offset"))
	wrong := sha1.Sum([]byte("other"))
	s.expect(460, "checksum_mismatch", "PATCH", up, strings.NewReader("hello"),
		tusHdr("Upload-Offset", "0", "Upload-Checksum", "sha1 "+base64.StdEncoding.EncodeToString(wrong[:]))...)
	sum := sha1.Sum([]byte("hello "))
	r = s.expect(204, "", "PATCH", up, strings.NewReader("hello "),
		tusHdr("Upload-Offset", "0", "Upload-Checksum", "sha1 "+base64.StdEncoding.EncodeToString(sum[:]))...)
	assert.Equal(t, "6", r.header.Get("Upload-Offset"))
	s.expect(413, "too_large", "PATCH", up, strings.NewReader("world and more"), tusHdr("Upload-Offset", "6")...)
	s.expect(405, "bad_request", "POST", up, strings.NewReader("world"), tusHdr("Upload-Offset", "6")...)
	r = s.expect(204, "", "POST", up, strings.NewReader("world"), tusHdr("Upload-Offset", "6", "X-HTTP-Method-Override", "PATCH")...)
	id := path.Base(up)
	assert.Equal(t, s.prefix+"/"+id, r.header.Get("Location"))
	r = s.expect(204, "", "HEAD", up, nil)
	assert.Equal(t, s.prefix+"/"+id, r.header.Get("Location"))
	s.expect(404, "not_found", "DELETE", up, nil, "Tus-Resumable", "1.0.0")
	s.expect(200, "", "GET", s.prefix+"/"+id, nil)

	// tus: creation-with-upload, a deferred length, an unsupported type,
	// termination (also by override), another caller's upload.
	r = s.expect(460, "checksum_mismatch", "POST", p, strings.NewReader("abc"),
		tusHdr("Upload-Length", "3", "Upload-Checksum", "sha1 "+base64.StdEncoding.EncodeToString(wrong[:]))...)
	assert.NotEmpty(t, r.header.Get("Location"), "the upload was created before its first bytes were refused")
	r = s.expect(201, "", "POST", p, strings.NewReader("abc"), tusHdr("Upload-Length", "3")...)
	assert.Equal(t, "3", r.header.Get("Upload-Offset"))
	deferred := loc(s.expect(201, "", "POST", p, nil, "Tus-Resumable", "1.0.0", "Upload-Defer-Length", "1"))
	r = s.expect(204, "", "HEAD", deferred, nil)
	assert.Equal(t, "1", r.header.Get("Upload-Defer-Length"))
	s.expect(400, "bad_request", "PATCH", deferred, strings.NewReader("ab"), tusHdr("Upload-Offset", "0", "Upload-Length", "x")...)
	s.expect(204, "", "PATCH", deferred, strings.NewReader("ab"), tusHdr("Upload-Offset", "0", "Upload-Length", "2")...)
	png := transparentPNG(t)
	img := create(len(png))
	s.expect(415, "unsupported_type", "PATCH", img, bytes.NewReader(png), tusHdr("Upload-Offset", "0")...)
	s.expect(415, "unsupported_type", "POST", p, bytes.NewReader(png), tusHdr("Upload-Length", fmt.Sprint(len(png)))...)
	gone := create(5)
	s.expect(404, "not_found", "HEAD", gone, nil, "Name", "x", "X-Tenant", "t2")
	s.expect(401, "unauthorized", "HEAD", gone, nil, "X-Auth", "none")
	s.expect(403, "forbidden", "DELETE", gone, nil, "Tus-Resumable", "1.0.0", "X-Auth", "forbid")
	s.expect(401, "unauthorized", "PATCH", gone, strings.NewReader("x"), tusHdr("Upload-Offset", "0", "X-Auth", "none")...)
	s.expect(403, "forbidden", "PATCH", gone, strings.NewReader("x"), tusHdr("Upload-Offset", "0", "X-Deny", "upload")...)
	s.expect(404, "not_found", "PATCH", gone, strings.NewReader("x"), tusHdr("Upload-Offset", "0", "X-Auth", "hide")...)
	s.expect(403, "forbidden", "HEAD", gone, nil, "X-Deny", "all")
	s.expect(401, "unauthorized", "DELETE", gone, nil, "Tus-Resumable", "1.0.0", "X-Auth", "none")
	s.expect(404, "not_found", "DELETE", gone, nil, "Tus-Resumable", "1.0.0", "X-Auth", "hide")
	s.expect(412, "bad_request", "DELETE", gone, nil)
	s.expect(204, "", "DELETE", gone, nil, "Tus-Resumable", "1.0.0")
	s.expect(404, "not_found", "HEAD", gone, nil)
	s.expect(404, "not_found", "GET", gone, nil)
	s.expect(404, "not_found", "PATCH", gone, strings.NewReader("x"), tusHdr("Upload-Offset", "0")...)
	s.expect(204, "", "POST", create(5), nil, "Tus-Resumable", "1.0.0", "X-HTTP-Method-Override", "DELETE")
	s.expect(412, "bad_request", "POST", create(5), nil, "X-HTTP-Method-Override", "DELETE")

	// tus: concatenation.
	var parts []string
	for _, c := range []string{"ab", "cd"} {
		u := create(2, "Upload-Concat", "partial")
		s.expect(204, "", "PATCH", u, strings.NewReader(c), tusHdr("Upload-Offset", "0")...)
		parts = append(parts, u)
	}
	r = s.expect(201, "", "POST", p, nil, "Tus-Resumable", "1.0.0", "Upload-Concat", "final;"+strings.Join(parts, " "),
		"Upload-Metadata", "filename "+b64("joined.txt"))
	assert.Equal(t, "4", r.header.Get("Upload-Length"))
	s.expect(400, "bad_request", "POST", p, nil, "Tus-Resumable", "1.0.0", "Upload-Concat", "final;/elsewhere/x")

	// tus: an append that stalls is a 408.
	stalled := create(100)
	s.expectStalled("PATCH", stalled, "Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: "+resumable.ContentType+"\r\n")
	s.expectStalled("POST", p, "Tus-Resumable: 1.0.0\r\nUpload-Defer-Length: 1\r\nContent-Type: "+resumable.ContentType+"\r\n")

	// An upload that expired: 410 for tus, 404 for the IETF draft.
	sp := "/short/uploads/"
	sr := s.expect(201, "", "POST", sp, nil, "Tus-Resumable", "1.0.0", "Upload-Length", "4")
	old := sr.header.Get("Location")
	time.Sleep(20 * time.Millisecond)
	s.expect(410, "gone", "HEAD", old, nil)
	s.expect(410, "gone", "PATCH", old, strings.NewReader("ab"), tusHdr("Upload-Offset", "0")...)
	s.expect(404, "not_found", "HEAD", old, nil, "Upload-Draft-Interop-Version", "8")

	// The IETF draft, interop version 8: a creation that is the whole
	// file, one in two appends, and the draft's errors.
	ietf := func(v int, kv ...string) []string {
		return append([]string{"Upload-Draft-Interop-Version", fmt.Sprint(v)}, kv...)
	}
	r = s.expect(204, "", "OPTIONS", p, nil, ietf(8)...)
	assert.NotEmpty(t, r.header.Get("Upload-Limit"))
	r = s.expect(201, "", "POST", p+"?filename=whole.txt", strings.NewReader("whole file"), ietf(8, "Upload-Complete", "?1", "Content-Type", "text/plain")...)
	assert.Equal(t, "?1", r.header.Get("Upload-Complete"))
	assert.Equal(t, "whole.txt", decode[uploadResult](t, r.body).Attachments[0].Filename)
	s.expect(400, "bad_request", "POST", p, nil, ietf(8)...)
	s.expect(400, "bad_request", "POST", p, nil, ietf(8, "Upload-Complete", "?0", "Upload-Offset", "0")...)
	r = s.expect(413, "too_large", "POST", p, nil, ietf(8, "Upload-Complete", "?0", "Upload-Length", fmt.Sprint(64<<10+1))...)
	assert.NotEmpty(t, r.header.Get("Upload-Limit"))
	digest := sha256.Sum256([]byte("other"))
	s.expect(400, "checksum_mismatch", "POST", p, strings.NewReader("whole file"), ietf(8, "Upload-Complete", "?1",
		"Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(digest[:])+":")...)
	u8 := loc(s.expect(201, "", "POST", p, nil, ietf(8, "Upload-Complete", "?0", "Upload-Metadata", "filename "+b64("two.txt"))...))
	r = s.expect(204, "", "HEAD", u8, nil, ietf(8)...)
	assert.Equal(t, "?0", r.header.Get("Upload-Complete"))
	s.expect(400, "bad_request", "HEAD", u8, nil, ietf(8, "Upload-Offset", "0")...)
	s.expect(400, "bad_request", "DELETE", u8, nil, ietf(8, "Upload-Offset", "0")...)
	s.expect(400, "bad_request", "PATCH", u8, strings.NewReader("one "), ietf(8, "Content-Type", resumable.PartialUploadType)...)
	r = s.expect(409, "offset_mismatch", "PATCH", u8, strings.NewReader("one "), ietf(8, "Upload-Offset", "2", "Content-Type", resumable.PartialUploadType)...)
	assert.Equal(t, "?0", r.header.Get("Upload-Complete"))
	assert.Contains(t, string(r.body), `"expected-offset":0`)
	s.expect(415, "bad_request", "PATCH", u8, strings.NewReader("one "), ietf(8, "Upload-Offset", "0", "Content-Type", "text/plain")...)
	s.expect(400, "checksum_mismatch", "PATCH", u8, strings.NewReader("one "), ietf(8, "Upload-Offset", "0", "Content-Type", resumable.PartialUploadType,
		"Content-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(digest[:])+":")...)
	s.expect(204, "", "PATCH", u8, strings.NewReader("one "), ietf(8, "Upload-Offset", "0", "Upload-Complete", "?0", "Content-Type", resumable.PartialUploadType)...)
	s.expect(400, "bad_request", "PATCH", u8, strings.NewReader("two"), ietf(8, "Upload-Offset", "4", "Upload-Complete", "?1", "Upload-Length", "9", "Content-Type", resumable.PartialUploadType)...)
	r = s.expect(201, "", "PATCH", u8, strings.NewReader("two"), ietf(8, "Upload-Offset", "4", "Upload-Complete", "?1", "Content-Type", resumable.PartialUploadType)...)
	assert.Equal(t, "two.txt", decode[uploadResult](t, r.body).Attachments[0].Filename)
	s.expect(201, "", "PATCH", u8, nil, ietf(8, "Upload-Offset", "7", "Upload-Complete", "?1", "Content-Type", resumable.PartialUploadType)...)
	s.expect(400, "bad_request", "PATCH", u8, strings.NewReader("more"), ietf(8, "Upload-Offset", "7", "Content-Type", resumable.PartialUploadType)...)
	r = s.expect(204, "", "HEAD", u8, nil, ietf(8)...)
	assert.Equal(t, "?1", r.header.Get("Upload-Complete"))

	// Versions 6 and 5: a completed upload, a cancellation.
	u6 := loc(s.expect(201, "", "POST", p, nil, ietf(6, "Upload-Complete", "?0")...))
	r = s.expect(204, "", "HEAD", u6, nil, ietf(6)...)
	assert.NotEmpty(t, r.header.Get("Upload-Limit"))
	s.expect(201, "", "PATCH", u6, strings.NewReader("six"), ietf(6, "Upload-Offset", "0", "Upload-Complete", "?1", "Content-Type", resumable.PartialUploadType)...)
	s.expect(400, "bad_request", "PATCH", u6, strings.NewReader("x"), ietf(6, "Upload-Offset", "3", "Content-Type", resumable.PartialUploadType)...)
	u5 := loc(s.expect(201, "", "POST", p, nil, ietf(5, "Upload-Complete", "?0")...))
	s.expect(204, "", "PATCH", u5, strings.NewReader("five"), ietf(5, "Upload-Offset", "0", "Content-Type", "text/plain")...)
	s.expect(204, "", "DELETE", u5, nil, ietf(5)...)

	// Every exchange was checked; every documented response was seen but
	// those no test here can reach.
	assert.Equal(t, s.exchange, s.main.Count()+short.Count())
	seen := s.main.Seen()
	for k, n := range short.Seen() {
		seen[k] += n
	}
	var unseen []string
	for _, k := range openapitest.Responses(doc) {
		if strings.Contains(k, " /uploads/") && seen[k] == 0 && !uploadsUnreachable(k) {
			unseen = append(unseen, k)
		}
	}
	assert.Empty(t, unseen, "documented responses of the resumable upload routes no request produced")
	for k := range uploadsUnseen {
		assert.Zero(t, seen[k], "%s is produced now: drop it from uploadsUnseen", k)
	}
}

// expectStalled sends a request to path with the header lines hdr,
// declaring a body too long for the Validator to buffer, sends 10 bytes of
// it, stalls, and checks that the answer is a 408.
func (s *oaServer) expectStalled(method, path, hdr string) {
	s.t.Helper()
	c, err := net.Dial("tcp", s.srv.Listener.Addr().String())
	require.NoError(s.t, err)
	defer c.Close()
	require.NoError(s.t, c.SetDeadline(time.Now().Add(oaIdle+10*time.Second)))
	_, err = fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: %d\r\n\r\n0123456789", method, path, hdr, openapitest.MaxRequestBody+1)
	require.NoError(s.t, err)
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(s.t, err)
	defer res.Body.Close()
	s.exchange++
	require.Equal(s.t, http.StatusRequestTimeout, res.StatusCode)
}

// uploadResult is the body of an upload's 201.
type uploadResult struct {
	Attachments []attachment.Attachment `json:"attachments"`
}
