package resumable_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dunglas/httpsfv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/resumable"
)

// ietfEnv serves env's handler over a real connection (the 104s need
// one) and speaks the IETF draft in interop version v.
type ietfEnv struct {
	*env
	url string // the server's base URL
	v   int
}

// eachIETF runs f for interop versions 5, 6 and 8 on every backend.
func eachIETF(t *testing.T, o *attachment.Options, f func(t *testing.T, x *ietfEnv)) {
	for _, v := range resumable.InteropVersions {
		t.Run("interop-"+strconv.Itoa(v), func(t *testing.T) {
			eachBackend(t, o, func(t *testing.T, e *env) {
				srv := httptest.NewServer(e.srv)
				t.Cleanup(srv.Close)
				f(t, &ietfEnv{env: e, url: srv.URL, v: v})
			})
		})
	}
}

// interim is a 1xx answer the client saw.
type interim struct {
	code int
	hdr  http.Header
}

// ietfResp is a final answer, its body read, and the 1xx before it.
type ietfResp struct {
	code    int
	hdr     http.Header
	body    []byte
	interim []interim
}

// do sends a request as "alice" with Upload-Draft-Interop-Version: v and
// the headers hdr (pairs; a value "" removes the header). A nil body is
// none (Content-Length: 0).
func (x *ietfEnv) do(method, path string, body []byte, hdr ...string) *ietfResp {
	x.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	resp := &ietfResp{}
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		resp.interim = append(resp.interim, interim{code, http.Header(h).Clone()})
		return nil
	}}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(x.t.Context(), trace), method, x.url+path, rd)
	require.NoError(x.t, err)
	req.Header.Set("X-User", "alice")
	req.Header.Set("Upload-Draft-Interop-Version", strconv.Itoa(x.v))
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(x.t, err)
	defer res.Body.Close()
	resp.code, resp.hdr = res.StatusCode, res.Header
	resp.body, err = io.ReadAll(res.Body)
	require.NoError(x.t, err)
	return resp
}

// appendTo sends an append (PATCH) of body at offset, of type
// application/partial-upload from version 6.
func (x *ietfEnv) appendTo(url string, offset int, body []byte, complete bool, hdr ...string) *ietfResp {
	x.t.Helper()
	h := []string{"Upload-Offset", itoa(offset), "Upload-Complete", sfBool(complete)}
	if x.v >= 6 {
		h = append(h, "Content-Type", resumable.PartialUploadType)
	}
	return x.do("PATCH", url, body, append(h, hdr...)...)
}

func sfBool(b bool) string {
	if b {
		return "?1"
	}
	return "?0"
}

// announced asserts that r had exactly one interim answer, the 104 of a
// creation, with the upload's Location, the interop version and (from
// version 6) Upload-Limit, and returns that Location.
func (x *ietfEnv) announced(r *ietfResp) string {
	x.t.Helper()
	require.Len(x.t, r.interim, 1, "one 104 per creation")
	i := r.interim[0]
	require.Equal(x.t, resumable.StatusUploadResumptionSupported, i.code)
	assert.Equal(x.t, strconv.Itoa(x.v), i.hdr.Get("Upload-Draft-Interop-Version"))
	assert.Empty(x.t, i.hdr.Get("Upload-Offset"))
	loc := i.hdr.Get("Location")
	require.True(x.t, strings.HasPrefix(loc, prefix+"/uploads/"), loc)
	x.checkLimit(i.hdr, true)
	return loc
}

// checkLimit asserts h's Upload-Limit: none for version 5; for 6 and 8 a
// Dictionary with max-append-size and, when withAge, the lifetime as
// version 6 ("expires") or 8 ("max-age") names it. It returns the members.
func (x *ietfEnv) checkLimit(h http.Header, withAge bool) map[string]int64 {
	x.t.Helper()
	if x.v == 5 {
		assert.Empty(x.t, h.Values("Upload-Limit"))
		return nil
	}
	d, err := httpsfv.UnmarshalDictionary(h.Values("Upload-Limit"))
	require.NoError(x.t, err, h.Get("Upload-Limit"))
	got := map[string]int64{}
	for _, k := range d.Names() {
		m, _ := d.Get(k)
		n, ok := m.(httpsfv.Item).Value.(int64)
		require.True(x.t, ok, "%s is an Integer", k)
		got[k] = n
	}
	assert.Positive(x.t, got["max-append-size"])
	age, other := "max-age", "expires"
	if x.v == 6 {
		age, other = other, age
	}
	assert.NotContains(x.t, got, other)
	if withAge {
		require.Contains(x.t, got, age)
		assert.GreaterOrEqual(x.t, got[age], int64(0))
	}
	return got
}

