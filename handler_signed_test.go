package attachment_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
)

// userAccess names the caller from an X-User header (the tenant) and
// refuses anonymous callers, so that a request without it succeeds only
// by its signature. A caller named "reader-not" may do nothing.
var userAccess = attachment.AccessFuncs{
	IdentifyFunc: func(r *http.Request) (attachment.Caller, error) {
		u := r.Header.Get("X-User")
		if u == "" {
			return attachment.Caller{}, attachment.ErrUnauthorized
		}
		return attachment.Caller{Tenant: u, Name: u}, nil
	},
	AllowFunc: func(r *http.Request, c attachment.Caller, op attachment.Operation, a *attachment.Attachment) error {
		if r.Header.Get("X-Refuse") == string(op) {
			return attachment.ErrForbidden
		}
		return nil
	},
}

// signedEnv is a handler with signed URLs on a clock of the test's.
func signedEnv(t *testing.T, be backend, o attachment.SignerOptions) (*env, *signClock) {
	t.Helper()
	c := newSignClock(time.Now())
	s := newSigner(t, c, o)
	e := newEnv(t, be, &envOpts{handler: &attachment.HandlerOptions{Access: userAccess, Signer: s}})
	return e, c
}

// signURL asks for a signed URL as user with the query and returns it.
func (e *env) signURL(user, id, query string) attachment.SignedURL {
	e.t.Helper()
	rec := e.do("POST", e.prefix+"/"+id+"/signed-url"+query, nil, "X-User", user)
	require.Equal(e.t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(e.t, "application/json", rec.Header().Get("Content-Type"))
	var su attachment.SignedURL
	require.NoError(e.t, json.Unmarshal(rec.Body.Bytes(), &su))
	return su
}

func TestSignedURLRoundTrip(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			e, _ := signedEnv(t, be, attachment.SignerOptions{Keys: signingKeys("k1"), MaxTTL: time.Hour})
			img := pngBytes(t, 100, 50)
			a := e.mustUpload("pic.png", img, "X-User", "acme")

			// Without credentials and without a signature: 401.
			requireProblem(t, e.do("GET", e.prefix+"/"+a.ID, nil), http.StatusUnauthorized, "unauthorized")

			before := time.Now()
			su := e.signURL("acme", a.ID, "?ttl=60")
			require.True(t, strings.HasPrefix(su.URL, e.prefix+"/"+a.ID+"?"), su.URL)
			assert.WithinDuration(t, before.Add(60*time.Second), su.ExpiresAt, 2*time.Second)
			assert.Equal(t, time.UTC, su.ExpiresAt.Location())

			rec := e.do("GET", su.URL, nil)
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			assert.Equal(t, img, rec.Body.Bytes())
			assert.Equal(t, "image/png", rec.Header().Get("Content-Type"))
			assert.Contains(t, rec.Header().Get("Content-Disposition"), "attachment")

			rec = e.do("HEAD", su.URL, nil)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Empty(t, rec.Body.Bytes())
			assert.Equal(t, strconv.Itoa(len(img)), rec.Header().Get("Content-Length"))

			rec = e.do("GET", su.URL, nil, "Range", "bytes=0-3")
			require.Equal(t, http.StatusPartialContent, rec.Code)
			assert.Equal(t, img[:4], rec.Body.Bytes())

			// The same query string on the thumbnail, in any allowed size.
			_, query, _ := strings.Cut(su.URL, "?")
			for _, size := range []string{"", "size=64&", "size=1024&"} {
				rec = e.do("GET", e.prefix+"/"+a.ID+"/thumbnail?"+size+query, nil)
				require.Equal(t, http.StatusOK, rec.Code, size+rec.Body.String())
				assert.Equal(t, "image/jpeg", rec.Header().Get("Content-Type"), "an opaque image's thumbnail")
				rec = e.do("HEAD", e.prefix+"/"+a.ID+"/thumbnail?"+size+query, nil)
				require.Equal(t, http.StatusOK, rec.Code, size)
			}
			requireProblem(t, e.do("GET", e.prefix+"/"+a.ID+"/thumbnail?size=65&"+query, nil), http.StatusBadRequest, "invalid_size")

			// A signature grants a read, nothing else: elsewhere it is
			// ignored and the access hook decides.
			requireProblem(t, e.do("GET", e.prefix+"/"+a.ID+"/metadata?"+query, nil), http.StatusUnauthorized, "unauthorized")
			requireProblem(t, e.do("DELETE", e.prefix+"/"+a.ID+"?"+query, nil), http.StatusUnauthorized, "unauthorized")
			requireProblem(t, e.do("POST", e.prefix+"/"+a.ID+"/signed-url?"+query, nil), http.StatusUnauthorized, "unauthorized")

			// Inline, when signed so, for a type safe to display.
			su = e.signURL("acme", a.ID, "?disposition=inline")
			rec = e.do("GET", su.URL, nil)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.True(t, strings.HasPrefix(rec.Header().Get("Content-Disposition"), "inline"), rec.Header().Get("Content-Disposition"))
		})
	}
}

