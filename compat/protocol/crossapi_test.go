package protocol_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/client"
	"github.com/attachkit/attachment/compat/protocol"
	"github.com/attachkit/attachment/internal/compattest"
	"github.com/attachkit/attachment/wire"
)

// TestDialectToNative: an attachment uploaded through the dialect is read
// through the native API and the Go client, with conversation_id and
// message_id as labels.
func TestDialectToNative(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *compattest.Env) {
		m := create(t, e, protocol.BasePath, invoice, compattest.PDF, "conversation_id", conversation, "message_id", "LoPsJaMcPBuFNjg1")
		id := m["id"].(string)

		rec := e.Do(http.MethodGet, compattest.NativePrefix+"/"+id, nil, auth...)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Equal(t, compattest.PDF, rec.Body.Bytes())

		rec = e.Do(http.MethodGet, compattest.NativePrefix+"/"+id+"/metadata", nil, auth...)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var a wire.Attachment
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &a))
		assert.Equal(t, id, a.ID)
		assert.Equal(t, invoice, a.Filename)
		assert.Equal(t, m["file_type"], a.ContentType)
		assert.Equal(t, int64Of(t, m["file_size"]), a.Size)
		assert.Equal(t, int64Of(t, m["created_at"]), a.CreatedAt.Unix())
		assert.Equal(t, map[string]string{"conversation_id": conversation, "message_id": "LoPsJaMcPBuFNjg1"}, a.Labels)
		assert.Equal(t, "tester", a.CreatedBy)

		// The native listing finds it by the label.
		rec = e.Do(http.MethodGet, compattest.NativePrefix+"/?label.conversation_id="+conversation, nil, auth...)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Contains(t, rec.Body.String(), id)

		// The Go client, over a real server.
		srv := httptest.NewServer(e.Mux)
		defer srv.Close()
		c, err := client.New(srv.URL+compattest.NativePrefix, &client.Options{Token: compattest.Token})
		require.NoError(t, err)
		got, err := c.Get(t.Context(), id)
		require.NoError(t, err)
		assert.Equal(t, invoice, got.Filename)
		assert.Equal(t, conversation, got.Labels["conversation_id"])
		rc, _, err := c.Open(t.Context(), id)
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		rc.Close()
		require.NoError(t, err)
		assert.Equal(t, compattest.PDF, b)
		page, err := c.ListPage(t.Context(), &wire.ListOptions{Labels: map[string]string{"message_id": "LoPsJaMcPBuFNjg1"}})
		require.NoError(t, err)
		require.Len(t, page.Attachments, 1)
		assert.Equal(t, id, page.Attachments[0].ID)

		// A rename through the dialect is seen natively; a native one
		// through the dialect.
		rec = e.Do(http.MethodPut, protocol.BasePath+"/"+id, strings.NewReader("filename=renamed.pdf"), append([]string{"Content-Type", form}, auth...)...)
		require.Equal(t, http.StatusOK, rec.Code)
		got, err = c.Get(t.Context(), id)
		require.NoError(t, err)
		assert.Equal(t, "renamed.pdf", got.Filename)
		name := "native.pdf"
		_, err = c.Update(t.Context(), id, wire.Change{Filename: &name})
		require.NoError(t, err)
		assert.Equal(t, name, decode(t, e.Do(http.MethodGet, protocol.BasePath+"/"+id, nil, auth...))["filename"])

		// A delete through the dialect is a 404 natively.
		require.Equal(t, http.StatusNoContent, e.Do(http.MethodDelete, protocol.BasePath+"/"+id, nil, auth...).Code)
		_, err = c.Get(t.Context(), id)
		assert.ErrorIs(t, err, wire.ErrNotFound)
	})
}