// completion decodes the answer that completed an upload and checks it
// is the native upload's (201, Location, {"attachments":[…]}) with
// Upload-Complete: ?1 and Upload-Offset at the size.
func (x *ietfEnv) completion(r *ietfResp, id string, size int) attachment.Attachment {
	x.t.Helper()
	require.Equal(x.t, http.StatusCreated, r.code, string(r.body))
	assert.Equal(x.t, "?1", r.hdr.Get("Upload-Complete"))
	assert.Equal(x.t, itoa(size), r.hdr.Get("Upload-Offset"))
	assert.Equal(x.t, prefix+"/"+id, r.hdr.Get("Location"))
	assert.Empty(x.t, r.hdr.Get("Upload-Draft-Interop-Version"), "the interop version is the 104's only")
	assert.Empty(x.t, r.hdr.Get("Upload-Limit"), "the completion is the processing's answer")
	var body struct{ Attachments []attachment.Attachment }
	require.NoError(x.t, json.Unmarshal(r.body, &body), string(r.body))
	require.Len(x.t, body.Attachments, 1)
	a := body.Attachments[0]
	assert.Equal(x.t, id, a.ID)
	assert.Equal(x.t, prefix+"/"+id, a.URL)
	assert.Equal(x.t, int64(size), a.Size)
	return a
}

// problemOf decodes a problem+json answer.
func problemOf(t *testing.T, r *ietfResp) map[string]any {
	t.Helper()
	assert.Equal(t, "application/problem+json", r.hdr.Get("Content-Type"))
	var p map[string]any
	require.NoError(t, json.Unmarshal(r.body, &p), string(r.body))
	return p
}

func reprDigest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha-256=:" + base64.StdEncoding.EncodeToString(s[:]) + ":"
}

// A creation with Upload-Complete: ?1 carrying the whole file is announced
// by one 104 before its content is read, then answered as the native
// upload; the attachment downloads byte-exact, and the upload resource
// reports it complete.
func TestIETFCreationComplete(t *testing.T) {
	eachIETF(t, nil, func(t *testing.T, x *ietfEnv) {
		data := content(200_000)
		md := "filename " + b64("whole.bin") + ",owner " + b64("doc:7") + ",label.kind " + b64("scan")
		r := x.do("POST", prefix+"/uploads/", data, "Upload-Complete", "?1",
			"Upload-Length", itoa(len(data)), "Upload-Metadata", md, "Content-Type", "application/octet-stream")
		loc := x.announced(r)
		id := idOf(loc)
		a := x.completion(r, id, len(data))
		assert.Equal(t, "whole.bin", a.Filename)
		assert.Equal(t, sha(data), a.SHA256)

		got, meta := x.download(id)
		assert.Equal(t, sha(data), sha(got))
		assert.Equal(t, "doc:7", meta.Owner)
		assert.Equal(t, map[string]string{"kind": "scan"}, meta.Labels)
		assert.Equal(t, "alice", meta.CreatedBy)

		head := x.do("HEAD", loc, nil)
		require.Equal(t, http.StatusNoContent, head.code)
		assert.Equal(t, "?1", head.hdr.Get("Upload-Complete"))
		assert.Equal(t, itoa(len(data)), head.hdr.Get("Upload-Offset"))
		assert.Equal(t, itoa(len(data)), head.hdr.Get("Upload-Length"))
		assert.Equal(t, prefix+"/"+id, head.hdr.Get("Location"))
		assert.Empty(t, head.interim, "no 104 but on a creation")
	})
}

