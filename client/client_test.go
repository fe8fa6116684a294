package client_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/client"
	_ "github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/wire"
)

// prefix is where the tests mount the handler.
const prefix = "/api/files"

// env is the real handler over a Service with mem:// stores, mounted under
// prefix on a ServeMux in an httptest.Server, and a Client for it.
type env struct {
	t    *testing.T
	svc  *attachment.Service
	srv  *httptest.Server
	base string // srv.URL + prefix
	c    *client.Client

	mu   sync.Mutex
	reqs []seen // every request the server saw, in order
}

// seen is what the server saw of one request.
type seen struct {
	method, path, query string
	header              http.Header
	contentLength       int64
}

type envOpts struct {
	svc     *attachment.Options
	handler *attachment.HandlerOptions
	client  *client.Options
	// strip mounts the handler with http.StripPrefix and no Prefix.
	strip bool
	// blobURL replaces "mem://".
	blobURL string
	// service, when set, makes the Service instead of attachment.Open.
	service func(t *testing.T) *attachment.Service
	// wrap wraps the handler (after recording), to watch requests.
	wrap func(http.Handler) http.Handler
}

func newEnv(t *testing.T, o *envOpts) *env {
	t.Helper()
	if o == nil {
		o = &envOpts{}
	}
	var svc *attachment.Service
	if o.service != nil {
		svc = o.service(t)
	} else {
		blobURL := o.blobURL
		if blobURL == "" {
			blobURL = "mem://"
		}
		var err error
		svc, err = attachment.Open(context.Background(), blobURL, "mem://", o.svc)
		require.NoError(t, err)
	}
	t.Cleanup(func() { svc.Close() })
	var hopts attachment.HandlerOptions
	if o.handler != nil {
		hopts = *o.handler
	}
	var h http.Handler
	if o.strip {
		h = http.StripPrefix(prefix, attachment.NewHandler(svc, &hopts))
	} else {
		hopts.Prefix = prefix
		h = attachment.NewHandler(svc, &hopts)
	}
	if o.wrap != nil {
		h = o.wrap(h)
	}
	e := &env{t: t, svc: svc}
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.reqs = append(e.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), r.ContentLength})
		e.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.base = e.srv.URL + prefix
	c, err := client.New(e.base, o.client)
	require.NoError(t, err)
	e.c = c
	return e
}

// requests returns the requests the server has seen.
func (e *env) requests() []seen {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]seen(nil), e.reqs...)
}

// reset forgets the requests seen so far.
func (e *env) reset() {
	e.mu.Lock()
	e.reqs = nil
	e.mu.Unlock()
}

// upload uploads content named name and returns the record.
func (e *env) upload(name string, content []byte, opts *client.UploadOptions) *attachment.Attachment {
	e.t.Helper()
	a, err := e.c.Upload(context.Background(), client.File{Name: name, Content: bytes.NewReader(content)}, opts)
	require.NoError(e.t, err)
	return a
}

// pngBytes is a w×h opaque PNG.
func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

// requireCode checks that err is a *client.Error with the status and code,
// and that errors.Is holds for the sentinel (and for none of the others).
func requireCode(t *testing.T, err error, status int, code string, sentinel error) *client.Error {
	t.Helper()
	require.Error(t, err)
	var ce *client.Error
	require.ErrorAs(t, err, &ce, "%v", err)
	assert.Equal(t, status, ce.Status, "%v", err)
	assert.Equal(t, code, ce.Code, "%v", err)
	if sentinel != nil {
		assert.ErrorIs(t, err, sentinel)
	}
	for _, s := range allSentinels() {
		if s != sentinel {
			assert.NotErrorIs(t, err, s, "%v", err)
		}
	}
	return ce
}

// allSentinels are the sentinel errors the API has codes for (every
// kind of wire's table but internal).
func allSentinels() []error {
	var errs []error
	for _, k := range wire.Kinds() {
		if k.Err != nil {
			errs = append(errs, k.Err)
		}
	}
	return errs
}

func TestNewValidatesBaseURL(t *testing.T) {
	for _, bad := range []string{"", "localhost:8080/files", "ftp://h/files", "http:///files", "http://h/files?x=1", "http://h/files?", "http://h/files#f", "http://u:p@h/files", "http://h/%zz"} {
		_, err := client.New(bad, nil)
		assert.Error(t, err, bad)
	}
	c, err := client.New("http://h:1/files/", nil)
	require.NoError(t, err)
	assert.Equal(t, "http://h:1/files", c.BaseURL())
	u, err := c.ResolveURL("/files/abc?sig=1")
	require.NoError(t, err)
	assert.Equal(t, "http://h:1/files/abc?sig=1", u)
}

