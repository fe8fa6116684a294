package efalia_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/compat/efalia"
	"github.com/attachkit/attachment/internal/compattest"
)

// TestUploadRaw replays createAttachment with a raw body, named each way
// the document allows, and checks the AttachmentMetadata answer.
func TestUploadRaw(t *testing.T) {
	eachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		base := efalia.BasePath
		cases := []struct {
			name, target string
			hdr          []string
			body         []byte
			wantName     string
			wantType     string
		}{
			{"filename query", base + "/df-1?filename=i-love-workey.pdf", []string{"Content-Type", "application/octet-stream"},
				compattest.PDF, "i-love-workey.pdf", "application/pdf"},
			{"filename header", base + "/df-1", []string{"filename", "from-header.pdf"},
				compattest.PDF, "from-header.pdf", "application/pdf"},
			{"Content-Disposition", base + "/df-1", []string{"Content-Disposition", `attachment; filename="from-cd.pdf"`},
				compattest.PDF, "from-cd.pdf", "application/pdf"},
			{"Content-Disposition filename*", base + "/df-1", []string{"Content-Disposition", `attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`},
				compattest.PDF, "résumé.pdf", "application/pdf"},
			{"Latin-1 filename header", base + "/df-1", []string{"filename", "caf\xe9.txt"},
				[]byte("coffee\n"), "café.txt", "text/plain; charset=utf-8"},
			{"query beats header beats Content-Disposition", base + "/df-1?filename=q.pdf",
				[]string{"filename", "h.pdf", "Content-Disposition", `attachment; filename="cd.pdf"`},
				compattest.PDF, "q.pdf", "application/pdf"},
			{"header beats Content-Disposition", base + "/df-1",
				[]string{"filename", "h.pdf", "Content-Disposition", `attachment; filename="cd.pdf"`},
				compattest.PDF, "h.pdf", "application/pdf"},
			{"contentType query", base + "/df-1?filename=blob.bin&contentType=application/vnd.test",
				[]string{"Content-Type", "application/x-other"},
				[]byte{0x00, 0x9f, 0x01, 0xfe, 0x02}, "blob.bin", "application/vnd.test"},
			{"Content-Type header", base + "/df-1?filename=blob.bin", []string{"Content-Type", "application/x-other"},
				[]byte{0x00, 0x9f, 0x01, 0xfe, 0x02}, "blob.bin", "application/x-other"},
			{"a 32-digit documentField", base + "/8a6186f76127161601612722d18d0001?filename=x.pdf", nil,
				compattest.PDF, "x.pdf", "application/pdf"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rec := env.Do(http.MethodPost, tc.target, bytes.NewReader(tc.body), with(tc.hdr...)...)
				m := requireMetadata(t, rec)
				assert.Equal(t, tc.wantName, m["fileName"])
				assert.Equal(t, tc.wantType, m["type"])
				assert.Equal(t, int64(len(tc.body)), requireInt(t, m["size"], "size"))
				assert.Equal(t, base+"/"+m["id"].(string), m["url"])
				assert.Equal(t, false, m["thumbnail"])
				assert.Equal(t, map[string]any{"id": nil, "name": "tester", "label": nil, "description": nil}, m["actor"])
				a, err := env.Service.Get(t.Context(), m["id"].(string))
				require.NoError(t, err)
				assert.Equal(t, tc.wantName, a.Filename)
				assert.Empty(t, a.Labels, "the documentField is not kept")
			})
		}
	})
}

