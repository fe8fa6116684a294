// Package roundtrip is the check every framework's test runs: the
// attachment API, mounted by the framework under a prefix, works through
// the application's router and its authentication.
package roundtrip

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/examples/frameworks/appauth"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
)

// Tokens are the users of the check: ann and cat in one organisation, bob
// in another.
var Tokens = appauth.Tokens{
	"ann-token": {ID: "ann", Org: "acme"},
	"cat-token": {ID: "cat", Org: "acme"},
	"bob-token": {ID: "bob", Org: "globex"},
}

// NewService returns a Service on memory stores, closed when the test ends.
func NewService(t *testing.T) *attachment.Service {
	t.Helper()
	svc, err := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })
	return svc
}

// Check runs the round trip against the server at base (scheme and host)
// with the API mounted under prefix ("/files").
func Check(t *testing.T, base, prefix string) {
	c := client{t: t, base: base}

	content := make([]byte, 300<<10) // more than one read buffer
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range content {
		content[i] = byte(rng.Uint32())
	}

	// A raw upload.
	resp, body := c.do("POST", prefix+"/?filename=data.bin&owner=doc:1", "ann-token", "application/octet-stream", bytes.NewReader(content))
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", body)
	var up struct{ Attachments []attachment.Attachment }
	require.NoError(t, json.Unmarshal(body, &up))
	require.Len(t, up.Attachments, 1)
	a := up.Attachments[0]
	assert.Equal(t, int64(len(content)), a.Size)
	assert.Equal(t, "user:ann", a.CreatedBy, "the access hook names the framework's user")
	assert.True(t, strings.HasPrefix(a.URL, prefix+"/"), "URL %q carries the prefix", a.URL)
	assert.Equal(t, a.URL, resp.Header.Get("Location"))

	// A multipart upload.
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	require.NoError(t, mw.WriteField("owner", "doc:1"))
	fw, err := mw.CreateFormFile("files", "notes.txt")
	require.NoError(t, err)
	_, _ = fw.Write([]byte("hello, frameworks\n"))
	require.NoError(t, mw.Close())
	resp, body = c.do("POST", prefix+"/", "ann-token", mw.FormDataContentType(), &mp)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", body)

	// Download byte-exact, whole and a range.
	resp, body = c.do("GET", a.URL, "ann-token", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, bytes.Equal(content, body), "downloaded content differs")
	req := c.request("GET", a.URL, "cat-token", "", nil)
	req.Header.Set("Range", "bytes=1000-1999")
	resp, body = c.send(req)
	require.Equal(t, http.StatusPartialContent, resp.StatusCode)
	assert.True(t, bytes.Equal(content[1000:2000], body), "range differs")

	// The list, with and without the trailing slash, sees both files.
	for _, p := range []string{prefix + "/?owner=doc:1", prefix + "?owner=doc:1"} {
		resp, body = c.do("GET", p, "ann-token", "", nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", p, body)
		var page struct{ Data []attachment.Attachment }
		require.NoError(t, json.Unmarshal(body, &page))
		assert.Len(t, page.Data, 2, "GET %s", p)
	}

	// Errors are problem+json: a missing ID, another tenant's file (the
	// same 404), no user (401), a delete the hook refuses (403).
	c.problem("GET", prefix+"/0190a0c4-0000-7000-8000-000000000000", "ann-token", http.StatusNotFound, "not_found")
	c.problem("GET", a.URL, "bob-token", http.StatusNotFound, "not_found")
	c.problem("GET", a.URL, "", http.StatusUnauthorized, "unauthorized")
	c.problem("DELETE", a.URL, "cat-token", http.StatusForbidden, "forbidden")

	// The OpenAPI document is served under the prefix, to anyone.
	resp, body = c.do("GET", prefix+"/openapi.json", "", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Equal(t, attachment.OpenAPI(), body)

	resp, body = c.do("DELETE", a.URL, "ann-token", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	c.problem("GET", a.URL, "ann-token", http.StatusNotFound, "not_found")
}

type client struct {
	t    *testing.T
	base string
}

func (c client) request(method, path, token, contentType string, body io.Reader) *http.Request {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	require.NoError(c.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

func (c client) send(req *http.Request) (*http.Response, []byte) {
	c.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp, body
}

func (c client) do(method, path, token, contentType string, body io.Reader) (*http.Response, []byte) {
	c.t.Helper()
	return c.send(c.request(method, path, token, contentType, body))
}

func (c client) problem(method, path, token string, status int, code string) {
	c.t.Helper()
	resp, body := c.do(method, path, token, "", nil)
	require.Equal(c.t, status, resp.StatusCode, "%s %s: %s", method, path, body)
	assert.Equal(c.t, "application/problem+json", resp.Header.Get("Content-Type"), "%s %s", method, path)
	var p attachment.Problem
	require.NoError(c.t, json.Unmarshal(body, &p), "%s %s: %s", method, path, body)
	assert.Equal(c.t, code, p.Code, "%s %s", method, path)
	assert.Equal(c.t, status, p.Status, "%s %s", method, path)
}
