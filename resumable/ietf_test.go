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
	for _, v := range resumable.InteropVersions() {
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
	for _, v := range resumable.InteropVersions() {
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

// HTTP/1.0 has no interim answers: a creation over it gets none, only
// the final answer.
func TestIETFNoInterimOverHTTP10(t *testing.T) {
	e := newEnv(t, backends()[1], nil)
	srv := httptest.NewServer(e.srv)
	t.Cleanup(srv.Close)
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	_, err = fmt.Fprintf(c, "POST %s/uploads/ HTTP/1.0\r\nHost: x\r\nX-User: alice\r\n"+
		"Upload-Draft-Interop-Version: 8\r\nUpload-Complete: ?1\r\nContent-Length: 5\r\n\r\nhello", prefix)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, "?1", resp.Header.Get("Upload-Complete"))
}