// An upload created incomplete, resumed from HEAD's offset and completed
// by an append with Upload-Complete: ?1; every answer carries the offset,
// and appends get no 104.
func TestIETFCreationIncompleteThenAppend(t *testing.T) {
	eachIETF(t, nil, func(t *testing.T, x *ietfEnv) {
		data := content(300_000)
		r := x.do("POST", prefix+"/uploads/", data[:100_000], "Upload-Complete", "?0",
			"Upload-Length", itoa(len(data)), "Upload-Metadata", "filename "+b64("parts.bin"))
		loc := x.announced(r)
		id := idOf(loc)
		require.Equal(t, http.StatusCreated, r.code, string(r.body))
		assert.Equal(t, loc, r.hdr.Get("Location"), "the final Location is the 104's")
		assert.Equal(t, "?0", r.hdr.Get("Upload-Complete"))
		assert.Equal(t, "100000", r.hdr.Get("Upload-Offset"))
		assert.Empty(t, r.hdr.Get("Upload-Draft-Interop-Version"))
		x.checkLimit(r.hdr, true)

		// Not an attachment yet.
		assert.Equal(t, http.StatusNotFound, x.do("GET", prefix+"/"+id, nil).code)

		head := x.do("HEAD", loc, nil)
		require.Equal(t, http.StatusNoContent, head.code)
		assert.Equal(t, "?0", head.hdr.Get("Upload-Complete"))
		assert.Equal(t, "100000", head.hdr.Get("Upload-Offset"))
		assert.Equal(t, itoa(len(data)), head.hdr.Get("Upload-Length"))
		assert.Equal(t, "no-store", head.hdr.Get("Cache-Control"))
		if lim := x.checkLimit(head.hdr, true); x.v >= 6 {
			age := lim["max-age"] + lim["expires"] // the version's one
			assert.Positive(t, age)
			assert.LessOrEqual(t, age, int64(attachment.DefaultUploadExpiry/time.Second))
		}

		r = x.appendTo(loc, 100_000, data[100_000:250_000], false)
		require.Equal(t, http.StatusNoContent, r.code, string(r.body))
		assert.Equal(t, "?0", r.hdr.Get("Upload-Complete"))
		assert.Equal(t, "250000", r.hdr.Get("Upload-Offset"))
		assert.Empty(t, r.interim)

		r = x.appendTo(loc, 250_000, data[250_000:], true)
		assert.Empty(t, r.interim)
		a := x.completion(r, id, len(data))
		assert.Equal(t, "parts.bin", a.Filename)
		got, _ := x.download(id)
		assert.Equal(t, sha(data), sha(got))
	})
}

// Without Upload-Length, the append with Upload-Complete: ?1 sets the
// length; an empty completing append works too, and an append may come
// as a POST with X-HTTP-Method-Override: PATCH.
func TestIETFCompleteWithoutLength(t *testing.T) {
	eachIETF(t, nil, func(t *testing.T, x *ietfEnv) {
		data := content(70_000)
		r := x.do("POST", prefix+"/uploads/", data[:30_000], "Upload-Complete", "?0")
		loc := x.announced(r)
		require.Equal(t, http.StatusCreated, r.code, string(r.body))
		head := x.do("HEAD", loc, nil)
		assert.Empty(t, head.hdr.Values("Upload-Length"), "no length known yet")
		// tus-js-client's overridePatchMethod: POST standing for PATCH.
		r = x.do("POST", loc, data[30_000:], "X-HTTP-Method-Override", "PATCH", "Upload-Offset", "30000", "Upload-Complete", "?0",
			"Content-Type", resumable.PartialUploadType)
		require.Equal(t, http.StatusNoContent, r.code, string(r.body))
		r = x.appendTo(loc, len(data), nil, true)
		x.completion(r, idOf(loc), len(data))
		got, _ := x.download(idOf(loc))
		assert.Equal(t, sha(data), sha(got))
	})
}

// A wrong offset is 409 with the upload's offset; from version 6 with the
// draft's mismatching-upload-offset problem and its members, from 8 with
// Upload-Complete: ?0. Nothing is appended.
func TestIETFWrongOffset(t *testing.T) {
	eachIETF(t, nil, func(t *testing.T, x *ietfEnv) {
		r := x.do("POST", prefix+"/uploads/", []byte("hello"), "Upload-Complete", "?0", "Upload-Length", "10")
		loc := x.announced(r)
		r = x.appendTo(loc, 3, []byte("world"), false)
		require.Equal(t, http.StatusConflict, r.code, string(r.body))
		assert.Equal(t, "5", r.hdr.Get("Upload-Offset"))
		p := problemOf(t, r)
		assert.Equal(t, "offset_mismatch", p["code"])
		if x.v >= 6 {
			assert.Equal(t, "https://iana.org/assignments/http-problem-types#mismatching-upload-offset", p["type"])
			assert.Equal(t, "Mismatching upload offset", p["title"])
			assert.Equal(t, 5.0, p["expected-offset"])
			assert.Equal(t, 3.0, p["provided-offset"])
		} else {
			assert.Equal(t, "about:blank", p["type"])
			assert.NotContains(t, p, "expected-offset")
		}
		if x.v >= 8 {
			assert.Equal(t, "?0", r.hdr.Get("Upload-Complete"))
		} else {
			assert.Empty(t, r.hdr.Get("Upload-Complete"))
		}
		head := x.do("HEAD", loc, nil)
		assert.Equal(t, "5", head.hdr.Get("Upload-Offset"))
	})
}

