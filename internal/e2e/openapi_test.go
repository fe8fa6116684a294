package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/internal/e2e/openapitest"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
)

func TestOpenAPIDocumentValid(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(attachment.OpenAPI())
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	assert.Equal(t, "3.0.3", doc.OpenAPI)
	require.Len(t, doc.Servers, 1)
	assert.Equal(t, ".", doc.Servers[0].URL, "a relative server URL, valid whatever the mount prefix")

	// Every problem code the handler sends is in the enum, and nothing else.
	codes := doc.Components.Schemas["ProblemCode"].Value.Enum
	assert.ElementsMatch(t, []any{
		"bad_request", "not_found", "too_large", "too_many_files", "unsupported_type",
		"checksum_mismatch", "invalid_filename", "invalid_size", "referenced",
		"unauthorized", "forbidden", "conflict", "internal", "unavailable", "insufficient_storage",
		"offset_mismatch", "locked", "gone", // the resumable upload routes' (HandlerOptions.Uploads)
	}, codes)

	// OpenAPI returns a copy.
	b := attachment.OpenAPI()
	b[0] = 'x'
	assert.Equal(t, byte('{'), attachment.OpenAPI()[0])
}

// handlerRoutes are the routes handler.go's ServeHTTP serves, kept by hand:
// a route added there must be added here and to openapi.json. The last
// line is the resumable upload layer's (HandlerOptions.Uploads), which
// openapi_uploads_test.go checks against the layer's own answers.
var handlerRoutes = []string{
	"POST /", "GET /", "HEAD /",
	"POST /_status",
	"GET /openapi.json", "HEAD /openapi.json",
	"GET /{id}", "HEAD /{id}", "PATCH /{id}", "PUT /{id}", "DELETE /{id}",
	"GET /{id}/metadata", "HEAD /{id}/metadata",
	"GET /{id}/thumbnail", "HEAD /{id}/thumbnail",
	"GET /{id}/status", "HEAD /{id}/status",
	"POST /{id}/refs",
	"DELETE /{id}/refs/{ref}",
	"POST /{id}/signed-url",
	"OPTIONS /uploads/", "POST /uploads/", "OPTIONS /uploads/{id}", "HEAD /uploads/{id}", "GET /uploads/{id}", "PATCH /uploads/{id}", "POST /uploads/{id}", "DELETE /uploads/{id}",
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc, err := openapitest.LoadDocument()
	require.NoError(t, err)
	assert.ElementsMatch(t, handlerRoutes, openapitest.Operations(doc))
}

// oaAccess is the access hook of the OpenAPI test: X-Auth "none" cannot be
// identified (401), "forbid" is refused outright (403), "hide" is told
// the thing does not exist (404); X-Deny names an operation the hook
// refuses, or "all"; X-Tenant is the tenant.
var oaAccess = attachment.AccessFuncs{
	IdentifyFunc: func(r *http.Request) (attachment.Caller, error) {
		switch r.Header.Get("X-Auth") {
		case "none":
			return attachment.Caller{}, attachment.ErrUnauthorized
		case "forbid":
			return attachment.Caller{}, attachment.ErrForbidden
		case "hide":
			return attachment.Caller{}, attachment.ErrNotFound
		}
		return attachment.Caller{Tenant: r.Header.Get("X-Tenant"), Name: "user:42"}, nil
	},
	AllowFunc: func(r *http.Request, c attachment.Caller, op attachment.Operation, a *attachment.Attachment) error {
		if d := r.Header.Get("X-Deny"); d == "all" || d == string(op) {
			return attachment.ErrForbidden
		}
		return nil
	},
}

// oaServer is a real server with two handlers, each behind a Validator:
// /api/files (told its prefix, with signed URLs) and /plain (mounted with
// http.StripPrefix, without signed URLs).
type oaServer struct {
	t        *testing.T
	srv      *httptest.Server
	svc      *attachment.Service
	raw      func(ctx context.Context, key string) error // deletes a blob key
	tenant   string                                      // X-Tenant of every request that names none
	main     *openapitest.Validator
	plain    *openapitest.Validator
	prefix   string
	exchange int
	// release lets the "hold" processor finish the jobs of hold*.txt.
	release func()
}

