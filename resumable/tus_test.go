package resumable_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/resumable"
)

func content(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// A file sent in several PATCHes, with a HEAD between them to resume, is
// committed under the upload's ID with its metadata and downloads
// byte-exact through the native API; until then its ID is 404 and it is
// not listed.
func TestTusFullUpload(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *env) {
		data := content(300_000)
		md := "filename " + b64("report.bin") + ",filetype " + b64("application/octet-stream") +
			",owner " + b64("doc:1") + ",label.kind " + b64("scan") + ",other"
		url := e.create("Upload-Length", itoa(len(data)), "Upload-Metadata", md)
		id := idOf(url)

		rec := e.patch(url, 0, data[:100_000])
		require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
		assert.Equal(t, "100000", rec.Header().Get("Upload-Offset"))
		assert.Equal(t, resumable.Version, rec.Header().Get("Tus-Resumable"))
		assert.Empty(t, rec.Header().Get("Location"))
		exp, err := time.Parse(http.TimeFormat, rec.Header().Get("Upload-Expires"))
		require.NoError(t, err)
		assert.True(t, exp.After(time.Now()))

		// Incomplete: not an attachment, not listed.
		assert.Equal(t, http.StatusNotFound, e.do("GET", prefix+"/"+id, nil).Code)
		list := e.do("GET", prefix+"/", nil)
		require.Equal(t, http.StatusOK, list.Code)
		assert.NotContains(t, list.Body.String(), id)

		// Resume: HEAD gives the offset, the client goes on from there.
		head := e.do("HEAD", url, nil)
		require.Equal(t, http.StatusNoContent, head.Code)
		assert.Equal(t, "100000", head.Header().Get("Upload-Offset"))
		assert.Equal(t, itoa(len(data)), head.Header().Get("Upload-Length"))
		assert.Equal(t, md, head.Header().Get("Upload-Metadata"))
		assert.Equal(t, "no-store", head.Header().Get("Cache-Control"))
		assert.NotEmpty(t, head.Header().Get("Upload-Expires"))
		assert.Equal(t, resumable.Version, head.Header().Get("Tus-Resumable"))

		rec = e.patch(url, 100_000, data[100_000:250_000])
		require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
		assert.Equal(t, "250000", rec.Header().Get("Upload-Offset"))
		rec = e.patch(url, 250_000, data[250_000:])
		require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
		assert.Equal(t, itoa(len(data)), rec.Header().Get("Upload-Offset"))
		assert.Equal(t, prefix+"/"+id, rec.Header().Get("Location"))

		got, a := e.download(id)
		assert.Equal(t, sha(data), sha(got))
		assert.Equal(t, sha(data), a.SHA256)
		assert.Equal(t, "report.bin", a.Filename)
		assert.Equal(t, "doc:1", a.Owner)
		assert.Equal(t, map[string]string{"kind": "scan"}, a.Labels)
		assert.Equal(t, "alice", a.CreatedBy)

		// HEAD of the committed ID points at the attachment.
		head = e.do("HEAD", url, nil)
		require.Equal(t, http.StatusNoContent, head.Code)
		assert.Equal(t, itoa(len(data)), head.Header().Get("Upload-Offset"))
		assert.Equal(t, itoa(len(data)), head.Header().Get("Upload-Length"))
		assert.Equal(t, prefix+"/"+id, head.Header().Get("Location"))
		// A replay of the last PATCH is answered as it was.
		rec = e.patch(url, len(data), []byte{})
		assert.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
		rec = e.patch(url, 5, []byte("x"))
		assert.Equal(t, http.StatusConflict, rec.Code, rec.Body.String())
	})
}

// creation-with-upload: the POST carries the first bytes.
func TestTusCreationWithUpload(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *env) {
		data := content(5000)
		rec := e.do("POST", prefix+"/uploads/", data[:3000], "Upload-Length", itoa(len(data)), "Upload-Metadata", "filename "+b64("a.bin"))
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		assert.Equal(t, "3000", rec.Header().Get("Upload-Offset"))
		url := rec.Header().Get("Location")
		rec = e.patch(url, 3000, data[3000:])
		require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
		got, _ := e.download(idOf(url))
		assert.Equal(t, data, got)

		// The whole file in the POST commits it at once.
		rec = e.do("POST", prefix+"/uploads/", data, "Upload-Length", itoa(len(data)))
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		assert.Equal(t, itoa(len(data)), rec.Header().Get("Upload-Offset"))
		got, a := e.download(idOf(rec.Header().Get("Location")))
		assert.Equal(t, data, got)
		assert.Equal(t, "upload", a.Filename, "Options.DefaultName")
	})
}