// TestNativeToDialect: attachments uploaded natively (with or without the
// dialect's labels) are read, listed, renamed and deleted through the
// dialect; one the application references is not deleted.
func TestNativeToDialect(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *compattest.Env) {
		srv := httptest.NewServer(e.Mux)
		defer srv.Close()
		c, err := client.New(srv.URL+compattest.NativePrefix, &client.Options{Token: compattest.Token})
		require.NoError(t, err)
		plain, err := c.Upload(t.Context(), client.File{Name: "plain.txt", Content: strings.NewReader("plain text")}, &client.UploadOptions{Owner: "doc:1"})
		require.NoError(t, err)
		labelled, err := c.Upload(t.Context(), client.File{Name: "dot.png", Content: strings.NewReader(string(compattest.PNG(t, 3, 2)))},
			&client.UploadOptions{Labels: map[string]string{"conversation_id": conversation, "message_id": "m1", "other": "x"}})
		require.NoError(t, err)

		// Retrieve: a record without labels has message_id null.
		m := decode(t, e.Do(http.MethodGet, protocol.BasePath+"/"+plain.ID, nil, auth...))
		requireModel(t, protocol.BasePath, m)
		assert.Nil(t, m["message_id"])
		assert.Equal(t, "plain.txt", m["filename"])
		assert.Equal(t, "text/plain; charset=utf-8", m["file_type"])
		assert.Equal(t, int64(len("plain text")), int64Of(t, m["file_size"]))
		assert.Equal(t, plain.CreatedAt.Unix(), int64Of(t, m["created_at"]))
		rec := e.Do(http.MethodGet, m["file_url"].(string), nil, auth...)
		assert.Equal(t, "plain text", rec.Body.String())

		m = decode(t, e.Do(http.MethodGet, protocol.BasePath+"/"+labelled.ID, nil, auth...))
		assert.Equal(t, "m1", m["message_id"])
		assert.Equal(t, "image/png", m["file_type"])

		// Listing: the conversation holds only the labelled one; the
		// whole tenant both, newest first.
		page, _ := listPage(t, e, url.Values{"conversation_id": {conversation}})
		assert.Equal(t, []string{labelled.ID}, page)
		page, _ = listPage(t, e, nil)
		assert.Equal(t, []string{labelled.ID, plain.ID}, page)

		// Referenced by the application: a 409 in the dialect's body.
		_, err = c.AddRef(t.Context(), plain.ID, "doc:1")
		require.NoError(t, err)
		msg := requireError(t, e.Do(http.MethodDelete, protocol.BasePath+"/"+plain.ID, nil, auth...), http.StatusConflict, "invalid_request_error", "referenced")
		assert.Contains(t, msg, "referenced")
		_, err = c.RemoveRef(t.Context(), plain.ID, "doc:1")
		require.NoError(t, err)
		require.Equal(t, http.StatusNoContent, e.Do(http.MethodDelete, protocol.BasePath+"/"+plain.ID, nil, auth...).Code)
		_, err = c.Get(t.Context(), plain.ID)
		assert.ErrorIs(t, err, wire.ErrNotFound)
	})
}

// TestTenants: another tenant's attachments do not exist for the dialect.
func TestTenants(t *testing.T) {
	access := attachment.AccessFuncs{IdentifyFunc: func(r *http.Request) (attachment.Caller, error) {
		return attachment.Caller{Tenant: r.Header.Get("X-Tenant"), Name: "t"}, nil
	}}
	for _, be := range compattest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			e := compattest.NewEnv(t, be, &compattest.Options{Handler: &attachment.HandlerOptions{Access: access}})
			e.Mount(protocol.BasePath, protocol.New(e.Handler, &protocol.Options{Prefix: protocol.BasePath}))
			body, ct := compattest.Multipart(t, compattest.Part{Field: "file", Filename: "a.txt", Content: []byte("a")})
			rec := e.Do(http.MethodPost, protocol.BasePath, body, "Content-Type", ct, "X-Tenant", "acme")
			require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
			id := decode(t, rec)["id"].(string)
			for _, p := range []string{"/" + id, "/" + id + "/content"} {
				requireError(t, e.Do(http.MethodGet, protocol.BasePath+p, nil, "X-Tenant", "other"), http.StatusNotFound, "invalid_request_error", "not_found")
			}
			requireError(t, e.Do(http.MethodGet, protocol.BasePath+"?starting_after="+id, nil, "X-Tenant", "other"), http.StatusBadRequest, "invalid_request_error", "bad_request")
			m := decode(t, e.Do(http.MethodGet, protocol.BasePath, nil, "X-Tenant", "other"))
			assert.Empty(t, ids(t, m))
			m = decode(t, e.Do(http.MethodGet, protocol.BasePath, nil, "X-Tenant", "acme"))
			assert.Equal(t, []string{id}, ids(t, m))
		})
	}
}
