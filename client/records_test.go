package client_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/client"
)

func ptr[T any](v T) *T { return &v }

func TestGetUpdate(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	a := e.upload("a.txt", []byte("hello"), &client.UploadOptions{Owner: "doc:1", Labels: map[string]string{"x": "1", "y": "2"}})

	got, err := e.c.Get(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, a, got)

	// Nothing set: nothing changes.
	u, err := e.c.Update(ctx, a.ID, attachment.Change{})
	require.NoError(t, err)
	assert.Equal(t, "a.txt", u.Filename)
	assert.Equal(t, "doc:1", u.Owner)
	assert.Equal(t, a.Labels, u.Labels)

	// Rename (cleaned like an upload's name); labels replaced whole.
	u, err = e.c.Update(ctx, a.ID, attachment.Change{Filename: ptr("../b.txt"), Labels: map[string]string{"z": "3"}})
	require.NoError(t, err)
	assert.Equal(t, "b.txt", u.Filename)
	assert.Equal(t, "doc:1", u.Owner, "owner untouched")
	assert.Equal(t, map[string]string{"z": "3"}, u.Labels)

	// Owner cleared; an empty label map removes every label.
	u, err = e.c.Update(ctx, a.ID, attachment.Change{Owner: ptr(""), Labels: map[string]string{}})
	require.NoError(t, err)
	assert.Empty(t, u.Owner)
	assert.Empty(t, u.Labels)
	assert.Equal(t, "b.txt", u.Filename)

	got, err = e.c.Get(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, u, got)

	_, err = e.c.Update(ctx, a.ID, attachment.Change{Filename: ptr("/")})
	requireCode(t, err, http.StatusBadRequest, client.CodeInvalidFilename, attachment.ErrInvalidFilename)
	_, err = e.c.Update(ctx, "01936f4e-8a6b-7cc2-9f1e-2b7c9d5e4a10", attachment.Change{Owner: ptr("x")})
	requireCode(t, err, http.StatusNotFound, client.CodeNotFound, attachment.ErrNotFound)
}

func TestRefsAndDelete(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	a := e.upload("a.txt", []byte("hello"), nil)
	// Refs with characters a path must escape.
	refs := []string{"document:550e8400", "folder/sub dir/file?x=1#y", "100%"}
	for _, ref := range refs {
		got, err := e.c.AddRef(ctx, a.ID, ref)
		require.NoError(t, err)
		assert.Contains(t, got.Refs, ref)
	}
	got, err := e.c.AddRef(ctx, a.ID, refs[0]) // twice: no error
	require.NoError(t, err)
	assert.ElementsMatch(t, refs, got.Refs)

	requireCode(t, e.c.Delete(ctx, a.ID, nil), http.StatusConflict, client.CodeReferenced, attachment.ErrReferenced)
	requireCode(t, e.c.Delete(ctx, a.ID, &attachment.DeleteOptions{}), http.StatusConflict, client.CodeReferenced, attachment.ErrReferenced)

	got, err = e.c.RemoveRef(ctx, a.ID, refs[1])
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{refs[0], refs[2]}, got.Refs)
	got, err = e.c.RemoveRef(ctx, a.ID, "not there")
	require.NoError(t, err)
	assert.Len(t, got.Refs, 2)
	for _, ref := range []string{refs[0], refs[2]} {
		_, err = e.c.RemoveRef(ctx, a.ID, ref)
		require.NoError(t, err)
	}
	got, err = e.c.Get(ctx, a.ID)
	require.NoError(t, err)
	assert.Empty(t, got.Refs)

	_, err = e.c.AddRef(ctx, a.ID, "")
	requireCode(t, err, http.StatusBadRequest, client.CodeBadRequest, attachment.ErrInvalid)

	require.NoError(t, e.c.Delete(ctx, a.ID, nil), "unreferenced: deleted")
	_, err = e.c.Get(ctx, a.ID)
	requireCode(t, err, http.StatusNotFound, client.CodeNotFound, attachment.ErrNotFound)
	requireCode(t, e.c.Delete(ctx, a.ID, nil), http.StatusNotFound, client.CodeNotFound, attachment.ErrNotFound)

	// Force deletes a referenced one, content and all.
	b := e.upload("b.txt", []byte("bye"), nil)
	_, err = e.c.AddRef(ctx, b.ID, "doc:1")
	require.NoError(t, err)
	require.NoError(t, e.c.Delete(ctx, b.ID, &attachment.DeleteOptions{Force: true}))
	_, _, err = e.c.Open(ctx, b.ID)
	assert.ErrorIs(t, err, attachment.ErrNotFound)
	_, err = e.c.AddRef(ctx, b.ID, "doc:1")
	assert.ErrorIs(t, err, attachment.ErrNotFound)
	_, err = e.c.RemoveRef(ctx, b.ID, "doc:1")
	assert.ErrorIs(t, err, attachment.ErrNotFound)
}