// From version 6 an append must be application/partial-upload (415
// otherwise, nothing appended); version 5 requires no type.
func TestIETFPartialUploadType(t *testing.T) {
	eachIETF(t, nil, func(t *testing.T, x *ietfEnv) {
		r := x.do("POST", prefix+"/uploads/", nil, "Upload-Complete", "?0", "Upload-Length", "10")
		loc := x.announced(r)
		r = x.do("PATCH", loc, []byte("hello"), "Upload-Offset", "0", "Upload-Complete", "?0",
			"Content-Type", "application/octet-stream")
		if x.v >= 6 {
			require.Equal(t, http.StatusUnsupportedMediaType, r.code, string(r.body))
			problemOf(t, r)
			assert.Equal(t, "0", x.do("HEAD", loc, nil).hdr.Get("Upload-Offset"))
		} else {
			require.Equal(t, http.StatusNoContent, r.code, string(r.body))
			assert.Equal(t, "5", r.hdr.Get("Upload-Offset"))
		}
	})
}

// Nothing is appended to a completed upload: 400 (from version 6 with
// the completed-upload problem, from 8 with inconsistent-upload-length
// for content). Version 8 answers a repeat of the completing request
// without content with the completion again.
func TestIETFAppendToCompleted(t *testing.T) {
	eachIETF(t, nil, func(t *testing.T, x *ietfEnv) {
		data := []byte("complete content")
		r := x.do("POST", prefix+"/uploads/", data, "Upload-Complete", "?1")
		loc := x.announced(r)
		id := idOf(loc)
		x.completion(r, id, len(data))

		r = x.appendTo(loc, len(data), []byte("more"), false)
		require.Equal(t, http.StatusBadRequest, r.code, string(r.body))
		p := problemOf(t, r)
		switch x.v {
		case 5:
			assert.Equal(t, "about:blank", p["type"])
		case 6:
			assert.Equal(t, "https://iana.org/assignments/http-problem-types#completed-upload", p["type"])
		case 8:
			assert.Equal(t, "https://iana.org/assignments/http-problem-types#inconsistent-upload-length", p["type"])
		}

		r = x.appendTo(loc, len(data), nil, true)
		if x.v >= 8 {
			x.completion(r, id, len(data))
		} else {
			require.Equal(t, http.StatusBadRequest, r.code, string(r.body))
			if x.v == 6 {
				assert.Equal(t, "https://iana.org/assignments/http-problem-types#completed-upload", problemOf(t, r)["type"])
			}
		}
		// Not a replay: another offset, or ?0.
		r = x.appendTo(loc, 0, nil, true)
		require.Equal(t, http.StatusBadRequest, r.code, string(r.body))
		r = x.appendTo(loc, len(data), nil, false)
		require.Equal(t, http.StatusBadRequest, r.code, string(r.body))
		if x.v >= 6 {
			assert.Equal(t, "https://iana.org/assignments/http-problem-types#completed-upload", problemOf(t, r)["type"])
		}
		got, _ := x.download(id)
		assert.Equal(t, data, got)
	})
}

// Length indications that disagree are 400 (from version 8 with the
// inconsistent-upload-length problem): at creation, before anything is
// stored or announced; on an append, before anything is appended.
func TestIETFLengthMismatch(t *testing.T) {
	eachIETF(t, nil, func(t *testing.T, x *ietfEnv) {
		checkType := func(r *ietfResp) {
			t.Helper()
			require.Equal(t, http.StatusBadRequest, r.code, string(r.body))
			p := problemOf(t, r)
			if x.v >= 8 {
				assert.Equal(t, "https://iana.org/assignments/http-problem-types#inconsistent-upload-length", p["type"])
			} else {
				assert.Equal(t, "about:blank", p["type"])
			}
		}
		r := x.do("POST", prefix+"/uploads/", []byte("twelve bytes"), "Upload-Complete", "?1", "Upload-Length", "20")
		checkType(r)
		assert.Empty(t, r.interim, "refused before the session is stored")
		list := x.do("GET", prefix+"/", nil)
		assert.NotContains(t, string(list.body), `"id"`)

		r = x.do("POST", prefix+"/uploads/", []byte("abc"), "Upload-Complete", "?0", "Upload-Length", "10")
		loc := x.announced(r)
		checkType(x.appendTo(loc, 3, []byte("de"), false, "Upload-Length", "12"))
		// Completing at 5 bytes an upload of 10.
		checkType(x.appendTo(loc, 3, []byte("de"), true))
		assert.Equal(t, "3", x.do("HEAD", loc, nil).hdr.Get("Upload-Offset"))
	})
}

