package coco_test

import (
	"bytes"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/compat/coco"
	"github.com/attachkit/attachment/internal/compattest"
)

// The seed document's session and files.
const (
	seedSession = "cu737jrq50kcaicgn7pg"
	seedPDF1    = "neurips19-diskann.pdf"
	seedPDF2    = "Adaptive_searching_in_succinctly_encoded.pdf"
)

// pdf returns a PDF document of about n bytes (padding after its end).
func pdf(n int) []byte {
	return append(bytes.Clone(compattest.PDF), bytes.Repeat([]byte("%"), n)...)
}

// TestSeedUpload replays the document's upload: two files in "files"
// parts, with the credential in X-API-TOKEN, answered
// {"acknowledged": true, "attachments": [ids]}; and again with the session
// the document says to add, as a session_id form field.
func TestSeedUpload(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		e := newEnv(t, be, nil)
		body, ct := compattest.Multipart(t, file(seedPDF1, pdf(3000)), file(seedPDF2, pdf(100)))
		rec := e.Do("POST", "/attachment/_upload", body, "Content-Type", ct,
			"X-API-TOKEN", compattest.Token)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		m := object(t, rec.Body.Bytes(), "acknowledged", "attachments")
		assert.Equal(t, true, m["acknowledged"])
		ids, ok := m["attachments"].([]any)
		require.True(t, ok)
		require.Len(t, ids, 2)
		a1, a2 := e.get(t, ids[0].(string)), e.get(t, ids[1].(string))
		assert.Equal(t, seedPDF1, a1.Filename)
		assert.Equal(t, seedPDF2, a2.Filename)
		assert.Equal(t, "application/pdf", a1.ContentType)
		assert.Empty(t, a1.Labels, "an upload with no session has no session label")

		got := e.upload(t, "", field("session_id", seedSession), file(seedPDF1, pdf(10)), file(seedPDF2, pdf(20)))
		require.Len(t, got, 2)
		for _, id := range got {
			assert.Equal(t, map[string]string{"session": seedSession}, e.get(t, id).Labels)
		}
	})
}

// TestSeedDownload replays GET /attachment/{id}: the content.
func TestSeedDownload(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		e := newEnv(t, be, nil)
		content := pdf(5000)
		id := e.upload(t, "", file(seedPDF1, content))[0]
		rec := e.Do("GET", "/attachment/"+id, nil, "X-API-TOKEN", compattest.Token)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Equal(t, content, rec.Body.Bytes())
		assert.Equal(t, "application/pdf", rec.Header().Get("Content-Type"))
		assert.Equal(t, strconv.Itoa(len(content)), rec.Header().Get("Content-Length"))
		assert.Equal(t, `attachment; filename="`+seedPDF1+`"`, rec.Header().Get("Content-Disposition"))
		assert.Equal(t, seedPDF1, rec.Header().Get("Filename"))

		// A range, as the native download serves one.
		rec = e.Do("GET", "/attachment/"+id, nil, "X-API-TOKEN", compattest.Token, "Range", "bytes=0-3")
		require.Equal(t, http.StatusPartialContent, rec.Code)
		assert.Equal(t, "%PDF", rec.Body.String())
	})
}

// TestSeedHead replays curl -I /attachment/{id}: 200 with Content-Length,
// Filename and Created (RFC 3339, the record's creation time), no body.
func TestSeedHead(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		e := newEnv(t, be, nil)
		content := pdf(2221)
		id := e.upload(t, "", file(seedPDF1, content))[0]
		rec := e.Do("HEAD", "/attachment/"+id, nil, "X-API-TOKEN", compattest.Token)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Empty(t, rec.Body.Bytes())
		assert.Equal(t, strconv.Itoa(len(content)), rec.Header().Get("Content-Length"))
		assert.Equal(t, seedPDF1, rec.Header().Get("Filename"))
		requireTime(t, e.get(t, id).CreatedAt, rec.Header().Get("Created"))
	})
}

// TestSeedDelete replays DELETE /attachment/{id}: {"_id", "result":
// "deleted"}, and the attachment is gone.
func TestSeedDelete(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		e := newEnv(t, be, nil)
		id := e.upload(t, "", file(seedPDF1, pdf(10)))[0]
		rec := e.Do("DELETE", "/attachment/"+id, nil, "X-API-TOKEN", compattest.Token)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		m := object(t, rec.Body.Bytes(), "_id", "result")
		assert.Equal(t, id, m["_id"])
		assert.Equal(t, "deleted", m["result"])
		e.RequireNothingStored(compattest.Snapshot{})
		requireError(t, e.Do("GET", "/attachment/"+id, nil, tok...), http.StatusNotFound, "not_found")
	})
}

