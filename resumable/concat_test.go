package resumable_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/resumable"
	"github.com/attachkit/attachment/storage"
)

// leftKeys lists every key under the content and uploads prefixes.
func (e *env) leftKeys() []string {
	e.t.Helper()
	var keys []string
	for _, p := range []string{storage.ContentPrefix, storage.UploadsPrefix} {
		for it, err := range e.cs.Items(e.t.Context(), p) {
			require.NoError(e.t, err)
			keys = append(keys, it.Key)
		}
	}
	return keys
}

// concatenation: partial uploads, sent in any order and each in its own
// way (PATCHes, creation-with-upload, no bytes), are never attachments on
// their own; a final upload naming them (absolute and relative URLs)
// commits their bytes joined in its order under a new ID, with the
// final's metadata, and removes them.
func TestTusConcatenation(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *env) {
		data := content(500_000)
		a, b := data[:200_000], data[200_000:]

		pa := e.create("Upload-Concat", "partial", "Upload-Length", itoa(len(a)))
		rec := e.do("POST", prefix+"/uploads/", b, "Upload-Concat", "partial", "Upload-Length", itoa(len(b)))
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		pb := rec.Header().Get("Location")
		pc := e.create("Upload-Concat", "partial", "Upload-Length", "0")

		require.Equal(t, http.StatusNoContent, e.patch(pa, 0, a[:50_000]).Code)
		head := e.do("HEAD", pa, nil)
		assert.Equal(t, "partial", head.Header().Get("Upload-Concat"))
		assert.Equal(t, "50000", head.Header().Get("Upload-Offset"))
		rec = e.patch(pa, 50_000, a[50_000:])
		require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
		assert.Empty(t, rec.Header().Get("Location"), "a partial is no attachment")

		for _, p := range []string{pa, pb, pc} {
			head := e.do("HEAD", p, nil)
			require.Equal(t, http.StatusNoContent, head.Code)
			assert.Equal(t, "partial", head.Header().Get("Upload-Concat"))
			assert.Equal(t, head.Header().Get("Upload-Length"), head.Header().Get("Upload-Offset"))
			assert.Equal(t, http.StatusNotFound, e.do("GET", prefix+"/"+idOf(p), nil).Code)
		}
		list := e.do("GET", prefix+"/", nil)
		require.Equal(t, http.StatusOK, list.Code)
		assert.NotContains(t, list.Body.String(), idOf(pa))

		md := "filename " + b64("joined.bin") + ",owner " + b64("doc:7") + ",label.kind " + b64("video")
		rec = e.do("POST", prefix+"/uploads/", nil, "Upload-Metadata", md,
			"Upload-Concat", "final;http://other.example"+pa+" "+pc+" "+pb)
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		final := rec.Header().Get("Location")
		require.True(t, strings.HasPrefix(final, prefix+"/uploads/"), final)
		id := idOf(final)
		for _, p := range []string{pa, pb, pc} {
			assert.NotEqual(t, idOf(p), id)
			assert.Equal(t, http.StatusNotFound, e.do("HEAD", p, nil).Code, "the partials are gone")
		}
		got, att := e.download(id)
		assert.Equal(t, sha(append(append([]byte{}, a...), b...)), sha(got))
		assert.Equal(t, "joined.bin", att.Filename)
		assert.Equal(t, "doc:7", att.Owner)
		assert.Equal(t, map[string]string{"kind": "video"}, att.Labels)
		head = e.do("HEAD", final, nil)
		require.Equal(t, http.StatusNoContent, head.Code)
		assert.Equal(t, itoa(len(data)), head.Header().Get("Upload-Offset"))
		assert.Equal(t, prefix+"/"+id, head.Header().Get("Location"))

		// Only the final's content is left.
		assert.Equal(t, []string{storage.ContentKey(id)}, e.leftKeys())
	})
}