// DELETE cancels the upload: HEAD and appends are then 404; DELETE with
// Upload-Offset or Upload-Complete is 400 and cancels nothing.
func TestIETFCancel(t *testing.T) {
	eachIETF(t, nil, func(t *testing.T, x *ietfEnv) {
		r := x.do("POST", prefix+"/uploads/", []byte("abc"), "Upload-Complete", "?0")
		loc := x.announced(r)
		assert.Equal(t, http.StatusBadRequest, x.do("DELETE", loc, nil, "Upload-Offset", "3").code)
		assert.Equal(t, http.StatusBadRequest, x.do("DELETE", loc, nil, "Upload-Complete", "?1").code)
		assert.Equal(t, http.StatusNoContent, x.do("HEAD", loc, nil).code)
		r = x.do("DELETE", loc, nil)
		require.Equal(t, http.StatusNoContent, r.code, string(r.body))
		assert.Equal(t, http.StatusNotFound, x.do("HEAD", loc, nil).code)
		assert.Equal(t, http.StatusNotFound, x.appendTo(loc, 3, []byte("d"), true).code)
		assert.Equal(t, http.StatusNotFound, x.do("DELETE", loc, nil).code)
	})
}

// Offset retrieval takes no Upload-Offset or Upload-Complete (400); from
// version 6 no Upload-Length either.
func TestIETFHeadRequestHeaders(t *testing.T) {
	eachIETF(t, nil, func(t *testing.T, x *ietfEnv) {
		r := x.do("POST", prefix+"/uploads/", []byte("abc"), "Upload-Complete", "?0", "Upload-Length", "9")
		loc := x.announced(r)
		r = x.do("HEAD", loc, nil, "Upload-Offset", "3")
		assert.Equal(t, http.StatusBadRequest, r.code)
		assert.Empty(t, r.hdr.Get("Upload-Offset"))
		assert.Equal(t, http.StatusBadRequest, x.do("HEAD", loc, nil, "Upload-Complete", "?0").code)
		want := http.StatusNoContent
		if x.v >= 6 {
			want = http.StatusBadRequest
		}
		assert.Equal(t, want, x.do("HEAD", loc, nil, "Upload-Length", "9").code)
		assert.Equal(t, http.StatusNoContent, x.do("HEAD", loc, nil).code)
	})
}

// An interop version this package does not speak (7, 3, garbage) is a
// tus request: without Tus-Resumable it is 412, never with a 104, and
// nothing is stored.
func TestIETFUnsupportedInteropVersion(t *testing.T) {
	eachIETF(t, nil, func(t *testing.T, x *ietfEnv) {
		if x.v != 8 {
			t.Skip("one run is enough: the version under test is in the request")
		}
		for _, v := range []string{"7", "3", "4", "9", "8.0", "eight"} {
			r := x.do("POST", prefix+"/uploads/", []byte("hello"), "Upload-Draft-Interop-Version", v,
				"Upload-Complete", "?1", "Upload-Length", "5")
			assert.Equal(t, http.StatusPreconditionFailed, r.code, v)
			assert.Empty(t, r.interim, v)
			assert.Equal(t, resumable.Version, r.hdr.Get("Tus-Version"), v)
		}
		list := x.do("GET", prefix+"/", nil)
		require.Equal(t, http.StatusOK, list.code)
		assert.NotContains(t, string(list.body), `"id"`)
	})
}

// A request without credentials is 401, before any session or 104; an
// upload is another user's 404.
func TestIETFAccess(t *testing.T) {
	eachIETF(t, nil, func(t *testing.T, x *ietfEnv) {
		r := x.do("POST", prefix+"/uploads/", []byte("hello"), "Upload-Complete", "?1", "X-User", "")
		assert.Equal(t, http.StatusUnauthorized, r.code)
		assert.Empty(t, r.interim)
		problemOf(t, r)
		r = x.do("POST", prefix+"/uploads/", []byte("abc"), "Upload-Complete", "?0")
		loc := x.announced(r)
		assert.Equal(t, http.StatusUnauthorized, x.do("HEAD", loc, nil, "X-User", "").code)
		assert.Equal(t, http.StatusUnauthorized, x.appendTo(loc, 3, []byte("d"), true, "X-User", "").code)
		assert.Equal(t, http.StatusNotFound, x.do("HEAD", loc, nil, "X-User", "bob").code)
		assert.Equal(t, http.StatusNotFound, x.appendTo(loc, 3, []byte("d"), true, "X-User", "bob").code)
		assert.Equal(t, http.StatusNotFound, x.do("DELETE", loc, nil, "X-User", "bob").code)
		assert.Equal(t, "3", x.do("HEAD", loc, nil).hdr.Get("Upload-Offset"))
	})
}

