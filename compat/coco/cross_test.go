package coco_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/client"
	"github.com/attachkit/attachment/internal/compattest"
	"github.com/attachkit/attachment/wire"
)

// bearer is the native API's credential.
var bearer = []string{"Authorization", "Bearer " + compattest.Token}

// TestCocoToNative: what Coco uploads, the native API and its Go client
// read, with the session as the label "session"; what Coco deletes is
// gone for them too.
func TestCocoToNative(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		e := newEnv(t, be, nil)
		content := pdf(300)
		ids := e.upload(t, "", field("session_id", "chat-1"), file("paper.pdf", content), file("notes.txt", []byte("hi")))

		rec := e.Do("GET", compattest.NativePrefix+"/"+ids[0], nil, bearer...)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.Equal(t, content, rec.Body.Bytes())

		rec = e.Do("GET", compattest.NativePrefix+"/"+ids[0]+"/metadata", nil, bearer...)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var meta wire.Attachment
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &meta))
		assert.Equal(t, "paper.pdf", meta.Filename)
		assert.Equal(t, int64(len(content)), meta.Size)
		assert.Equal(t, map[string]string{"session": "chat-1"}, meta.Labels)
		assert.Equal(t, "tester", meta.CreatedBy)

		rec = e.Do("GET", compattest.NativePrefix+"/?label.session=chat-1&order=asc", nil, bearer...)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var list struct{ Data []wire.Attachment }
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &list))
		require.Len(t, list.Data, 2)
		assert.Equal(t, ids, []string{list.Data[0].ID, list.Data[1].ID})

		srv := httptest.NewServer(e.Mux)
		defer srv.Close()
		c, err := client.New(srv.URL+compattest.NativePrefix, &client.Options{Token: compattest.Token})
		require.NoError(t, err)
		a, err := c.Get(t.Context(), ids[1])
		require.NoError(t, err)
		assert.Equal(t, "notes.txt", a.Filename)
		assert.Equal(t, "chat-1", a.Labels["session"])
		body, _, err := c.Open(t.Context(), ids[0])
		require.NoError(t, err)
		got, err := io.ReadAll(body)
		body.Close()
		require.NoError(t, err)
		assert.Equal(t, content, got)
		page, err := c.ListPage(t.Context(), &wire.ListOptions{Labels: map[string]string{"session": "chat-1"}})
		require.NoError(t, err)
		assert.Len(t, page.Attachments, 2)

		rec = e.Do("DELETE", "/attachment/"+ids[0], nil, tok...)
		require.Equal(t, http.StatusOK, rec.Code)
		_, err = c.Get(t.Context(), ids[0])
		assert.ErrorIs(t, err, wire.ErrNotFound)
	})
}

// TestNativeToCoco: what the native API uploads, Coco serves on every
// route about one attachment, and lists in its session when the native
// upload set the session label; Coco's answers name the same record.
func TestNativeToCoco(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		e := newEnv(t, be, nil)
		srv := httptest.NewServer(e.Mux)
		defer srv.Close()
		c, err := client.New(srv.URL+compattest.NativePrefix, &client.Options{Token: compattest.Token})
		require.NoError(t, err)
		content := pdf(700)
		plain, err := c.Upload(t.Context(), client.File{Name: "plain.pdf", Content: bytes.NewReader(content)}, nil)
		require.NoError(t, err)
		inSession, err := c.Upload(t.Context(), client.File{Name: "s.pdf", Content: bytes.NewReader(pdf(1))},
			&client.UploadOptions{Owner: "doc:1", Labels: map[string]string{"session": "chat-2", "kind": "x"}})
		require.NoError(t, err)

		rec := e.Do("GET", "/attachment/"+plain.ID, nil, tok...)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, content, rec.Body.Bytes())
		rec = e.Do("HEAD", "/attachment/"+plain.ID, nil, tok...)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.Equal(t, "plain.pdf", rec.Header().Get("Filename"))
		requireTime(t, plain.CreatedAt, rec.Header().Get("Created"))
		rec = e.Do("GET", "/attachment/"+plain.ID+"/status", nil, tok...)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.JSONEq(t, `{"initial_parsing":"completed"}`, rec.Body.String())

		res := e.search(t, "session=chat-2")
		assert.Equal(t, []string{inSession.ID}, res.ids())
		res = e.search(t, "")
		assert.Equal(t, []string{plain.ID, inSession.ID}, res.ids())
		assert.Nil(t, res.Hits.Hits[0].Source.Session)

		rec = e.Do("DELETE", "/attachment/"+plain.ID, nil, tok...)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		_, err = c.Get(t.Context(), plain.ID)
		assert.ErrorIs(t, err, wire.ErrNotFound)
	})
}