// With http.StripPrefix the signed URL still carries the prefix.
func TestSignedURLStripPrefix(t *testing.T) {
	s := newSigner(t, nil, attachment.SignerOptions{Keys: signingKeys("k1")})
	e := newEnv(t, backends()[2], &envOpts{strip: true, handler: &attachment.HandlerOptions{Signer: s}})
	a := e.mustUpload("a.txt", []byte("hello"))
	su := e.signURL("", a.ID, "")
	require.True(t, strings.HasPrefix(su.URL, e.prefix+"/"+a.ID+"?"), su.URL)
	rec := e.do("GET", su.URL, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "hello", rec.Body.String())
}

func TestSignedURLTampered(t *testing.T) {
	e, _ := signedEnv(t, backends()[2], attachment.SignerOptions{Keys: signingKeys("k1", "k2"), MaxTTL: time.Hour})
	a := e.mustUpload("a.txt", []byte("hello"), "X-User", "acme")
	b := e.mustUpload("b.txt", []byte("other"), "X-User", "acme")
	g := e.mustUpload("g.txt", []byte("globex"), "X-User", "globex")
	su := e.signURL("acme", a.ID, "?ttl=600&disposition=inline")
	require.Equal(t, http.StatusOK, e.do("GET", su.URL, nil).Code)
	path, raw, _ := strings.Cut(su.URL, "?")
	good, err := url.ParseQuery(raw)
	require.NoError(t, err)

	edit := func(f func(q url.Values)) string {
		q := url.Values{}
		for k, v := range good {
			q[k] = append([]string(nil), v...)
		}
		f(q)
		return q.Encode()
	}
	for name, query := range map[string]string{
		"expires":          edit(func(q url.Values) { q.Set("expires", strconv.Itoa(mustAtoi(t, q.Get("expires"))+1)) }),
		"kid":              edit(func(q url.Values) { q.Set("kid", "k2") }),
		"unknown kid":      edit(func(q url.Values) { q.Set("kid", "k3") }),
		"tenant":           edit(func(q url.Values) { q.Set("tenant", "globex") }),
		"no tenant":        edit(func(q url.Values) { q.Del("tenant") }),
		"disposition":      edit(func(q url.Values) { q.Set("disposition", "attachment") }),
		"no disposition":   edit(func(q url.Values) { q.Del("disposition") }),
		"sig":              edit(func(q url.Values) { s := []byte(q.Get("sig")); s[0] ^= 2; q.Set("sig", string(s)) }),
		"no sig":           edit(func(q url.Values) { q.Del("sig") }),
		"sig twice":        edit(func(q url.Values) { q.Add("sig", q.Get("sig")) }),
		"only a signature": "sig=" + good.Get("sig"),
	} {
		for _, p := range []string{path, path + "/thumbnail"} {
			rec := e.do("GET", p+"?"+query, nil)
			requireProblem(t, rec, http.StatusForbidden, "forbidden")
			assert.NotContains(t, rec.Body.String(), "hello", name)
		}
	}
	// The signature of a on another attachment, of the same tenant or
	// another: refused, even for a caller who could read it.
	for _, id := range []string{b.ID, g.ID} {
		requireProblem(t, e.do("GET", e.prefix+"/"+id+"?"+raw, nil), http.StatusForbidden, "forbidden")
		requireProblem(t, e.do("GET", e.prefix+"/"+id+"?"+raw, nil, "X-User", "acme"), http.StatusForbidden, "forbidden")
	}
	// A request with a signature is judged by it alone, credentials or not.
	requireProblem(t, e.do("GET", path+"?"+edit(func(q url.Values) { q.Set("tenant", "x") }), nil, "X-User", "acme"), http.StatusForbidden, "forbidden")

	// Signed by another host's key of the same ID.
	other := newSigner(t, nil, attachment.SignerOptions{Keys: []attachment.SigningKey{{ID: "k1", Secret: signingSecret('x')}}})
	q, _, err := other.Sign("acme", a.ID, time.Minute, "")
	require.NoError(t, err)
	requireProblem(t, e.do("GET", path+"?"+q.Encode(), nil), http.StatusForbidden, "forbidden")

	// A signature for globex's tenant on acme's attachment: the tenant is
	// signed, and in globex the attachment does not exist anyway.
	h := attachment.NewHandler(e.svc, &attachment.HandlerOptions{Prefix: e.prefix, Signer: newSigner(t, nil, attachment.SignerOptions{Keys: signingKeys("k1")})})
	_, err = h.SignedURL(context.Background(), "globex", a.ID, nil)
	require.ErrorIs(t, err, attachment.ErrNotFound)
}

func mustAtoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

func TestSignedURLExpired(t *testing.T) {
	e, c := signedEnv(t, backends()[0], attachment.SignerOptions{Keys: signingKeys("k1"), MaxTTL: time.Hour})
	a := e.mustUpload("pic.png", pngBytes(t, 10, 10), "X-User", "acme")
	su := e.signURL("acme", a.ID, "?ttl=30")
	_, query, _ := strings.Cut(su.URL, "?")
	thumb := e.prefix + "/" + a.ID + "/thumbnail?" + query
	require.Equal(t, http.StatusOK, e.do("GET", su.URL, nil).Code)
	require.Equal(t, http.StatusOK, e.do("GET", thumb, nil).Code)

	c.advance(31 * time.Second)
	p := requireProblem(t, e.do("GET", su.URL, nil), http.StatusForbidden, "forbidden")
	assert.Contains(t, p.Detail, "expired")
	assert.Equal(t, http.StatusForbidden, e.do("HEAD", su.URL, nil).Code)
	requireProblem(t, e.do("GET", thumb, nil), http.StatusForbidden, "forbidden")
}

func TestSignedURLRotation(t *testing.T) {
	be := backends()[0]
	e, _ := signedEnv(t, be, attachment.SignerOptions{Keys: signingKeys("k1")})
	a := e.mustUpload("a.txt", []byte("hello"), "X-User", "acme")
	old := e.signURL("acme", a.ID, "")

	// serveWith serves path through a handler on the same service with
	// the signer of keys.
	serveWith := func(keys []attachment.SigningKey, method, path string) *httptest.ResponseRecorder {
		h := attachment.NewHandler(e.svc, &attachment.HandlerOptions{Prefix: e.prefix, Access: userAccess,
			Signer: newSigner(t, nil, attachment.SignerOptions{Keys: keys})})
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(method, path, nil)
		req.Header.Set("X-User", "acme")
		h.ServeHTTP(rec, req)
		return rec
	}
	rotated := signingKeys("k2", "k1")
	rec := serveWith(rotated, "GET", old.URL)
	require.Equal(t, http.StatusOK, rec.Code, "the old key verifies while it is in the set")
	rec = serveWith(rotated, "POST", e.prefix+"/"+a.ID+"/signed-url")
	require.Equal(t, http.StatusOK, rec.Code)
	var fresh attachment.SignedURL
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &fresh))
	assert.Contains(t, fresh.URL, "kid=k2", "the new key signs")

	retired := signingKeys("k2")
	requireProblem(t, serveWith(retired, "GET", old.URL), http.StatusForbidden, "forbidden")
	assert.Equal(t, http.StatusOK, serveWith(retired, "GET", fresh.URL).Code)
}

func TestSignedURLTTL(t *testing.T) {
	e, _ := signedEnv(t, backends()[2], attachment.SignerOptions{Keys: signingKeys("k1"), DefaultTTL: 5 * time.Minute, MaxTTL: time.Hour})
	a := e.mustUpload("a.txt", []byte("hello"), "X-User", "acme")
	for query, want := range map[string]time.Duration{
		"":                             5 * time.Minute,
		"?ttl=1":                       time.Second,
		"?ttl=120":                     2 * time.Minute,
		"?ttl=3600":                    time.Hour,
		"?ttl=3601":                    time.Hour,
		"?ttl=99999999999999999999999": time.Hour,
	} {
		now := time.Now()
		su := e.signURL("acme", a.ID, query)
		assert.WithinDuration(t, now.Add(want), su.ExpiresAt, 2*time.Second, query)
		assert.Equal(t, http.StatusOK, e.do("GET", su.URL, nil).Code, query)
	}
	for _, query := range []string{"?ttl=", "?ttl=0", "?ttl=-1", "?ttl=+5", "?ttl=1.5", "?ttl=10s", "?ttl=%201", "?ttl=1&ttl=2", "?disposition=evil"} {
		requireProblem(t, e.do("POST", e.prefix+"/"+a.ID+"/signed-url"+query, nil, "X-User", "acme"), http.StatusBadRequest, "bad_request")
	}
}