// Repr-Digest (and Content-Digest on a creation that carries the whole
// file) is the whole file's SHA-256: a mismatch is 400 checksum_mismatch
// and nothing is stored; a match commits.
func TestIETFReprDigest(t *testing.T) {
	eachIETF(t, nil, func(t *testing.T, x *ietfEnv) {
		data := content(50_000)
		other := content(50_001)[1:]
		for _, h := range []string{"Repr-Digest", "Content-Digest"} {
			r := x.do("POST", prefix+"/uploads/", data, "Upload-Complete", "?1", h, reprDigest(other))
			loc := x.announced(r)
			require.Equal(t, http.StatusBadRequest, r.code, string(r.body))
			assert.Equal(t, "checksum_mismatch", problemOf(t, r)["code"])
			assert.Empty(t, r.hdr.Get("Location"))
			assert.Equal(t, http.StatusNotFound, x.do("HEAD", loc, nil).code, h)
			assert.Equal(t, http.StatusNotFound, x.do("GET", prefix+"/"+idOf(loc), nil).code, h)
		}
		// Across requests: Repr-Digest at creation, checked at completion.
		r := x.do("POST", prefix+"/uploads/", data[:20_000], "Upload-Complete", "?0", "Repr-Digest", reprDigest(other))
		loc := x.announced(r)
		r = x.appendTo(loc, 20_000, data[20_000:], true)
		require.Equal(t, http.StatusBadRequest, r.code, string(r.body))
		assert.Equal(t, http.StatusNotFound, x.do("HEAD", loc, nil).code)
		list := x.do("GET", prefix+"/", nil)
		assert.NotContains(t, string(list.body), `"id"`)

		r = x.do("POST", prefix+"/uploads/", data, "Upload-Complete", "?1", "Repr-Digest", reprDigest(data))
		x.completion(r, idOf(x.announced(r)), len(data))
		assert.Equal(t, http.StatusBadRequest, x.do("POST", prefix+"/uploads/", data, "Upload-Complete", "?1",
			"Repr-Digest", "sha-256=:not base64:").code)
	})
}

// The name and claims come from Upload-Metadata, else as for the native
// raw upload: Content-Disposition or the filename query parameter, owner
// and label.KEY from the query.
func TestIETFMetadataFallback(t *testing.T) {
	eachIETF(t, nil, func(t *testing.T, x *ietfEnv) {
		data := []byte("plain text content\n")
		r := x.do("POST", prefix+"/uploads/?owner=doc%3A2&label.kind=note", data, "Upload-Complete", "?1",
			"Content-Disposition", `inline; filename="notes.txt"`)
		a := x.completion(r, idOf(x.announced(r)), len(data))
		assert.Equal(t, "notes.txt", a.Filename)
		assert.Equal(t, "doc:2", a.Owner)
		assert.Equal(t, map[string]string{"kind": "note"}, a.Labels)

		r = x.do("POST", prefix+"/uploads/?filename=q.txt", data, "Upload-Complete", "?1")
		assert.Equal(t, "q.txt", x.completion(r, idOf(x.announced(r)), len(data)).Filename)

		r = x.do("POST", prefix+"/uploads/?label.a=1&label.a=2", data, "Upload-Complete", "?1")
		assert.Equal(t, http.StatusBadRequest, r.code)
		assert.Empty(t, r.interim)
	})
}

// OPTIONS tells the limits from version 6 (expires in 6, max-age in 8)
// and that appends are application/partial-upload.
func TestIETFOptionsUploadLimit(t *testing.T) {
	eachIETF(t, &attachment.Options{MaxFileSize: 1 << 20}, func(t *testing.T, x *ietfEnv) {
		r := x.do("OPTIONS", prefix+"/uploads/", nil)
		require.Equal(t, http.StatusNoContent, r.code)
		lim := x.checkLimit(r.hdr, true)
		if x.v == 5 {
			assert.Empty(t, r.hdr.Get("Accept-Patch"))
			return
		}
		assert.Equal(t, int64(1<<20), lim["max-size"])
		assert.Equal(t, int64(0), lim["min-size"])
		age := map[int]string{6: "expires", 8: "max-age"}[x.v]
		assert.Equal(t, int64(attachment.DefaultUploadExpiry/time.Second), lim[age])
		assert.Equal(t, resumable.PartialUploadType, r.hdr.Get("Accept-Patch"))

		// Too large for max-size: 413 with the limits, before a session.
		r = x.do("POST", prefix+"/uploads/", nil, "Upload-Complete", "?0", "Upload-Length", itoa(2<<20))
		require.Equal(t, http.StatusRequestEntityTooLarge, r.code)
		assert.Empty(t, r.interim)
		x.checkLimit(r.hdr, false)
	})
}

// An expired upload is not active: 404 (tus says 410).
func TestIETFExpired(t *testing.T) {
	eachIETF(t, &attachment.Options{UploadExpiry: 50 * time.Millisecond}, func(t *testing.T, x *ietfEnv) {
		r := x.do("POST", prefix+"/uploads/", []byte("abc"), "Upload-Complete", "?0")
		loc := x.announced(r)
		time.Sleep(100 * time.Millisecond)
		assert.Equal(t, http.StatusNotFound, x.do("HEAD", loc, nil).code)
		assert.Equal(t, http.StatusNotFound, x.appendTo(loc, 3, []byte("d"), true).code)
	})
}