// creation-defer-length: the length comes with a later PATCH.
func TestTusDeferredLength(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *env) {
		data := content(4000)
		url := e.create("Upload-Defer-Length", "1", "Upload-Metadata", "filename "+b64("d.bin"))
		head := e.do("HEAD", url, nil)
		assert.Equal(t, "1", head.Header().Get("Upload-Defer-Length"))
		assert.Empty(t, head.Header().Get("Upload-Length"))
		rec := e.patch(url, 0, data[:1000])
		require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
		rec = e.patch(url, 1000, data[1000:], "Upload-Length", "0")
		assert.Equal(t, http.StatusBadRequest, rec.Code, "a length below the offset")
		rec = e.patch(url, 1000, data[1000:], "Upload-Length", "999")
		assert.Equal(t, http.StatusBadRequest, rec.Code, "a length below the offset")
		rec = e.patch(url, 1000, data[1000:], "Upload-Length", itoa(len(data)))
		require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
		assert.Equal(t, prefix+"/"+idOf(url), rec.Header().Get("Location"))
		got, _ := e.download(idOf(url))
		assert.Equal(t, data, got)

		// A deferred upload of no bytes.
		url = e.create("Upload-Defer-Length", "1")
		rec = e.patch(url, 0, []byte{}, "Upload-Length", "0")
		require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
		got, _ = e.download(idOf(url))
		assert.Empty(t, got)
	})
}

// Upload-Length: 0 commits the empty attachment at creation.
func TestTusEmptyUpload(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *env) {
		url := e.create("Upload-Length", "0", "Upload-Metadata", "filename "+b64("empty.txt"))
		head := e.do("HEAD", url, nil)
		require.Equal(t, http.StatusNoContent, head.Code)
		assert.Equal(t, "0", head.Header().Get("Upload-Offset"))
		assert.Equal(t, prefix+"/"+idOf(url), head.Header().Get("Location"))
		got, a := e.download(idOf(url))
		assert.Empty(t, got)
		assert.Equal(t, sha(nil), a.SHA256)
	})
}

// A PATCH at a wrong offset is 409 with the upload's offset, and changes
// nothing.
func TestTusWrongOffset(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *env) {
		url := e.create("Upload-Length", "10")
		require.Equal(t, http.StatusNoContent, e.patch(url, 0, []byte("abcd")).Code)
		rec := e.patch(url, 2, []byte("zzzz"))
		require.Equal(t, http.StatusConflict, rec.Code)
		assert.Equal(t, "4", rec.Header().Get("Upload-Offset"))
		assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
		assert.Equal(t, resumable.Version, rec.Header().Get("Tus-Resumable"))
		var p attachment.Problem
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
		assert.Equal(t, "offset_mismatch", p.Code)
		assert.Equal(t, "4", e.do("HEAD", url, nil).Header().Get("Upload-Offset"))
		// Bytes past the length: 413, nothing kept.
		rec = e.patch(url, 4, []byte("0123456789"))
		assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
		assert.Equal(t, "4", e.do("HEAD", url, nil).Header().Get("Upload-Offset"))
		require.Equal(t, http.StatusNoContent, e.patch(url, 4, []byte("efghij")).Code)
		got, _ := e.download(idOf(url))
		assert.Equal(t, "abcdefghij", string(got))
	})
}

// An Upload-Length over MaxFileSize is 413 at creation, before any byte;
// nothing is created.
func TestTusOversize(t *testing.T) {
	eachBackend(t, &attachment.Options{MaxFileSize: 100}, func(t *testing.T, e *env) {
		opt := e.do("OPTIONS", prefix+"/uploads/", nil)
		assert.Equal(t, "100", opt.Header().Get("Tus-Max-Size"))
		rec := e.do("POST", prefix+"/uploads/", nil, "Upload-Length", "101")
		require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code, rec.Body.String())
		assert.Empty(t, rec.Header().Get("Location"))
		assert.Equal(t, "100", rec.Header().Get("Tus-Max-Size"))
		assert.Contains(t, rec.Body.String(), "too_large")
		// A deferred upload is cut at MaxFileSize.
		url := e.create("Upload-Defer-Length", "1")
		rec = e.patch(url, 0, content(101))
		assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
		assert.Equal(t, "0", e.do("HEAD", url, nil).Header().Get("Upload-Offset"))
	})
}