// Requests go below the base URL's path whether the host told the handler
// its prefix or stripped it, and every returned URL resolves.
func TestMounts(t *testing.T) {
	for _, strip := range []bool{false, true} {
		e := newEnv(t, &envOpts{strip: strip})
		a := e.upload("a.txt", []byte("hello"), nil)
		assert.Equal(t, prefix+"/"+a.ID, a.URL)
		got, err := e.c.Get(context.Background(), a.ID)
		require.NoError(t, err)
		assert.Equal(t, a.ID, got.ID)
		u, err := e.c.ResolveURL(a.URL)
		require.NoError(t, err)
		assert.Equal(t, e.base+"/"+a.ID, u)
	}
}

// tokenAccess names the caller's tenant by its bearer token, as
// examples/server does with one token; "reader" may not delete.
func tokenAccess() attachment.Access {
	return attachment.AccessFuncs{
		IdentifyFunc: func(r *http.Request) (attachment.Caller, error) {
			tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || tok == "" {
				return attachment.Caller{}, attachment.ErrUnauthorized
			}
			tenant, _, _ := strings.Cut(tok, "-")
			return attachment.Caller{Tenant: tenant, Name: "user:" + tok}, nil
		},
		AllowFunc: func(r *http.Request, c attachment.Caller, op attachment.Operation, a *attachment.Attachment) error {
			if op == attachment.OpDelete && strings.HasSuffix(c.Name, "-reader") {
				return attachment.ErrForbidden
			}
			return nil
		},
	}
}

// Options.Token, Header and RequestEditor reach the server on every
// request, and the access hook isolates tenants.
func TestAuthAndTenants(t *testing.T) {
	e := newEnv(t, &envOpts{handler: &attachment.HandlerOptions{Access: tokenAccess()}})
	ctx := context.Background()
	newClient := func(o *client.Options) *client.Client {
		c, err := client.New(e.base, o)
		require.NoError(t, err)
		return c
	}
	acme := newClient(&client.Options{Token: "acme"})
	globex := newClient(&client.Options{Header: http.Header{"Authorization": {"Bearer globex"}}})
	acmeReader := newClient(&client.Options{RequestEditor: func(r *http.Request) error {
		r.Header.Set("Authorization", "Bearer acme-reader")
		return nil
	}})
	anon := newClient(nil)

	a, err := acme.Upload(ctx, client.File{Name: "plan.txt", Content: strings.NewReader("secret")}, nil)
	require.NoError(t, err)
	assert.Equal(t, "user:acme", a.CreatedBy)

	_, err = acmeReader.Get(ctx, a.ID)
	require.NoError(t, err, "same tenant reads")
	requireCode(t, acmeReader.Delete(ctx, a.ID, nil), http.StatusForbidden, client.CodeForbidden, attachment.ErrForbidden)

	_, err = globex.Get(ctx, a.ID)
	requireCode(t, err, http.StatusNotFound, client.CodeNotFound, attachment.ErrNotFound)
	_, _, err = globex.Open(ctx, a.ID)
	requireCode(t, err, http.StatusNotFound, client.CodeNotFound, attachment.ErrNotFound)
	page, err := globex.ListPage(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, page.Attachments)

	_, err = anon.ListPage(ctx, nil)
	requireCode(t, err, http.StatusUnauthorized, client.CodeUnauthorized, attachment.ErrUnauthorized)
	_, err = anon.Upload(ctx, client.File{Name: "x.txt", Content: strings.NewReader("x")}, nil)
	requireCode(t, err, http.StatusUnauthorized, client.CodeUnauthorized, attachment.ErrUnauthorized)

	// An editor's error stops the call before anything is sent.
	boom := errors.New("boom")
	n := len(e.requests())
	failing := newClient(&client.Options{RequestEditor: func(*http.Request) error { return boom }})
	_, err = failing.Upload(ctx, client.File{Name: "x.txt", Content: strings.NewReader("x")}, nil)
	assert.ErrorIs(t, err, boom)
	_, err = failing.Get(ctx, a.ID)
	assert.ErrorIs(t, err, boom)
	assert.Len(t, e.requests(), n)

	require.NoError(t, acme.Delete(ctx, a.ID, nil))
}

// Options.UserAgent and HTTPClient are used.
func TestOptionsHTTPClientAndUserAgent(t *testing.T) {
	e := newEnv(t, nil)
	var used bool
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used = true
		return http.DefaultTransport.RoundTrip(r)
	})}
	c, err := client.New(e.base, &client.Options{HTTPClient: hc, UserAgent: "test-agent/1"})
	require.NoError(t, err)
	_, err = c.ListPage(context.Background(), nil)
	require.NoError(t, err)
	assert.True(t, used)
	reqs := e.requests()
	assert.Equal(t, "test-agent/1", reqs[len(reqs)-1].header.Get("User-Agent"))
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// readAll reads and closes body.
func readAll(t *testing.T, body io.ReadCloser) []byte {
	t.Helper()
	defer body.Close()
	b, err := io.ReadAll(body)
	require.NoError(t, err)
	return b
}