// newSigner is a Signer with one test key.
func newSigner(t *testing.T) *attachment.Signer {
	t.Helper()
	s, err := attachment.NewSigner(attachment.SignerOptions{
		Keys:   []attachment.SigningKey{{ID: "k1", Secret: []byte(strings.Repeat("s", 32))}},
		MaxTTL: time.Hour,
	})
	require.NoError(t, err)
	return s
}

// A signed URL made with credentials reads the content and thumbnails
// without them; the client itself cannot read without them.
func TestSignedURL(t *testing.T) {
	e := newEnv(t, &envOpts{
		handler: &attachment.HandlerOptions{Access: tokenAccess(), Signer: newSigner(t)},
		client:  &client.Options{Token: "acme"},
	})
	ctx := context.Background()
	content := pngBytes(t, 120, 80)
	a := e.upload("p.png", content, nil)

	start := time.Now()
	su, err := e.c.SignedURL(ctx, a.ID, &attachment.SignOptions{TTL: 90*time.Second + time.Millisecond})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(su.URL, e.base+"/"+a.ID+"?"), su.URL)
	// 91 s: the TTL rounded up to whole seconds.
	assert.WithinDuration(t, start.Add(91*time.Second), su.ExpiresAt, 2*time.Second)
	reqs := e.requests()
	assert.Equal(t, "ttl=91", reqs[len(reqs)-1].query)

	anon, err := client.New(e.base, nil)
	require.NoError(t, err)
	_, _, err = anon.Open(ctx, a.ID)
	requireCode(t, err, http.StatusUnauthorized, client.CodeUnauthorized, attachment.ErrUnauthorized)

	resp, err := http.Get(su.URL) // no credentials at all
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, content, got)
	assert.Empty(t, e.requests()[len(e.requests())-1].header.Get("Authorization"))

	// The same query string reads thumbnails.
	u, err := url.Parse(su.URL)
	require.NoError(t, err)
	u.Path += "/thumbnail"
	resp, err = http.Get(u.String() + "&size=64")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "image/jpeg", resp.Header.Get("Content-Type"))

	// A changed signature is refused.
	resp, err = http.Get(strings.Replace(su.URL, "sig=", "sig=A", 1))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	// Defaults, inline, the maximum.
	su, err = e.c.SignedURL(ctx, a.ID, nil)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(attachment.DefaultSignedURLTTL), su.ExpiresAt, 2*time.Second)
	su, err = e.c.SignedURL(ctx, a.ID, &attachment.SignOptions{TTL: 48 * time.Hour, Disposition: "inline"})
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(time.Hour), su.ExpiresAt, 2*time.Second, "cut to the maximum")
	resp, err = http.Get(su.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Disposition"), "inline"), resp.Header.Get("Content-Disposition"))

	_, err = e.c.SignedURL(ctx, a.ID, &attachment.SignOptions{Disposition: "bogus"})
	requireCode(t, err, http.StatusBadRequest, client.CodeBadRequest, attachment.ErrInvalid)
	other, err := client.New(e.base, &client.Options{Token: "globex"})
	require.NoError(t, err)
	_, err = other.SignedURL(ctx, a.ID, nil)
	requireCode(t, err, http.StatusNotFound, client.CodeNotFound, attachment.ErrNotFound)
	_, err = anon.SignedURL(ctx, a.ID, nil)
	requireCode(t, err, http.StatusUnauthorized, client.CodeUnauthorized, attachment.ErrUnauthorized)

	// A server without signed URLs: the route does not exist.
	plain := newEnv(t, nil)
	b := plain.upload("a.txt", []byte("x"), nil)
	_, err = plain.c.SignedURL(ctx, b.ID, nil)
	requireCode(t, err, http.StatusNotFound, client.CodeNotFound, attachment.ErrNotFound)
}