// oneXX is a ResponseRecorder that keeps 1xx answers apart from the final.
type oneXX struct {
	*httptest.ResponseRecorder
	interim []int
}

func (w *oneXX) WriteHeader(code int) {
	if code >= 100 && code < 200 {
		w.interim = append(w.interim, code)
		return
	}
	w.ResponseRecorder.WriteHeader(code)
}

// Whatever its headers, an IETF request is answered below 500; a 104
// comes only for a creation, once, before a 2xx or a problem, and only
// for interop versions 5, 6 and 8.
func FuzzIETFHeaders(f *testing.F) {
	e := newEnv(f, backends()[1], nil)
	f.Add("8", "?1", "5", "", "filename YS50eHQ=", "sha-256=:aGVsbG8=:", "hello")
	f.Add("6", "?0", "10", "0", "", "", "abc")
	f.Add("5", "?1", "", "3", "a,a", "", "")
	f.Add("7", "1", "-1", "x", "label.x", "sha-256=1", "z")
	f.Add("8;x=1", "?1;a", "99999999999999999999", "18446744073709551616", "", "md5=:AA==:", "")
	f.Fuzz(func(t *testing.T, version, complete, length, offset, md, repr, body string) {
		send := func(method, path string, body []byte, hdr ...string) *oneXX {
			req := httptest.NewRequest(method, path, bytes.NewReader(body))
			req.Header.Set("X-User", "alice")
			for i := 0; i+1 < len(hdr); i += 2 {
				if hdr[i+1] != "" {
					req.Header.Set(hdr[i], hdr[i+1])
				}
			}
			w := &oneXX{ResponseRecorder: httptest.NewRecorder()}
			e.srv.ServeHTTP(w, req)
			require.Less(t, w.Code, 500, w.Body.String())
			return w
		}
		w := send("POST", prefix+"/uploads/", []byte(body), "Upload-Draft-Interop-Version", version,
			"Upload-Complete", complete, "Upload-Length", length, "Upload-Offset", offset,
			"Upload-Metadata", md, "Repr-Digest", repr)
		item, err := httpsfv.UnmarshalItem([]string{version})
		v, _ := item.Value.(int64)
		if w.Code == http.StatusPreconditionFailed || err != nil || (v != 5 && v != 6 && v != 8) {
			require.Empty(t, w.interim)
		}
		require.LessOrEqual(t, len(w.interim), 1)
		loc := w.Header().Get("Location")
		if w.Code != http.StatusCreated || !strings.HasPrefix(loc, prefix+"/uploads/") {
			return
		}
		require.Len(t, w.interim, 1)
		w = send("PATCH", loc, []byte(body), "Upload-Draft-Interop-Version", version,
			"Upload-Complete", complete, "Upload-Length", length, "Upload-Offset", offset,
			"Content-Type", resumable.PartialUploadType)
		require.Empty(t, w.interim)
		w = send("HEAD", loc, nil, "Upload-Draft-Interop-Version", version)
		require.Empty(t, w.interim)
	})
}

// The 104 of a creation comes before its content is read: the client
// sends the content only once it has the upload's Location (a server
// waiting for the content first would never answer).
func TestIETFAnnouncedBeforeContent(t *testing.T) {
	eachIETF(t, nil, func(t *testing.T, x *ietfEnv) {
		data := content(40_000)
		pr, pw := io.Pipe()
		got := make(chan string, 1)
		trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			if code == resumable.StatusUploadResumptionSupported {
				got <- h.Get("Location")
			}
			return nil
		}}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), "POST", x.url+prefix+"/uploads/", pr)
		require.NoError(t, err)
		req.ContentLength = int64(len(data))
		req.Header.Set("X-User", "alice")
		req.Header.Set("Upload-Draft-Interop-Version", strconv.Itoa(x.v))
		req.Header.Set("Upload-Complete", "?1")
		sent := make(chan string, 1)
		go func() {
			select {
			case loc := <-got:
				_, _ = pw.Write(data)
				_ = pw.Close()
				sent <- loc
			case <-time.After(30 * time.Second): // a hang guard, not a measure
				_ = pw.CloseWithError(io.ErrUnexpectedEOF)
				sent <- ""
			}
		}()
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		loc := <-sent
		require.NotEmpty(t, loc, "no 104 before the content")
		x.completion(&ietfResp{code: res.StatusCode, hdr: res.Header, body: body}, idOf(loc), len(data))
	})
}

