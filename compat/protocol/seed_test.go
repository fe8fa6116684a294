package protocol_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/compat/protocol"
	"github.com/attachkit/attachment/internal/compattest"
)

// The examples of the Protocol document, replayed as their curl commands
// send them (the JavaScript, Python and PHP clients make the same
// requests).

const invoice = "Invoice_room_service__Plaza_Hotel.pdf"

// curl -G https://api.protocol.chat/v1/attachments -H "Authorization: Bearer {token}" \
// -d conversation_id="xgQQXg3hrtjh7AvZ" -d limit=10
func TestSeedList(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *compattest.Env) {
		first := create(t, e, protocol.BasePath, invoice, compattest.PDF, "conversation_id", conversation, "message_id", "LoPsJaMcPBuFNjg1")
		create(t, e, protocol.BasePath, "elsewhere.txt", []byte("another conversation"), "conversation_id", "other")
		second := create(t, e, protocol.BasePath, "notes.txt", []byte("hello"), "conversation_id", conversation)

		rec := e.Do(http.MethodGet, protocol.BasePath+"?conversation_id="+conversation+"&limit=10", nil, auth...)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		m := decode(t, rec)
		assert.Len(t, m, 2)
		assert.Equal(t, false, m["has_more"])
		// Newest first, only the conversation's.
		require.Equal(t, []string{second["id"].(string), first["id"].(string)}, ids(t, m))
		for _, d := range m["data"].([]any) {
			requireModel(t, protocol.BasePath, d.(map[string]any))
		}
		got := m["data"].([]any)[1].(map[string]any)
		assert.Equal(t, first, got)
		assert.Equal(t, "LoPsJaMcPBuFNjg1", got["message_id"])
		assert.Nil(t, m["data"].([]any)[0].(map[string]any)["message_id"])

		// The JavaScript client's list() with no parameters: the whole
		// tenant, at most ten.
		for range 9 {
			create(t, e, protocol.BasePath, "more.txt", []byte("more"))
		}
		m = decode(t, e.Do(http.MethodGet, protocol.BasePath, nil, auth...))
		assert.Len(t, ids(t, m), protocol.DefaultLimit)
		assert.Equal(t, true, m["has_more"])
		// HEAD: the headers alone.
		rec = e.Do(http.MethodHead, protocol.BasePath, nil, auth...)
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.Empty(t, rec.Body.Bytes())
	})
}

// curl https://api.protocol.chat/v1/attachments -H "Authorization: Bearer {token}" \
// -F file="../Invoice_room_service__Plaza_Hotel.pdf"
func TestSeedCreate(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *compattest.Env) {
		// As written, without the @, curl sends the path as a text field
		// named file: refused, nothing stored, the message says why.
		before := e.Snapshot()
		body, ct := compattest.Multipart(t, compattest.Part{Field: "file", Content: []byte("../" + invoice)})
		rec := e.Do(http.MethodPost, protocol.BasePath, body, append([]string{"Content-Type", ct}, auth...)...)
		msg := requireError(t, rec, http.StatusBadRequest, "invalid_request_error", "invalid_filename")
		assert.Contains(t, msg, "-F file=@path")
		e.RequireNothingStored(before)

		// With the @: curl sends the file's base name and, for .pdf,
		// application/pdf.
		start := time.Now().Unix()
		body, ct = compattest.Multipart(t, compattest.Part{Field: "file", Filename: invoice, ContentType: "application/pdf", Content: compattest.PDF})
		rec = e.Do(http.MethodPost, protocol.BasePath, body, append([]string{"Content-Type", ct}, auth...)...)
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		m := decode(t, rec)
		requireModel(t, protocol.BasePath, m)
		id := m["id"].(string)
		assert.Equal(t, protocol.BasePath+"/"+id, rec.Header().Get("Location"))
		assert.Equal(t, invoice, m["filename"])
		assert.Equal(t, "application/pdf", m["file_type"])
		assert.Equal(t, int64(len(compattest.PDF)), int64Of(t, m["file_size"]))
		assert.Nil(t, m["message_id"])
		assert.Contains(t, m, "message_id")
		created := int64Of(t, m["created_at"])
		assert.GreaterOrEqual(t, created, start)
		assert.LessOrEqual(t, created, time.Now().Unix())

		// file_url downloads the content.
		rec = e.Do(http.MethodGet, m["file_url"].(string), nil, auth...)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Equal(t, compattest.PDF, rec.Body.Bytes())
		assert.Equal(t, "application/pdf", rec.Header().Get("Content-Type"))
		assert.Equal(t, `attachment; filename="`+invoice+`"`, rec.Header().Get("Content-Disposition"))
		assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
		// Inline when asked, a range, and HEAD.
		rec = e.Do(http.MethodGet, m["file_url"].(string)+"?disposition=inline", nil, append([]string{"Range", "bytes=0-3"}, auth...)...)
		require.Equal(t, http.StatusPartialContent, rec.Code)
		assert.Equal(t, "%PDF", rec.Body.String())
		assert.True(t, strings.HasPrefix(rec.Header().Get("Content-Disposition"), "inline"))
		rec = e.Do(http.MethodHead, m["file_url"].(string), nil, auth...)
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.Empty(t, rec.Body.Bytes())

		// With the optional fields, sent before or after the file.
		body, ct = compattest.Multipart(t,
			compattest.Part{Field: "file", Filename: "a.txt", Content: []byte("a")},
			compattest.Part{Field: "conversation_id", Content: []byte(conversation)},
			compattest.Part{Field: "message_id", Content: []byte("LoPsJaMcPBuFNjg1")})
		rec = e.Do(http.MethodPost, protocol.BasePath, body, append([]string{"Content-Type", ct}, auth...)...)
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		m = decode(t, rec)
		assert.Equal(t, "LoPsJaMcPBuFNjg1", m["message_id"])
		a, err := e.Service.Get(t.Context(), m["id"].(string))
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"conversation_id": conversation, "message_id": "LoPsJaMcPBuFNjg1"}, a.Labels)
	})
}