// Access: no credentials is 401; another caller, or another tenant, sees
// 404.
func TestTusAccess(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *env) {
		rec := e.do("POST", prefix+"/uploads/", nil, "Upload-Length", "5", "X-User", "")
		assert.Equal(t, http.StatusUnauthorized, rec.Code)
		assert.Equal(t, resumable.Version, rec.Header().Get("Tus-Resumable"))
		url := e.create("Upload-Length", "5")
		assert.Equal(t, http.StatusUnauthorized, e.do("HEAD", url, nil, "X-User", "").Code)
		assert.Equal(t, http.StatusNotFound, e.do("HEAD", url, nil, "X-User", "bob").Code)
		assert.Equal(t, http.StatusNotFound, e.do("HEAD", url, nil, "X-Tenant", "other").Code)
		assert.Equal(t, http.StatusNotFound, e.patch(url, 0, []byte("hello"), "X-User", "bob").Code)
		assert.Equal(t, http.StatusNotFound, e.do("DELETE", url, nil, "X-User", "bob").Code)
		assert.Equal(t, http.StatusNoContent, e.patch(url, 0, []byte("hello")).Code)
	})
}

// The protocol's own refusals: 412 without Tus-Resumable: 1.0.0 (but on
// OPTIONS, HEAD and GET), 415 for a PATCH of another type, 400 for
// malformed headers, 405 for other methods.
func TestTusProtocolErrors(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *env) {
		for _, v := range []string{"", "0.2.2", "1.0"} {
			rec := e.do("POST", prefix+"/uploads/", nil, "Upload-Length", "5", "Tus-Resumable", v)
			require.Equal(t, http.StatusPreconditionFailed, rec.Code, v)
			assert.Equal(t, resumable.Version, rec.Header().Get("Tus-Version"))
			assert.Equal(t, resumable.Version, rec.Header().Get("Tus-Resumable"))
		}
		url := e.create("Upload-Length", "5")
		assert.Equal(t, http.StatusNoContent, e.do("HEAD", url, nil, "Tus-Resumable", "").Code)
		assert.Equal(t, http.StatusPreconditionFailed, e.patch(url, 0, []byte("a"), "Tus-Resumable", "").Code)
		rec := e.patch(url, 0, []byte("a"), "Content-Type", "application/octet-stream")
		assert.Equal(t, http.StatusUnsupportedMediaType, rec.Code)
		for _, h := range [][]string{
			{"Upload-Length", "-1"}, {"Upload-Length", "x"}, {"Upload-Defer-Length", "2"},
			{"Upload-Length", "5", "Upload-Defer-Length", "1"}, {},
			{"Upload-Length", "5", "Upload-Metadata", "filename !!!"},
			{"Upload-Length", "5", "Upload-Metadata", "a " + b64("x") + ",a " + b64("y")},
			{"Upload-Length", "5", "Upload-Metadata", "filename " + b64(strings.Repeat("x", 4000))},
			{"Upload-Length", "5", "Upload-Metadata", "filename " + b64("..")},
		} {
			rec := e.do("POST", prefix+"/uploads/", nil, h...)
			assert.Equal(t, http.StatusBadRequest, rec.Code, "%v: %s", h, rec.Body.String())
		}
		assert.Equal(t, http.StatusBadRequest, e.do("PATCH", url, []byte("a"), "Upload-Offset", "-1").Code)
		assert.Equal(t, http.StatusBadRequest, e.do("PATCH", url, []byte("a")).Code)
		rec = e.do("PUT", url, nil)
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
		assert.NotEmpty(t, rec.Header().Get("Allow"))
		assert.Equal(t, http.StatusMethodNotAllowed, e.do("PATCH", prefix+"/uploads/", []byte("a"), "Upload-Offset", "0").Code)
		assert.Equal(t, http.StatusNotFound, e.do("HEAD", prefix+"/uploads/nope", nil).Code)
	})
}