// A final upload that names something other than complete partial
// uploads of its caller is refused, and commits nothing: a partial still
// incomplete or a whole upload (400), an unknown or another caller's
// upload (404), a malformed header or one with Upload-Length (400), a
// total over MaxFileSize (413). The partials stay usable.
func TestTusConcatenationRefused(t *testing.T) {
	eachBackend(t, &attachment.Options{MaxFileSize: 1000}, func(t *testing.T, e *env) {
		done := e.create("Upload-Concat", "partial", "Upload-Length", "600")
		require.Equal(t, http.StatusNoContent, e.patch(done, 0, content(600)).Code)
		done2 := e.create("Upload-Concat", "partial", "Upload-Length", "600")
		require.Equal(t, http.StatusNoContent, e.patch(done2, 0, content(600)).Code)
		half := e.create("Upload-Concat", "partial", "Upload-Length", "10")
		require.Equal(t, http.StatusNoContent, e.patch(half, 0, content(5)).Code)
		whole := e.create("Upload-Length", "10")
		bobs := e.do("POST", prefix+"/uploads/", nil, "Upload-Concat", "partial", "Upload-Length", "0", "X-User", "bob")
		require.Equal(t, http.StatusCreated, bobs.Code)

		for _, c := range []struct {
			status int
			hdr    []string
		}{
			{http.StatusBadRequest, []string{"Upload-Concat", "final;" + done + " " + half}},
			{http.StatusBadRequest, []string{"Upload-Concat", "final;" + done + " " + whole}},
			{http.StatusBadRequest, []string{"Upload-Concat", "final;" + done + " " + done}},
			{http.StatusNotFound, []string{"Upload-Concat", "final;" + done + " " + prefix + "/uploads/0190a0b0-0000-7000-8000-000000000000"}},
			{http.StatusNotFound, []string{"Upload-Concat", "final;" + bobs.Header().Get("Location")}},
			{http.StatusBadRequest, []string{"Upload-Concat", "final;/elsewhere/uploads/x"}},
			{http.StatusBadRequest, []string{"Upload-Concat", "final;"}},
			{http.StatusBadRequest, []string{"Upload-Concat", "final " + done}},
			{http.StatusBadRequest, []string{"Upload-Concat", "full"}},
			{http.StatusBadRequest, []string{"Upload-Concat", "final;" + done, "Upload-Length", "600"}},
			{http.StatusRequestEntityTooLarge, []string{"Upload-Concat", "final;" + done + " " + done2}},
		} {
			rec := e.do("POST", prefix+"/uploads/", nil, c.hdr...)
			assert.Equal(t, c.status, rec.Code, "%v: %s", c.hdr, rec.Body.String())
			assert.Equal(t, resumable.Version, rec.Header().Get("Tus-Resumable"))
		}
		list := e.do("GET", prefix+"/", nil)
		require.Equal(t, http.StatusOK, list.Code)
		assert.Contains(t, list.Body.String(), `"data":[]`, "nothing committed")

		// A partial takes no bytes past its length, and a whole upload is
		// never joined; the refused partials still join.
		assert.Equal(t, http.StatusConflict, e.patch(done, 0, content(1)).Code)
		rec := e.do("POST", prefix+"/uploads/", nil, "Upload-Concat", "final;"+done)
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		got, att := e.download(idOf(rec.Header().Get("Location")))
		assert.Equal(t, content(600), got)
		assert.Equal(t, "upload", att.Filename, "the default name")
	})
}

// A partial is not checked against AllowedTypes (its first bytes are not
// the file's); the joined file is.
func TestTusConcatenationTypes(t *testing.T) {
	eachBackend(t, &attachment.Options{AllowedTypes: []string{"application/pdf"}}, func(t *testing.T, e *env) {
		pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 5000)...)
		p1 := e.create("Upload-Concat", "partial", "Upload-Length", "4000")
		require.Equal(t, http.StatusNoContent, e.patch(p1, 0, pdf[:4000]).Code)
		p2 := e.create("Upload-Concat", "partial", "Upload-Length", itoa(len(pdf)-4000))
		require.Equal(t, http.StatusNoContent, e.patch(p2, 0, pdf[4000:]).Code, "a partial's head is not the file's")
		rec := e.do("POST", prefix+"/uploads/", nil, "Upload-Concat", "final;"+p1+" "+p2, "Upload-Metadata", "filename "+b64("a.pdf"))
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		_, att := e.download(idOf(rec.Header().Get("Location")))
		assert.Equal(t, "application/pdf", att.ContentType)

		p3 := e.create("Upload-Concat", "partial", "Upload-Length", "5000")
		require.Equal(t, http.StatusNoContent, e.patch(p3, 0, bytes.Repeat([]byte("y"), 5000)).Code)
		rec = e.do("POST", prefix+"/uploads/", nil, "Upload-Concat", "final;"+p3)
		assert.Equal(t, http.StatusUnsupportedMediaType, rec.Code, rec.Body.String())
		assert.Equal(t, http.StatusNoContent, e.do("HEAD", p3, nil).Code, "the partial stays")
	})
}

// A complete partial expires as any upload does, and Maintain removes it
// with its bytes.
func TestTusConcatenationExpiry(t *testing.T) {
	eachBackend(t, &attachment.Options{UploadExpiry: 100 * time.Millisecond}, func(t *testing.T, e *env) {
		p := e.create("Upload-Concat", "partial", "Upload-Length", "3000")
		require.Equal(t, http.StatusNoContent, e.patch(p, 0, content(3000)).Code)
		require.NotEmpty(t, e.leftKeys())
		time.Sleep(200 * time.Millisecond)
		assert.Equal(t, http.StatusGone, e.do("HEAD", p, nil).Code)
		rep, err := e.svc.Maintain(t.Context())
		require.NoError(t, err)
		assert.Equal(t, 1, rep.ExpiredUploads)
		assert.Equal(t, http.StatusNotFound, e.do("HEAD", p, nil).Code)
		assert.Empty(t, e.leftKeys())
	})
}