// TestSeedSearch replays GET /attachment/_search?session=S: the
// Elasticsearch-shaped answer with every field of the document, the
// session's attachments only, in upload order.
func TestSeedSearch(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		e := newEnv(t, be, nil)
		ids := e.upload(t, "", field("session", seedSession), file(seedPDF1, pdf(2221)))
		ids = append(ids, e.upload(t, "?session="+seedSession, file(seedPDF2, pdf(125)))...)
		e.upload(t, "", field("session", "other"), file("other.pdf", pdf(1)))
		e.upload(t, "", file("none.pdf", pdf(1)))

		rec := e.Do("GET", "/attachment/_search?session="+seedSession, nil, "X-API-TOKEN", compattest.Token)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		m := object(t, rec.Body.Bytes(), "took", "timed_out", "_shards", "hits")
		assert.IsType(t, float64(0), m["took"])
		assert.Equal(t, false, m["timed_out"])
		shards := sub(t, m, "_shards", "total", "successful", "skipped", "failed")
		assert.Equal(t, map[string]any{"total": 1.0, "successful": 1.0, "skipped": 0.0, "failed": 0.0}, shards)
		hits := sub(t, m, "hits", "total", "max_score", "hits")
		assert.Equal(t, map[string]any{"value": 2.0, "relation": "eq"}, sub(t, hits, "total", "value", "relation"))
		assert.Equal(t, 1.0, hits["max_score"])
		list, ok := hits["hits"].([]any)
		require.True(t, ok)
		require.Len(t, list, 2)
		for i, name := range []string{seedPDF1, seedPDF2} {
			h := list[i].(map[string]any)
			assert.Equal(t, "coco_attachment", h["_index"])
			assert.Equal(t, "_doc", h["_type"])
			assert.Equal(t, ids[i], h["_id"])
			assert.Equal(t, 1.0, h["_score"])
			src := sub(t, h, "_source", "id", "created", "updated", "session", "name", "icon", "url", "size")
			a := e.get(t, ids[i])
			assert.Equal(t, ids[i], src["id"])
			requireTime(t, a.CreatedAt, src["created"])
			requireTime(t, a.UpdatedAt, src["updated"])
			assert.Equal(t, seedSession, src["session"])
			assert.Equal(t, name, src["name"])
			assert.Equal(t, "pdf", src["icon"])
			assert.Equal(t, "/attachment/"+ids[i], src["url"])
			assert.Equal(t, float64(a.Size), src["size"])
			// The url is the download route.
			dl := e.Do("GET", src["url"].(string), nil, tok...)
			require.Equal(t, http.StatusOK, dl.Code)
		}
	})
}

// TestSeedStatus replays GET /attachment/{id}/status and POST
// /attachment/_status: {"initial_parsing": "completed"} for a PDF, which
// no processor has work for, and an object keyed by ID.
func TestSeedStatus(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		e := newEnv(t, be, nil)
		ids := e.upload(t, "", file(seedPDF1, pdf(10)), file(seedPDF2, pdf(10)))
		rec := e.Do("GET", "/attachment/"+ids[0]+"/status", nil, "X-API-TOKEN", compattest.Token)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		m := object(t, rec.Body.Bytes(), "initial_parsing")
		assert.Equal(t, "completed", m["initial_parsing"])

		rec = e.Do("POST", "/attachment/_status", statusBody(t, ids...), "X-API-TOKEN", compattest.Token)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		m = object(t, rec.Body.Bytes(), ids...)
		for _, id := range ids {
			assert.Equal(t, map[string]any{"initial_parsing": "completed"}, sub(t, m, id, "initial_parsing"))
		}
	})
}

// TestToken reads the X-API-TOKEN header, case-insensitively as HTTP
// header names are.
func TestToken(t *testing.T) {
	r, _ := http.NewRequest("GET", "/", nil)
	_, ok := coco.Token(r)
	assert.False(t, ok)
	r.Header.Set("x-api-token", "abc")
	v, ok := coco.Token(r)
	assert.True(t, ok)
	assert.Equal(t, "abc", v)
	r.Header.Set("X-API-TOKEN", "")
	_, ok = coco.Token(r)
	assert.False(t, ok)
}

// TestContentConditional: the content route is the native download:
// Last-Modified and ETag, 304 for a matching If-None-Match, and a range
// past the end answered 416 in Coco's error body, without the headers
// that describe the file.
func TestContentConditional(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		e := newEnv(t, be, nil)
		id := e.upload(t, "", file("a.pdf", pdf(100)))[0]
		rec := e.Do("GET", "/attachment/"+id, nil, tok...)
		require.Equal(t, http.StatusOK, rec.Code)
		etag := rec.Header().Get("ETag")
		require.NotEmpty(t, etag)
		assert.NotEmpty(t, rec.Header().Get("Last-Modified"))
		rec = e.Do("GET", "/attachment/"+id, nil, append([]string{"If-None-Match", etag}, tok...)...)
		assert.Equal(t, http.StatusNotModified, rec.Code)
		assert.Empty(t, rec.Body.Bytes())
		rec = e.Do("GET", "/attachment/"+id, nil, append([]string{"Range", "bytes=100000-"}, tok...)...)
		requireError(t, rec, http.StatusRequestedRangeNotSatisfiable, "bad_request")
		assert.Empty(t, rec.Header().Get("Filename"))
		assert.Empty(t, rec.Header().Get("Created"))
		assert.Empty(t, rec.Header().Get("Content-Disposition"))
	})
}