// oaIdle is the main handler's UploadIdleTimeout.
const oaIdle = time.Second

func newOAServer(t *testing.T) *oaServer {
	t.Helper()
	bucket := memblob.OpenBucket(nil)
	meta := memstore.New()
	t.Cleanup(func() { bucket.Close(); meta.Close() })
	store := storage.New(bucket)
	release := make(chan struct{})
	// hold keeps the processing of files named hold*.txt pending until
	// release is closed, for a status request that waits.
	hold := attachment.ProcessorFunc("hold", func(a *attachment.Attachment) bool {
		return strings.HasPrefix(a.Filename, "hold")
	}, func(ctx context.Context, _ *attachment.Task) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	svc, err := attachment.New(store, meta, &attachment.Options{
		MaxFileSize:  64 << 10,
		MaxFiles:     3,
		AllowedTypes: []string{"image/", "text/plain", "application/octet-stream", "application/pdf"},
		Processing:   attachment.ProcessingOptions{Processors: []attachment.Processor{hold}},
	})
	require.NoError(t, err)
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }); svc.Close() })
	signer, err := attachment.NewSigner(attachment.SignerOptions{
		Keys: []attachment.SigningKey{{ID: "k1", Secret: bytes.Repeat([]byte("s"), 32)}},
	})
	require.NoError(t, err)

	const prefix = "/api/files"
	mainH := attachment.NewHandler(svc, &attachment.HandlerOptions{Prefix: prefix, Access: oaAccess, Signer: signer,
		MaxStatusWaits: 1, UploadIdleTimeout: oaIdle})
	plainH := http.StripPrefix("/plain", attachment.NewHandler(svc, &attachment.HandlerOptions{Access: oaAccess}))
	s := &oaServer{
		t: t, svc: svc, prefix: prefix, release: func() { once.Do(func() { close(release) }) },
		raw:   func(ctx context.Context, key string) error { return bucket.Delete(ctx, key) },
		main:  openapitest.New(t, mainH, prefix),
		plain: openapitest.New(t, plainH, "/plain"),
	}
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", s.main)
	mux.Handle("/plain/", s.plain)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// expect408Upload starts a multipart upload to path declaring length
// bytes, sends its first part's head and some content, then stalls, and
// checks that the answer is a 408 bad_request within the idle timeout and
// nothing more.
func (s *oaServer) expect408Upload(path string, length int) {
	s.t.Helper()
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_, err := mw.CreateFormFile("files", "stalled.bin")
	require.NoError(s.t, err)
	mp.WriteString(strings.Repeat("x", 4<<10))
	s.expect408("POST", path, mw.FormDataContentType(), length, mp.Bytes())
}

// expect408 sends a request declaring a body of length bytes, sends the
// first bytes of it (sent), then stalls, and checks that the answer is a
// 408 bad_request within the idle timeout and nothing more.
func (s *oaServer) expect408(method, path, contentType string, length int, sent []byte) {
	s.t.Helper()
	c, err := net.Dial("tcp", s.srv.Listener.Addr().String())
	require.NoError(s.t, err)
	defer c.Close()
	require.NoError(s.t, c.SetDeadline(time.Now().Add(oaIdle+10*time.Second)))
	_, err = fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: x\r\nX-Tenant: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s",
		method, path, s.tenant, contentType, length, sent)
	require.NoError(s.t, err)
	start := time.Now()
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(s.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	s.exchange++
	require.Equal(s.t, http.StatusRequestTimeout, res.StatusCode, string(body))
	assert.Equal(s.t, "bad_request", decode[attachment.Problem](s.t, body).Code)
	assert.Less(s.t, time.Since(start), oaIdle+5*time.Second)
}