// A creation whose connection drops after the 104 keeps the bytes that
// arrived: the client resumes at the upload the 104 named, from HEAD's
// offset, and the file is byte-exact. Raw HTTP/1.1 over a real server.
func TestIETFResumeAfterDroppedCreation(t *testing.T) {
	for _, v := range resumable.InteropVersions {
		t.Run("interop-"+itoa(v), func(t *testing.T) {
			e := newEnv(t, backends()[0], nil)
			srv := httptest.NewServer(e.srv)
			t.Cleanup(srv.Close)
			x := &ietfEnv{env: e, url: srv.URL, v: v}
			data := content(200_000)

			c, err := net.Dial("tcp", srv.Listener.Addr().String())
			require.NoError(t, err)
			_, err = fmt.Fprintf(c, "POST %s/uploads/ HTTP/1.1\r\nHost: x\r\nX-User: alice\r\n"+
				"Upload-Draft-Interop-Version: %d\r\nUpload-Complete: ?1\r\nContent-Length: %d\r\n\r\n", prefix, v, len(data))
			require.NoError(t, err)
			// The 104 comes before any content is sent.
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			require.NoError(t, err)
			require.Equal(t, resumable.StatusUploadResumptionSupported, resp.StatusCode)
			loc := resp.Header.Get("Location")
			require.True(t, strings.HasPrefix(loc, prefix+"/uploads/"), loc)
			_, err = c.Write(data[:70_000])
			require.NoError(t, err)
			time.Sleep(100 * time.Millisecond)
			require.NoError(t, c.Close())

			var offset int
			require.Eventually(t, func() bool {
				head := x.do("HEAD", loc, nil)
				if head.code != http.StatusNoContent {
					return false // the cut creation may still hold the upload (423)
				}
				assert.Equal(t, "?0", head.hdr.Get("Upload-Complete"))
				_, err := fmt.Sscan(head.hdr.Get("Upload-Offset"), &offset)
				return err == nil && offset > 0
			}, 5*time.Second, 20*time.Millisecond)
			assert.LessOrEqual(t, offset, 70_000)
			x.completion(x.appendTo(loc, offset, data[offset:], true), idOf(loc), len(data))
			got, _ := x.download(idOf(loc))
			assert.Equal(t, sha(data), sha(got))
		})
	}
}

// A creation with Expect: 100-continue gets the 104 first, then the 100
// when its content is read (the draft forbids leaving the 100 out).
func TestIETFExpectContinue(t *testing.T) {
	eachIETF(t, nil, func(t *testing.T, x *ietfEnv) {
		data := content(30_000)
		var codes []int
		trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, _ textproto.MIMEHeader) error {
			codes = append(codes, code)
			return nil
		}}
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), "POST",
			x.url+prefix+"/uploads/", bytes.NewReader(data))
		require.NoError(t, err)
		req.Header.Set("X-User", "alice")
		req.Header.Set("Upload-Draft-Interop-Version", itoa(x.v))
		req.Header.Set("Upload-Complete", "?1")
		req.Header.Set("Expect", "100-continue")
		// The content waits for the 100, however long it takes.
		client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Hour}}
		defer client.CloseIdleConnections()
		res, err := client.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		assert.Equal(t, []int{resumable.StatusUploadResumptionSupported, http.StatusContinue}, codes)
		r := &ietfResp{code: res.StatusCode, hdr: res.Header, body: body}
		require.Equal(t, http.StatusCreated, r.code, string(body))
		x.completion(r, idOf(r.hdr.Get("Location")), len(data))
	})
}

// An IETF draft client (interop version 8) creates an upload whose
// content is the whole file: the 104 names the upload before the content
// is read, and the final answer is the native upload's.
func Example_ietfDraft() {
	svc, err := attachment.Open(context.Background(), "mem://", "mem://", nil)
	if err != nil {
		panic(err)
	}
	defer svc.Close()
	h := attachment.NewHandler(svc, &attachment.HandlerOptions{
		Prefix:  "/attachments",
		Uploads: resumable.New(nil),
	})
	srv := httptest.NewServer(h)
	defer srv.Close()

	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		fmt.Println("interim:", code, strings.HasPrefix(h.Get("Location"), "/attachments/uploads/"))
		return nil
	}}
	ctx := httptrace.WithClientTrace(context.Background(), trace)
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/attachments/uploads/?filename=hello.txt",
		strings.NewReader("hello world"))
	req.Header.Set("Upload-Draft-Interop-Version", "8")
	req.Header.Set("Upload-Complete", "?1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var body struct {
		Attachments []attachment.Attachment `json:"attachments"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		panic(err)
	}
	fmt.Println("final:", resp.StatusCode, resp.Header.Get("Upload-Complete"), resp.Header.Get("Upload-Offset"))
	fmt.Println(body.Attachments[0].Filename, body.Attachments[0].Size)
	// Output:
	// interim: 104 true
	// final: 201 ?1 11
	// hello.txt 11
}
