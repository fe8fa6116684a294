package resumable_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dunglas/httpsfv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/resumable"
)

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

// While a creation reads its content, an append to its upload is 423
// with Retry-After and changes nothing; the creation then completes.
func TestIETFLockedWhileCreating(t *testing.T) {
	for _, v := range resumable.InteropVersions() {
		t.Run("interop-"+itoa(v), func(t *testing.T) {
			e := newEnv(t, backends()[1], nil)
			srv := httptest.NewServer(e.srv)
			t.Cleanup(srv.Close)
			x := &ietfEnv{env: e, url: srv.URL, v: v}
			data := content(50_000)

			c, err := net.Dial("tcp", srv.Listener.Addr().String())
			require.NoError(t, err)
			t.Cleanup(func() { c.Close() })
			_, err = fmt.Fprintf(c, "POST %s/uploads/ HTTP/1.1\r\nHost: x\r\nX-User: alice\r\n"+
				"Upload-Draft-Interop-Version: %d\r\nUpload-Complete: ?1\r\nContent-Length: %d\r\n\r\n", prefix, v, len(data))
			require.NoError(t, err)
			br := bufio.NewReader(c)
			interim, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			require.Equal(t, resumable.StatusUploadResumptionSupported, interim.StatusCode)
			loc := interim.Header.Get("Location")
			_, err = c.Write(data[:10_000])
			require.NoError(t, err)

			// The creation claims the upload before it reads; the probe is
			// an empty append, which changes nothing should it come first.
			time.Sleep(200 * time.Millisecond)
			require.Eventually(t, func() bool {
				r := x.appendTo(loc, 0, []byte{}, false)
				if r.code != http.StatusLocked {
					return false
				}
				assert.NotEmpty(t, r.hdr.Get("Retry-After"))
				assert.Equal(t, "locked", problemOf(t, r)["code"])
				return true
			}, 5*time.Second, 20*time.Millisecond)

			_, err = c.Write(data[10_000:])
			require.NoError(t, err)
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			x.completion(&ietfResp{code: resp.StatusCode, hdr: resp.Header, body: body}, idOf(loc), len(data))
			got, _ := x.download(idOf(loc))
			assert.Equal(t, data, got)
		})
	}
}