// oaResp is a response read whole.
type oaResp struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request; hdr are header name/value pairs.
func (s *oaServer) do(method, path string, body io.Reader, hdr ...string) oaResp {
	s.t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, body)
	require.NoError(s.t, err)
	if s.tenant != "" {
		req.Header.Set("X-Tenant", s.tenant)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := s.srv.Client().Do(req)
	require.NoError(s.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(s.t, err)
	s.exchange++
	return oaResp{status: res.StatusCode, header: res.Header, body: b}
}

// expect sends a request and checks the status (and, for problems, the
// code).
func (s *oaServer) expect(status int, code, method, path string, body io.Reader, hdr ...string) oaResp {
	s.t.Helper()
	r := s.do(method, path, body, hdr...)
	require.Equal(s.t, status, r.status, "%s %s: %s", method, path, r.body)
	if code != "" && method != http.MethodHead {
		var p attachment.Problem
		require.NoError(s.t, json.Unmarshal(r.body, &p), string(r.body))
		require.Equal(s.t, code, p.Code, "%s %s: %s", method, path, r.body)
	}
	return r
}

// upload stores content raw and returns its record.
func (s *oaServer) upload(name string, content []byte, query string) attachment.Attachment {
	s.t.Helper()
	r := s.expect(201, "", "POST", s.prefix+"/?filename="+url.QueryEscape(name)+query, bytes.NewReader(content))
	var res struct{ Attachments []attachment.Attachment }
	require.NoError(s.t, json.Unmarshal(r.body, &res))
	return res.Attachments[0]
}

func oaMultipart(t *testing.T, fields [][2]string, files ...[2]string) (io.Reader, string) {
	t.Helper()
	body := &bytes.Buffer{}
	mw := multipart.NewWriter(body)
	for _, f := range fields {
		require.NoError(t, mw.WriteField(f[0], f[1]))
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="files"; filename="`+f[0]+`"`)
		h.Set("Content-Type", "application/octet-stream")
		w, err := mw.CreatePart(h)
		require.NoError(t, err)
		_, err = w.Write([]byte(f[1]))
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return body, mw.FormDataContentType()
}

// TestOpenAPIExchanges drives every route and every response the document
// lists that a test can reach through a real Handler on a real server,
// with a Validator checking each request and response against the
// document, and then asserts that the Validator saw them all. The whole
// sequence runs once as the default tenant ("") and once as another
// ("t1"), so that what the handler sends only for a named tenant is
// validated too.
func TestOpenAPIExchanges(t *testing.T) {
	for _, tenant := range []string{"", "t1"} {
		t.Run("tenant="+tenant, func(t *testing.T) {
			s := newOAServer(t)
			s.tenant = tenant
			oaExchanges(t, s)
		})
	}
}

// oaExchanges is TestOpenAPIExchanges on one server, as s.tenant.
func oaExchanges(t *testing.T, s *oaServer) {
	p := s.prefix
	const (
		jsonCT = "application/json"
		form   = "application/x-www-form-urlencoded"
	)
	ct := func(v string) []string { return []string{"Content-Type", v} }
	big := strings.Repeat("x", 1<<20+10)

	// Uploads: raw and multipart, one file and many.
	img := s.upload("photo.png", pngBytes(t, 40, 30), "&owner=document:1&label.workspace=w1")
	txt := s.upload("notes.txt", []byte("hello, world\n"), "")
	clear := s.upload("clear.png", transparentPNG(t), "")
	body, mct := oaMultipart(t, [][2]string{{"owner", "chat:7"}, {"label.kind", "log"}}, [2]string{"a.txt", "aaa"}, [2]string{"b.txt", "bbb"})
	r := s.expect(201, "", "POST", p+"/", body, ct(mct)...)
	assert.Contains(t, r.header.Get("Location"), p+"/")
	assert.Len(t, decode[struct{ Attachments []attachment.Attachment }](t, r.body).Attachments, 2)
	s.expect(201, "", "POST", p+"/", strings.NewReader("raw"), "Content-Disposition", `attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.txt`)
	s.expect(400, "invalid_filename", "POST", p+"/", strings.NewReader("no name"))
	body, mct = oaMultipart(t, nil, [2]string{"1", "1"}, [2]string{"2", "2"}, [2]string{"3", "3"}, [2]string{"4", "4"})
	s.expect(400, "too_many_files", "POST", p+"/", body, ct(mct)...)
	s.expect(400, "checksum_mismatch", "POST", p+"/?filename=c.txt", strings.NewReader("abc"), "Content-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(make([]byte, 32))+":")
	s.expect(413, "too_large", "POST", p+"/?filename=big.txt", strings.NewReader(big))
	s.expect(415, "unsupported_type", "POST", p+"/?filename=page.html", strings.NewReader("<!DOCTYPE html><html><body>hi</body></html>"))

	// Listing.
	for _, m := range []string{"GET", "HEAD"} {
		r := s.expect(200, "", m, p+"/?limit=1&order=asc&owner=document:1&label.workspace=w1&q=PHOTO&type=image/", nil)
		if m == "GET" {
			var page struct {
				Data []attachment.Attachment `json:"data"`
			}
			require.NoError(t, json.Unmarshal(r.body, &page))
			require.Len(t, page.Data, 1)
			assert.Equal(t, img.ID, page.Data[0].ID)
		}
		r = s.expect(200, "", m, p+"/?limit=2", nil)
		assert.Contains(t, r.header.Get("Link"), `rel="next"`)
		s.expect(400, "bad_request", m, p+"/?label.a=1&label.a=2", nil)
		s.expect(400, "bad_request", m, p+"/?limit=5000", nil) // invalid by the document too
		s.expect(400, "bad_request", m, p+"/?cursor=nope", nil)
	}

	// Status.
	for _, m := range []string{"GET", "HEAD"} {
		s.expect(200, "", m, p+"/"+img.ID+"/status?wait=10s", nil)
		s.expect(400, "bad_request", m, p+"/"+img.ID+"/status?wait=soon", nil)
	}
	r = s.expect(200, "", "POST", p+"/_status", strings.NewReader(`{"attachments": ["`+img.ID+`", "`+txt.ID+`", "nope"]}`), ct(jsonCT)...)
	assert.Contains(t, string(r.body), `"nope":{"error":"not_found"}`)
	s.expect(400, "bad_request", "POST", p+"/_status", strings.NewReader(`{"attachments": "x"}`), ct(jsonCT)...)
	s.expect(413, "too_large", "POST", p+"/_status", strings.NewReader(`{"attachments": [], "pad": "`+big+`"}`), ct(jsonCT)...)

	// A status wait beyond HandlerOptions.MaxStatusWaits (1 here): 503.
	held := s.upload("hold.txt", []byte("held"), "")
	type waitResult struct{ status, exchanges int }
	waited := make(chan waitResult, 1)
	go func() {
		// Again while a probe below holds the slot for its moment.
		for n := 1; ; n++ {
			req, err := http.NewRequest("GET", s.srv.URL+p+"/"+held.ID+"/status?wait=20s", nil)
			if err != nil {
				waited <- waitResult{0, n}
				return
			}
			if s.tenant != "" {
				req.Header.Set("X-Tenant", s.tenant) // the attachment is the tenant's
			}
			res, err := s.srv.Client().Do(req)
			if err != nil {
				waited <- waitResult{0, n}
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusServiceUnavailable || n == 100 {
				waited <- waitResult{res.StatusCode, n}
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	for _, m := range []string{"GET", "HEAD"} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			// Each waits a moment, until the request above holds the
			// one slot.
			r := s.do(m, p+"/"+held.ID+"/status?wait=1ms", nil)
			if r.status == http.StatusServiceUnavailable {
				assert.Equal(t, "5", r.header.Get("Retry-After"))
				if m == "GET" {
					assert.Equal(t, "unavailable", decode[attachment.Problem](t, r.body).Code)
				}
				break
			}
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			require.True(t, time.Now().Before(deadline), "the waiting request never held the slot")
			time.Sleep(10 * time.Millisecond)
		}
	}
	s.release()
	w := <-waited
	require.Equal(t, http.StatusOK, w.status)
	s.exchange += w.exchanges

	// An upload whose body stalls: 408 once HandlerOptions.UploadIdleTimeout
	// passes. Its declared length is over what the Validator buffers, so
	// that the body reaches the handler as the client sends it. So for
	// the routes that read a JSON or form body.
	s.expect408Upload(p+"/", openapitest.MaxRequestBody+1)
	for _, m := range []string{"PATCH", "PUT"} {
		s.expect408(m, p+"/"+txt.ID, "application/json", openapitest.MaxRequestBody+1, []byte(`{"filename": `))
	}
	s.expect408("POST", p+"/"+txt.ID+"/refs", "application/x-www-form-urlencoded", openapitest.MaxRequestBody+1, []byte("ref=ord"))
	s.expect408("POST", p+"/_status", "application/json", openapitest.MaxRequestBody+1, []byte(`{"attachments": [`))

	// Download, with ranges and conditional requests.
	for _, m := range []string{"GET", "HEAD"} {
		r := s.expect(200, "", m, p+"/"+img.ID+"?disposition=inline", nil)
		etag := r.header.Get("ETag")
		s.expect(206, "", m, p+"/"+txt.ID, nil, "Range", "bytes=0-3")
		s.expect(206, "", m, p+"/"+txt.ID, nil, "Range", "bytes=0-1,4-5")
		s.expect(304, "", m, p+"/"+img.ID, nil, "If-None-Match", etag)
		s.expect(412, "bad_request", m, p+"/"+img.ID, nil, "If-Match", `"nope"`)
		s.expect(416, "bad_request", m, p+"/"+txt.ID, nil, "Range", "bytes=1000-")
		s.expect(400, "bad_request", m, p+"/"+img.ID+"?disposition=evil", nil)
	}

	// Metadata.
	for _, m := range []string{"GET", "HEAD"} {
		s.expect(200, "", m, p+"/"+img.ID+"/metadata", nil)
	}

	// Thumbnails.
	for _, m := range []string{"GET", "HEAD"} {
		r := s.expect(200, "", m, p+"/"+img.ID+"/thumbnail?size=64", nil)
		etag := r.header.Get("ETag")
		s.expect(204, "", m, p+"/"+txt.ID+"/thumbnail", nil)
		r = s.expect(200, "", m, p+"/"+clear.ID+"/thumbnail", nil)
		assert.Equal(t, "image/png", r.header.Get("Content-Type"))
		s.expect(206, "", m, p+"/"+img.ID+"/thumbnail?size=64", nil, "Range", "bytes=0-9")
		s.expect(304, "", m, p+"/"+img.ID+"/thumbnail?size=64", nil, "If-None-Match", etag)
		s.expect(412, "bad_request", m, p+"/"+img.ID+"/thumbnail?size=64", nil, "If-Match", `"nope"`)
		s.expect(416, "bad_request", m, p+"/"+img.ID+"/thumbnail?size=64", nil, "Range", "bytes=100000-")
		s.expect(400, "invalid_size", m, p+"/"+img.ID+"/thumbnail?size=7", nil)
		s.expect(400, "invalid_size", m, p+"/"+img.ID+"/thumbnail?size=big", nil)
	}

	// Update, JSON and forms, PATCH and PUT.
	for _, m := range []string{"PATCH", "PUT"} {
		r := s.expect(200, "", m, p+"/"+txt.ID, strings.NewReader(`{"filename": "renamed.txt", "labels": {"a": "b"}, "owner": "doc:3"}`), ct(jsonCT)...)
		assert.Contains(t, string(r.body), `"renamed.txt"`)
		r = s.expect(200, "", m, p+"/"+txt.ID, strings.NewReader(`{"filename": null, "labels": null, "owner": null, "size": 1}`), ct(jsonCT)...)
		assert.Equal(t, "doc:3", decode[attachment.Attachment](t, r.body).Owner)
		s.expect(200, "", m, p+"/"+txt.ID, strings.NewReader(`owner=doc%3A2&label.x=y`), ct(form)...)
		body, mct := oaMultipart(t, [][2]string{{"filename", "again.txt"}, {"label.z", "1"}})
		s.expect(200, "", m, p+"/"+txt.ID, body, ct(mct)...)
		s.expect(400, "bad_request", m, p+"/"+txt.ID, strings.NewReader(`{"owner": "bad\u0001owner"}`), ct(jsonCT)...)
		s.expect(400, "bad_request", m, p+"/"+txt.ID, strings.NewReader(`{"labels": "not an object"}`), ct(jsonCT)...)
		s.expect(400, "invalid_filename", m, p+"/"+txt.ID, strings.NewReader(`{"filename": "../"}`), ct(jsonCT)...)
		s.expect(413, "too_large", m, p+"/"+txt.ID, strings.NewReader(`{"pad": "`+big+`"}`), ct(jsonCT)...)
	}

	// References, and a delete they refuse.
	s.expect(200, "", "POST", p+"/"+txt.ID+"/refs", strings.NewReader(`{"ref": "document:1/a"}`), ct(jsonCT)...)
	s.expect(200, "", "POST", p+"/"+txt.ID+"/refs", strings.NewReader(`ref=document%3A2`), ct(form)...)
	s.expect(400, "bad_request", "POST", p+"/"+txt.ID+"/refs", strings.NewReader(`{"ref": ""}`), ct(jsonCT)...)
	s.expect(413, "too_large", "POST", p+"/"+txt.ID+"/refs", strings.NewReader(`{"ref": "a", "pad": "`+big+`"}`), ct(jsonCT)...)
	s.expect(409, "referenced", "DELETE", p+"/"+txt.ID, nil)
	s.expect(400, "bad_request", "DELETE", p+"/"+txt.ID+"?force=perhaps", nil)
	r = s.expect(200, "", "DELETE", p+"/"+txt.ID+"/refs/"+url.PathEscape("document:1/a"), nil)
	assert.NotContains(t, string(r.body), "document:1/a")
	s.expect(200, "", "DELETE", p+"/"+txt.ID+"/refs/not-there", nil)
	s.expect(400, "bad_request", "DELETE", p+"/"+txt.ID+"/refs/bad%01ref", nil)

	// Signed URLs: made, used on the download and the thumbnail, refused
	// when changed; absent without a Signer.
	r = s.expect(200, "", "POST", p+"/"+img.ID+"/signed-url?ttl=60&disposition=inline", nil)
	var su attachment.SignedURL
	require.NoError(t, json.Unmarshal(r.body, &su))
	require.True(t, strings.HasPrefix(su.URL, p+"/"+img.ID+"?"), su.URL)
	s.expect(200, "", "POST", p+"/"+img.ID+"/signed-url", nil)
	s.expect(400, "bad_request", "POST", p+"/"+img.ID+"/signed-url?ttl=0", nil)
	s.expect(400, "bad_request", "POST", p+"/"+img.ID+"/signed-url?ttl=soon", nil)
	s.expect(400, "bad_request", "POST", p+"/"+img.ID+"/signed-url?disposition=evil", nil)
	s.expect(404, "not_found", "POST", "/plain/"+img.ID+"/signed-url", nil)
	query := su.URL[strings.Index(su.URL, "?"):]
	bad := strings.Replace(query, "sig=", "sig=A", 1)
	for _, m := range []string{"GET", "HEAD"} {
		s.expect(200, "", m, su.URL, nil, "X-Auth", "none")
		s.expect(200, "", m, p+"/"+img.ID+"/thumbnail"+query, nil, "X-Auth", "none")
		s.expect(403, "forbidden", m, p+"/"+img.ID+bad, nil)
		s.expect(403, "forbidden", m, p+"/"+img.ID+"/thumbnail"+bad, nil)
		s.expect(403, "forbidden", m, "/plain/"+img.ID+query, nil) // signatures are never honoured without a Signer
	}

	// The access hook: 401, 403 and 404 on every route that asks it, and
	// another tenant's attachment is a 404.
	type call struct {
		method, path, body, contentType string
	}
	victim := s.upload("victim.png", pngBytes(t, 8, 8), "")
	calls := []call{
		{"POST", "/?filename=a.txt", "a", "text/plain"},
		{"GET", "/", "", ""},
		{"HEAD", "/", "", ""},
		{"POST", "/_status", `{"attachments": []}`, jsonCT},
		{"GET", "/{id}", "", ""},
		{"HEAD", "/{id}", "", ""},
		{"PATCH", "/{id}", `{}`, jsonCT},
		{"PUT", "/{id}", `{}`, jsonCT},
		{"DELETE", "/{id}", "", ""},
		{"GET", "/{id}/metadata", "", ""},
		{"HEAD", "/{id}/metadata", "", ""},
		{"GET", "/{id}/thumbnail", "", ""},
		{"HEAD", "/{id}/thumbnail", "", ""},
		{"GET", "/{id}/status", "", ""},
		{"HEAD", "/{id}/status", "", ""},
		{"POST", "/{id}/refs", `{"ref": "r"}`, jsonCT},
		{"DELETE", "/{id}/refs/r", "", ""},
		{"POST", "/{id}/signed-url", "", ""},
	}
	for _, c := range calls {
		path := p + strings.Replace(c.path, "{id}", victim.ID, 1)
		send := func(status int, code string, hdr ...string) {
			t.Helper()
			if c.contentType != "" {
				hdr = append(hdr, "Content-Type", c.contentType)
			}
			s.expect(status, code, c.method, path, strings.NewReader(c.body), hdr...)
		}
		send(401, "unauthorized", "X-Auth", "none")
		send(403, "forbidden", "X-Auth", "forbid")
		if c.path == "/_status" {
			// Asks the hook per attachment: a caller it hides everything
			// from, or a refusal, reads as not_found in a 200.
			send(200, "", "X-Auth", "hide")
			continue
		}
		send(404, "not_found", "X-Auth", "hide")
		send(403, "forbidden", "X-Deny", "all")
		if strings.Contains(c.path, "{id}") {
			send(404, "not_found", "X-Tenant", "other")
			s.expect(404, "not_found", c.method, p+strings.Replace(c.path, "{id}", "019ab5e8-34a1-7c22-9f1e-2b7c9d5e4a10", 1), strings.NewReader(c.body), ct(cmpOr(c.contentType, jsonCT))...)
		}
	}

	// Deletes.
	s.expect(200, "", "DELETE", p+"/"+txt.ID+"?force=true", nil)
	s.expect(404, "not_found", "GET", p+"/"+txt.ID, nil)
	s.expect(200, "", "DELETE", p+"/"+victim.ID, nil)

	// The document itself, with revalidation, whatever the access hook says.
	for _, m := range []string{"GET", "HEAD"} {
		r := s.expect(200, "", m, p+"/openapi.json", nil, "X-Auth", "none")
		s.expect(304, "", m, p+"/openapi.json", nil, "If-None-Match", r.header.Get("ETag"))
		s.expect(200, "", m, "/plain/openapi.json", nil)
	}

	// A server error: content gone from under its record.
	lost := s.upload("lost.txt", []byte("soon gone"), "")
	require.NoError(t, s.raw(context.Background(), storage.ContentKey(lost.ID)))
	s.expect(500, "internal", "GET", p+"/"+lost.ID, nil)
	s.expect(500, "internal", "HEAD", p+"/"+lost.ID, nil)

	// Paths and methods the document does not have: 404 and 405 problems.
	s.expect(404, "not_found", "GET", p+"/"+img.ID+"/nothing", nil)
	s.expect(404, "not_found", "GET", p+"/"+img.ID+"/", nil)
	s.expect(405, "bad_request", "POST", p+"/"+img.ID, nil)
	s.expect(405, "bad_request", "DELETE", p+"/openapi.json", nil)
	s.expect(405, "bad_request", "GET", p+"/_status", nil)
	s.expect(405, "bad_request", "PUT", p+"/", nil)

	// The Validators saw every exchange, and every documented response
	// but those no test can reach: a write conflict on upload (an ID
	// collision in the store), server errors other than the one above,
	// a thumbnail refused because every decoder is busy, and the outage
	// answers (503 unavailable, 507 insufficient_storage), which need a
	// failing store (the root package's outage_test.go drives them).
	// This server has no resumable uploads: TestOpenAPIResumableUploads
	// drives the /uploads routes.
	assert.Equal(t, s.exchange, s.main.Count()+s.plain.Count())
	assert.Positive(t, s.main.Rejected(), "some requests were invalid by the document, and refused")
	seen := s.main.Seen()
	for k, n := range s.plain.Seen() {
		seen[k] += n
	}
	doc, err := openapitest.LoadDocument()
	require.NoError(t, err)
	var unseen []string
	for _, k := range openapitest.Responses(doc) {
		if strings.Contains(k, " /uploads/") {
			continue
		}
		if seen[k] == 0 && !strings.HasSuffix(k, " 500") && !strings.HasSuffix(k, " 503") && !strings.HasSuffix(k, " 507") && k != "POST / 409" {
			unseen = append(unseen, k)
		}
	}
	assert.Empty(t, unseen, "documented responses no request produced")
	for _, k := range []string{"GET /{id} 500", "HEAD /{id} 500"} {
		assert.Positive(t, seen[k], k)
	}
	assert.False(t, slices.ContainsFunc(slices.Collect(mapKeysOf(seen)), func(k string) bool {
		return strings.Contains(k, " ? ") && !strings.HasSuffix(k, " 404") && !strings.HasSuffix(k, " 405")
	}), "unrouted requests answered other than 404 or 405: %v", seen)
}

// transparentPNG makes a PNG with transparent pixels, whose thumbnails
// are PNG too.
func transparentPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 20, 10))
	img.Set(3, 3, color.NRGBA{R: 255, A: 255})
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(b, &v), string(b))
	return v
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func mapKeysOf(m map[string]int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestOpenAPIServed checks that GET /openapi.json serves the embedded
// document, under any mount.
func TestOpenAPIServed(t *testing.T) {
	s := newOAServer(t)
	for _, path := range []string{s.prefix + "/openapi.json", "/plain/openapi.json"} {
		r := s.expect(200, "", "GET", path, nil)
		assert.Equal(t, attachment.OpenAPI(), r.body)
		assert.Equal(t, "application/json", r.header.Get("Content-Type"))
		assert.NotEmpty(t, r.header.Get("ETag"))
		assert.Equal(t, "public, no-cache", r.header.Get("Cache-Control"))
		h := s.expect(200, "", "HEAD", path, nil)
		assert.Empty(t, h.body)
		assert.Equal(t, r.header.Get("ETag"), h.header.Get("ETag"))
		s.expect(304, "", "GET", path, nil, "If-None-Match", `W/"x", `+r.header.Get("ETag"))
		s.expect(200, "", "GET", path, nil, "If-None-Match", `"x"`)
		s.expect(404, "not_found", "GET", path+"/", nil)
	}
	assert.Equal(t, s.exchange, s.main.Count()+s.plain.Count())
}

// pngBytes makes a small opaque PNG image.
func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}