// TestUploadMultipart replays createAttachment with a multipart body: the
// file is its "file" part; other fields are ignored.
func TestUploadMultipart(t *testing.T) {
	eachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		img := compattest.PNG(t, 40, 30)
		body, ct := compattest.Multipart(t,
			compattest.Part{Field: "comment", Content: []byte("ignored")},
			compattest.Part{Field: "file", Filename: "photo.png", ContentType: "image/png", Content: img})
		rec := env.Do(http.MethodPost, efalia.BasePath+"/df-9", body, with("Content-Type", ct)...)
		m := requireMetadata(t, rec)
		assert.Equal(t, "photo.png", m["fileName"])
		assert.Equal(t, "image/png", m["type"])
		assert.Equal(t, int64(len(img)), requireInt(t, m["size"], "size"))
		assert.Equal(t, true, m["thumbnail"], "an image has a thumbnail")

		// The thumbnail flag agrees with the thumbnail route.
		th := env.Do(http.MethodGet, efalia.BasePath+"/"+m["id"].(string)+"/thumbnail", nil, bearer...)
		require.Equal(t, http.StatusOK, th.Code, th.Body.String())
		assert.True(t, strings.HasPrefix(th.Header().Get("Content-Type"), "image/"))
		assert.NotEmpty(t, th.Body.Bytes())
	})
}

// TestDownload replays retrieveAttachment and previewAttachment.
func TestDownload(t *testing.T) {
	eachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		pdf := upload(t, env, "i-love-workey.pdf", compattest.PDF)
		id := pdf["id"].(string)
		hex := strings.ReplaceAll(id, "-", "")
		for _, form := range []string{id, hex, strings.ToUpper(hex), strings.ToUpper(id)} {
			rec := env.Do(http.MethodGet, efalia.BasePath+"/"+form, nil, bearer...)
			require.Equal(t, http.StatusOK, rec.Code, form)
			assert.Equal(t, compattest.PDF, rec.Body.Bytes())
			assert.Equal(t, "application/pdf", rec.Header().Get("Content-Type"))
			assert.Equal(t, `attachment; filename="i-love-workey.pdf"`, rec.Header().Get("Content-Disposition"))
			assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
		}

		rec := env.Do(http.MethodGet, efalia.BasePath+"/"+hex+"/inline", nil, bearer...)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, compattest.PDF, rec.Body.Bytes())
		assert.Equal(t, `inline; filename="i-love-workey.pdf"`, rec.Header().Get("Content-Disposition"))

		// Ranges and HEAD, as the native download does them.
		rec = env.Do(http.MethodGet, efalia.BasePath+"/"+id, nil, with("Range", "bytes=0-3")...)
		require.Equal(t, http.StatusPartialContent, rec.Code)
		assert.Equal(t, "%PDF", rec.Body.String())
		rec = env.Do(http.MethodHead, efalia.BasePath+"/"+id+"/inline", nil, bearer...)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Empty(t, rec.Body.Bytes())

		// Never inline what a browser would run.
		for name, body := range map[string]string{
			"page.html": "<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
			"pic.svg":   `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`,
		} {
			m := upload(t, env, name, []byte(body))
			rec := env.Do(http.MethodGet, efalia.BasePath+"/"+m["id"].(string)+"/inline", nil, bearer...)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.True(t, strings.HasPrefix(rec.Header().Get("Content-Disposition"), "attachment;"), name)
			assert.Equal(t, "sandbox", rec.Header().Get("Content-Security-Policy"))
		}
	})
}

// TestMetadata replays getMetadata: the record, in any ID form, and 404
// for an unknown one.
func TestMetadata(t *testing.T) {
	eachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		up := upload(t, env, "i-love-workey.pdf", compattest.PDF)
		id := up["id"].(string)
		for _, form := range []string{id, strings.ReplaceAll(id, "-", "")} {
			m := requireMetadata(t, env.Do(http.MethodGet, efalia.BasePath+"/"+form+"/metadata", nil, bearer...))
			assert.Equal(t, up, m)
		}
		rec := env.Do(http.MethodHead, efalia.BasePath+"/"+id+"/metadata", nil, bearer...)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Empty(t, rec.Body.Bytes())

		for _, unknown := range []string{"8a6186f76127161601612722d18d0001", "0190b2d4-0000-7000-8000-000000000000", "not-an-id"} {
			rec := env.Do(http.MethodGet, efalia.BasePath+"/"+unknown+"/metadata", nil, bearer...)
			m := requireMessage(t, rec, http.StatusNotFound)
			assert.Equal(t, `Cannot get metadata for attachment "`+unknown+`"`, m["message"])
		}
	})
}