func TestSignedURLAccess(t *testing.T) {
	e, _ := signedEnv(t, backends()[0], attachment.SignerOptions{Keys: signingKeys("k1")})
	a := e.mustUpload("a.txt", []byte("hello"), "X-User", "acme")

	// Another tenant's attachment is a 404 exactly like a missing one.
	foreign := e.do("POST", e.prefix+"/"+a.ID+"/signed-url", nil, "X-User", "globex")
	requireProblem(t, foreign, http.StatusNotFound, "not_found")
	missing := "0194f5d2-7c3e-7a51-9c1b-3d2e4f5a6b7c"
	gone := e.do("POST", e.prefix+"/"+missing+"/signed-url", nil, "X-User", "globex")
	requireProblem(t, gone, http.StatusNotFound, "not_found")
	assert.Equal(t, strings.ReplaceAll(gone.Body.String(), missing, a.ID), foreign.Body.String())

	// The caller must be allowed to download.
	requireProblem(t, e.do("POST", e.prefix+"/"+a.ID+"/signed-url", nil, "X-User", "acme", "X-Refuse", "download"), http.StatusForbidden, "forbidden")
	requireProblem(t, e.do("POST", e.prefix+"/"+a.ID+"/signed-url", nil), http.StatusUnauthorized, "unauthorized")
	// Only POST.
	rec := e.do("GET", e.prefix+"/"+a.ID+"/signed-url", nil, "X-User", "acme")
	requireProblem(t, rec, http.StatusMethodNotAllowed, "bad_request")
	assert.Equal(t, "POST", rec.Header().Get("Allow"))

	// A signed URL of a deleted attachment is a 404.
	su := e.signURL("acme", a.ID, "")
	require.Equal(t, http.StatusOK, e.do("DELETE", e.prefix+"/"+a.ID, nil, "X-User", "acme").Code)
	requireProblem(t, e.do("GET", su.URL, nil), http.StatusNotFound, "not_found")
}

// From Go: Handler.SignedURL.
func TestHandlerSignedURL(t *testing.T) {
	e, _ := signedEnv(t, backends()[0], attachment.SignerOptions{Keys: signingKeys("k1"), MaxTTL: time.Hour})
	a := e.mustUpload("a.txt", []byte("hello"), "X-User", "acme")
	h := attachment.NewHandler(e.svc, &attachment.HandlerOptions{Prefix: e.prefix,
		Signer: newSigner(t, nil, attachment.SignerOptions{Keys: signingKeys("k1"), MaxTTL: time.Hour})})
	su, err := h.SignedURL(context.Background(), "acme", a.ID, &attachment.SignOptions{TTL: 2 * time.Hour})
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now().Add(time.Hour), su.ExpiresAt, 2*time.Second)
	rec := e.do("GET", su.URL, nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "hello", rec.Body.String())

	_, err = h.SignedURL(context.Background(), "acme", "0194f5d2-7c3e-7a51-9c1b-3d2e4f5a6b7c", nil)
	require.ErrorIs(t, err, attachment.ErrNotFound)
	_, err = h.SignedURL(context.Background(), "acme", a.ID, &attachment.SignOptions{Disposition: "evil"})
	require.ErrorIs(t, err, attachment.ErrInvalid)
	_, err = attachment.NewHandler(e.svc, nil).SignedURL(context.Background(), "acme", a.ID, nil)
	require.ErrorIs(t, err, attachment.ErrNotFound)
}

// Without a Signer there are no signed URLs: the route is absent and a
// signed query string is refused, never honoured.
func TestSignedURLDisabled(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	a := e.mustUpload("a.txt", []byte("hello"))
	requireProblem(t, e.do("POST", e.prefix+"/"+a.ID+"/signed-url", nil), http.StatusNotFound, "not_found")
	requireProblem(t, e.do("GET", e.prefix+"/"+a.ID+"/signed-url", nil), http.StatusNotFound, "not_found")

	// A URL signed elsewhere with any key.
	s := newSigner(t, nil, attachment.SignerOptions{Keys: signingKeys("k1")})
	q, _, err := s.Sign("", a.ID, time.Minute, "")
	require.NoError(t, err)
	requireProblem(t, e.do("GET", e.prefix+"/"+a.ID+"?"+q.Encode(), nil), http.StatusForbidden, "forbidden")
	requireProblem(t, e.do("GET", e.prefix+"/"+a.ID+"/thumbnail?"+q.Encode(), nil), http.StatusForbidden, "forbidden")
	// Without a signature, the (open) access hook decides as before.
	assert.Equal(t, http.StatusOK, e.do("GET", e.prefix+"/"+a.ID, nil).Code)
}
