package efalia_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/compat/efalia"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
)

// FuzzCanonicalID: the result is either the input unchanged or a
// canonical UUID with the same hex digits, and canonical IDs are fixed
// points.
func FuzzCanonicalID(f *testing.F) {
	for _, s := range []string{"8a6186f76127161601612722d18d0001", "0190B2D4-0000-7000-8000-00000000000A",
		"0190b2d4-0000-7000-8000-000000000000", "0190b2d4x0000-7000-8000-000000000000", "", "g0000000000000000000000000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := efalia.CanonicalID(s)
		if got == s {
			return
		}
		u, err := uuid.Parse(got)
		require.NoError(t, err, "%q -> %q", s, got)
		require.Equal(t, u.String(), got)
		require.Equal(t, strings.ToLower(strings.ReplaceAll(s, "-", "")), strings.ReplaceAll(got, "-", ""))
		require.Equal(t, got, efalia.CanonicalID(got))
	})
}

// FuzzRawFile: any query and headers give a non-empty name or an
// *attachment.Error, never a panic.
func FuzzRawFile(f *testing.F) {
	f.Add("filename=a.pdf&contentType=application/pdf", "", `attachment; filename="x"`, "text/plain")
	f.Add("", "caf\xe9.txt", "", "")
	f.Add("", "", `attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`, "")
	f.Add("", "", `attachment; filename="a`, "")
	f.Fuzz(func(t *testing.T, query, fname, cd, ct string) {
		r := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/df", RawQuery: query}, Header: http.Header{}}
		r.Header.Set("filename", fname)
		r.Header.Set("Content-Disposition", cd)
		r.Header.Set("Content-Type", ct)
		name, _, err := efalia.RawFile(r)
		if err != nil {
			var e *attachment.Error
			require.ErrorAs(t, err, &e)
			return
		}
		require.NotEmpty(t, name)
		if r.URL.Query().Get("filename") == "" && r.Header.Get("filename") != "" {
			require.True(t, utf8.ValidString(name), "%q", name)
		}
	})
}

// FuzzToken: a token is found only when one is there, and a Bearer or
// Basic one round-trips.
func FuzzToken(f *testing.F) {
	f.Add("Bearer", "abc", "", "")
	f.Add("Basic", "", "user", "pa:ss")
	f.Add("", "", "", "")
	f.Fuzz(func(t *testing.T, scheme, bearer, user, key string) {
		r := &http.Request{Header: http.Header{}}
		switch scheme {
		case "Bearer":
			r.Header.Set("Authorization", "Bearer "+bearer)
		case "Basic":
			r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+bearer)))
		default:
			r.Header.Set("Authorization", scheme)
		}
		r.Header.Set("X-API-KEY", key)
		tok, ok := efalia.Token(r)
		if !ok {
			require.Empty(t, tok)
			return
		}
		require.NotEmpty(t, tok)
		clean := strings.TrimSpace(bearer)
		if scheme == "Basic" && !strings.Contains(user, ":") && bearer != "" {
			require.Equal(t, bearer, tok)
		} else if scheme == "Bearer" && clean != "" && !strings.ContainsAny(bearer, "\r\n") {
			require.Equal(t, clean, tok)
		}
	})
}

// FuzzRoutes: any method and path under the prefix is answered, errors
// always as a RestMessage whose code is the status.
func FuzzRoutes(f *testing.F) {
	svc, err := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(),
		&attachment.Options{Processing: attachment.ProcessingOptions{Workers: attachment.Off}})
	require.NoError(f, err)
	f.Cleanup(func() { svc.Close() })
	h := efalia.New(attachment.NewHandler(svc, nil), &efalia.Options{Prefix: efalia.BasePath})
	for _, s := range [][2]string{{"GET", "/x/metadata"}, {"POST", "/df?filename=a"}, {"DELETE", "/8a6186f76127161601612722d18d0001"},
		{"PUT", "/x"}, {"GET", "/a%2Fb/inline"}, {"HEAD", "/"}, {"POST", "/df"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		u, err := url.Parse(efalia.BasePath + path)
		if err != nil || !validMethod(method) {
			return
		}
		r := &http.Request{Method: method, URL: u, Header: http.Header{}, Body: http.NoBody, RequestURI: u.RequestURI()}
		r = r.WithContext(t.Context())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code < 400 {
			return
		}
		if method == http.MethodHead {
			assert.Empty(t, rec.Body.Bytes())
			return
		}
		var m efalia.RestMessage
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
		assert.Equal(t, rec.Code, m.Code)
		assert.True(t, m.Error)
		assert.NotEqual(t, efalia.StatusUnexpected, rec.Code, m.Message)
	})
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c <= ' ' || c > '~' || strings.ContainsRune("()<>@,;:\\\"/[]?={}", c) {
			return false
		}
	}
	return true
}