// TestThumbnail replays attachmentThumbnail: 200 with an image, 204 with
// no body when none can be made.
func TestThumbnail(t *testing.T) {
	eachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		img := upload(t, env, "dot.png", compattest.PNG(t, 300, 200))
		assert.Equal(t, true, img["thumbnail"])
		rec := env.Do(http.MethodGet, efalia.BasePath+"/"+img["id"].(string)+"/thumbnail", nil, bearer...)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Contains(t, []string{"image/jpeg", "image/png"}, rec.Header().Get("Content-Type"))
		assert.NotEmpty(t, rec.Body.Bytes())

		// The native ?size= as an extension; a size not allowed is a 400.
		rec = env.Do(http.MethodGet, efalia.BasePath+"/"+img["id"].(string)+"/thumbnail?size=7", nil, bearer...)
		requireMessage(t, rec, http.StatusBadRequest)

		pdf := upload(t, env, "doc.pdf", compattest.PDF)
		assert.Equal(t, false, pdf["thumbnail"])
		rec = env.Do(http.MethodGet, efalia.BasePath+"/"+pdf["id"].(string)+"/thumbnail", nil, bearer...)
		require.Equal(t, http.StatusNoContent, rec.Code)
		assert.Empty(t, rec.Body.Bytes())

		// An image whose pixels cannot be decoded: 204 as well.
		broken := compattest.PNG(t, 10, 10)
		broken = append(broken[:40:40], bytes.Repeat([]byte{0}, 60)...)
		bad := upload(t, env, "broken.png", broken)
		rec = env.Do(http.MethodGet, efalia.BasePath+"/"+bad["id"].(string)+"/thumbnail", nil, bearer...)
		require.Equal(t, http.StatusNoContent, rec.Code)
		assert.Empty(t, rec.Body.Bytes())

		rec = env.Do(http.MethodGet, efalia.BasePath+"/8a6186f76127161601612722d18d0001/thumbnail", nil, bearer...)
		requireMessage(t, rec, http.StatusNotFound)
	})
}

// TestDelete replays removeAttachment: a RestMessage on success, and a
// refusal while a document references the attachment.
func TestDelete(t *testing.T) {
	eachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		id := upload(t, env, "doc.pdf", compattest.PDF)["id"].(string)

		// A document references it (the native refs route): not removed.
		rec := env.Do(http.MethodPost, compattest.NativePrefix+"/"+id+"/refs", strings.NewReader(`{"ref":"document:42"}`),
			with("Content-Type", "application/json")...)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		rec = env.Do(http.MethodDelete, efalia.BasePath+"/"+id, nil, bearer...)
		m := requireMessage(t, rec, http.StatusConflict)
		assert.Contains(t, m["message"], "referenced")
		_, err := env.Service.Get(t.Context(), id)
		require.NoError(t, err, "still there")

		rec = env.Do(http.MethodDelete, compattest.NativePrefix+"/"+id+"/refs/document:42", nil, bearer...)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		before := env.Snapshot()
		rec = env.Do(http.MethodDelete, efalia.BasePath+"/"+strings.ReplaceAll(id, "-", ""), nil, bearer...)
		m = requireMessage(t, rec, http.StatusOK)
		assert.Equal(t, "Attachment "+id+" removed.", m["message"])
		after := env.Snapshot()
		assert.Equal(t, before.Records-1, after.Records)
		assert.Less(t, after.Objects, before.Objects)

		requireMessage(t, env.Do(http.MethodGet, efalia.BasePath+"/"+id, nil, bearer...), http.StatusNotFound)
		requireMessage(t, env.Do(http.MethodDelete, efalia.BasePath+"/"+id, nil, bearer...), http.StatusNotFound)
	})
}