// OPTIONS says what is supported.
func TestTusOptions(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *env) {
		rec := e.do("OPTIONS", prefix+"/uploads/", nil, "Tus-Resumable", "")
		require.Equal(t, http.StatusNoContent, rec.Code)
		assert.Equal(t, resumable.Version, rec.Header().Get("Tus-Version"))
		assert.Equal(t, resumable.Version, rec.Header().Get("Tus-Resumable"))
		assert.Equal(t, resumable.Extensions, rec.Header().Get("Tus-Extension"))
		for _, ext := range []string{"creation", "creation-with-upload", "creation-defer-length", "termination", "expiration", "checksum", "concatenation"} {
			assert.Contains(t, strings.Split(rec.Header().Get("Tus-Extension"), ","), ext)
		}
		assert.Equal(t, itoa(attachment.DefaultMaxFileSize), rec.Header().Get("Tus-Max-Size"))
		assert.Equal(t, http.StatusUnauthorized, e.do("OPTIONS", prefix+"/uploads", nil, "X-User", "").Code)
	})
}

// termination: DELETE ends the upload; HEAD is then 404. PATCH and
// DELETE also come as a POST with X-HTTP-Method-Override.
func TestTusTerminate(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *env) {
		url := e.create("Upload-Length", "10")
		require.Equal(t, http.StatusNoContent, e.patch(url, 0, []byte("abc")).Code)
		require.Equal(t, http.StatusNoContent, e.do("DELETE", url, nil).Code)
		assert.Equal(t, http.StatusNotFound, e.do("HEAD", url, nil).Code)
		assert.Equal(t, http.StatusNotFound, e.patch(url, 3, []byte("d")).Code)
		assert.Equal(t, http.StatusNotFound, e.do("DELETE", url, nil).Code)

		url = e.create("Upload-Length", "3")
		rec := e.do("POST", url, []byte("abc"), "X-HTTP-Method-Override", "PATCH", "Upload-Offset", "0")
		require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
		got, _ := e.download(idOf(url))
		assert.Equal(t, "abc", string(got))
		url = e.create("Upload-Length", "3")
		require.Equal(t, http.StatusNoContent, e.do("POST", url, nil, "X-HTTP-Method-Override", "DELETE").Code)
		assert.Equal(t, http.StatusNotFound, e.do("HEAD", url, nil).Code)
	})
}

// expiration: an upload past Options.UploadExpiry is 410 until Maintain
// removes it, then 404.
func TestTusExpired(t *testing.T) {
	eachBackend(t, &attachment.Options{UploadExpiry: 50 * time.Millisecond}, func(t *testing.T, e *env) {
		url := e.create("Upload-Length", "10")
		time.Sleep(100 * time.Millisecond)
		assert.Equal(t, http.StatusGone, e.do("HEAD", url, nil).Code)
		assert.Equal(t, http.StatusGone, e.patch(url, 0, bytes.Repeat([]byte("a"), 3)).Code)
		_, err := e.svc.Maintain(t.Context())
		require.NoError(t, err)
		assert.Equal(t, http.StatusNotFound, e.do("HEAD", url, nil).Code)
	})
}

// A type Options.AllowedTypes refuses ends the upload once its last (or
// first 3 KiB of) bytes are in: 415 unsupported_type, nothing kept.
func TestTusRefusedType(t *testing.T) {
	eachBackend(t, &attachment.Options{AllowedTypes: []string{"image/png"}}, func(t *testing.T, e *env) {
		url := e.create("Upload-Length", "11", "Upload-Metadata", "filename "+b64("a.txt"))
		rec := e.patch(url, 0, []byte("hello world"))
		require.Equal(t, http.StatusUnsupportedMediaType, rec.Code, rec.Body.String())
		assert.Contains(t, rec.Body.String(), "unsupported_type")
		assert.Equal(t, http.StatusNotFound, e.do("HEAD", url, nil).Code)
		assert.Equal(t, http.StatusNotFound, e.do("GET", prefix+"/"+idOf(url), nil).Code)
	})
}

// A wrong offset's problem names the upload's offset to go on from, not
// just "Conflict".
func TestTusErrorDetails(t *testing.T) {
	e := newEnv(t, backends()[1], nil)
	url := e.create("Upload-Length", "10")
	rec := e.patch(url, 4, []byte("abc"))
	require.Equal(t, http.StatusConflict, rec.Code)
	var p struct{ Code, Detail string }
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	assert.Equal(t, "offset_mismatch", p.Code)
	assert.Equal(t, "the upload is at offset 0, not 4", p.Detail)
}