// curl https://api.protocol.chat/v1/attachments/Nc6yKKMpcxiiFxp6 -H "Authorization: Bearer {token}"
func TestSeedRetrieve(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *compattest.Env) {
		made := create(t, e, protocol.BasePath, invoice, compattest.PDF, "message_id", "LoPsJaMcPBuFNjg1")
		rec := e.Do(http.MethodGet, protocol.BasePath+"/"+made["id"].(string), nil, auth...)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		m := decode(t, rec)
		requireModel(t, protocol.BasePath, m)
		assert.Equal(t, made, m)
		assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	})
}

// curl -X PUT https://api.protocol.chat/v1/attachments/Nc6yKKMpcxiiFxp6 -H "Authorization: Bearer {token}" \
// -d filename="Invoice_room_service__Plaza_Hotel_updated.pdf"
func TestSeedUpdate(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *compattest.Env) {
		made := create(t, e, protocol.BasePath, invoice, compattest.PDF)
		id := made["id"].(string)
		const updated = "Invoice_room_service__Plaza_Hotel_updated.pdf"
		rec := e.Do(http.MethodPut, protocol.BasePath+"/"+id,
			strings.NewReader(url.Values{"filename": {updated}}.Encode()),
			append([]string{"Content-Type", form}, auth...)...)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		m := decode(t, rec)
		requireModel(t, protocol.BasePath, m)
		assert.Equal(t, updated, m["filename"])
		// Everything else is as it was; the file_url names the ID, not
		// the filename, so it does not change.
		for _, k := range []string{"id", "message_id", "file_url", "file_type", "file_size", "created_at"} {
			assert.Equal(t, made[k], m[k], k)
		}
		a, err := e.Service.Get(t.Context(), id)
		require.NoError(t, err)
		assert.Equal(t, updated, a.Filename)

		// The client libraries may send JSON.
		rec = e.Do(http.MethodPut, protocol.BasePath+"/"+id, strings.NewReader(`{"filename":"again.pdf"}`),
			append([]string{"Content-Type", "application/json"}, auth...)...)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Equal(t, "again.pdf", decode(t, rec)["filename"])
		rec = e.Do(http.MethodGet, m["file_url"].(string), nil, auth...)
		assert.Equal(t, `attachment; filename="again.pdf"`, rec.Header().Get("Content-Disposition"))

		// filename is optional: without it nothing changes.
		for _, b := range []struct{ ct, body string }{{form, ""}, {"application/json", "{}"}, {"application/json", `{"filename":null}`}, {"", ""}} {
			rec = e.Do(http.MethodPut, protocol.BasePath+"/"+id, strings.NewReader(b.body), append([]string{"Content-Type", b.ct}, auth...)...)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, "again.pdf", decode(t, rec)["filename"])
		}
	})
}

// curl -X DELETE https://api.protocol.chat/v1/attachments/Nc6yKKMpcxiiFxp6 -H "Authorization: Bearer {token}"
func TestSeedDelete(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *compattest.Env) {
		before := e.Snapshot()
		made := create(t, e, protocol.BasePath, invoice, compattest.PDF)
		id := made["id"].(string)
		rec := e.Do(http.MethodDelete, protocol.BasePath+"/"+id, nil, auth...)
		require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
		b, _ := io.ReadAll(rec.Body)
		assert.Empty(t, b)
		e.RequireNothingStored(before)
		requireError(t, e.Do(http.MethodGet, protocol.BasePath+"/"+id, nil, auth...), http.StatusNotFound, "invalid_request_error", "not_found")
		requireError(t, e.Do(http.MethodGet, made["file_url"].(string), nil, auth...), http.StatusNotFound, "invalid_request_error", "not_found")
		requireError(t, e.Do(http.MethodDelete, protocol.BasePath+"/"+id, nil, auth...), http.StatusNotFound, "invalid_request_error", "not_found")
	})
}
