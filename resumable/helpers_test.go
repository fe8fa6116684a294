package resumable_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	_ "gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/internal/pgtest"
	"github.com/attachkit/attachment/internal/s3test"
	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/metadata/pgstore"
	"github.com/attachkit/attachment/metadata/sqlitestore"
	"github.com/attachkit/attachment/resumable"
	"github.com/attachkit/attachment/storage"
)

const prefix = "/api/files"

type backend struct {
	name string
	skip string
	open func(t testing.TB) (*storage.Store, metadata.Store)
}

func backends() []backend {
	return []backend{
		{"file+sqlite", "", func(t testing.TB) (*storage.Store, metadata.Store) {
			cs, err := storage.Open(context.Background(), "file://"+t.TempDir()+"?create_dir=1&no_tmp_dir=1&metadata=skip")
			require.NoError(t, err)
			st, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "meta.db"), nil)
			require.NoError(t, err)
			t.Cleanup(func() { cs.Close(); st.Close() })
			return cs, st
		}},
		{"mem+mem", "", func(t testing.TB) (*storage.Store, metadata.Store) {
			b := memblob.OpenBucket(nil)
			t.Cleanup(func() { b.Close() })
			return storage.New(b), memstore.New()
		}},
		{"s3+postgres", cmp.Or(s3test.Skip(), pgtest.Skip()), func(t testing.TB) (*storage.Store, metadata.Store) {
			b := s3test.Open(t)
			_, pgURL := pgtest.Schema(t)
			st, err := pgstore.Open(context.Background(), pgURL, nil)
			require.NoError(t, err)
			t.Cleanup(func() { st.Close() })
			return storage.New(b.Bucket), st
		}},
	}
}

// eachBackend runs f on every backend (s3+postgres when configured).
func eachBackend(t *testing.T, o *attachment.Options, f func(t *testing.T, e *env)) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			if be.skip != "" {
				t.Skip(be.skip)
			}
			f(t, newEnv(t, be, o))
		})
	}
}

// env is a Service with the native Handler mounted under prefix and the
// tus layer as its Uploads; the access hook takes the caller's name from
// the X-User header and refuses a request without one (401).
type env struct {
	t   testing.TB
	svc *attachment.Service
	cs  *storage.Store
	srv http.Handler
}

func newEnv(t testing.TB, be backend, o *attachment.Options) *env {
	cs, meta := be.open(t)
	svc, err := attachment.New(cs, meta, o)
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() })
	h := attachment.NewHandler(svc, &attachment.HandlerOptions{
		Prefix:  prefix,
		Uploads: resumable.New(nil),
		Access: attachment.AccessFuncs{IdentifyFunc: func(r *http.Request) (attachment.Caller, error) {
			u := r.Header.Get("X-User")
			if u == "" {
				return attachment.Caller{}, attachment.ErrUnauthorized
			}
			return attachment.Caller{Name: u, Tenant: r.Header.Get("X-Tenant")}, nil
		}},
	})
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", h)
	return &env{t: t, svc: svc, cs: cs, srv: mux}
}

// do sends a request as user "alice" with Tus-Resumable: 1.0.0 and the
// headers hdr (pairs; a value "" removes the header).
func (e *env) do(method, path string, body []byte, hdr ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("X-User", "alice")
	req.Header.Set("Tus-Resumable", resumable.Version)
	if body != nil {
		req.Header.Set("Content-Type", resumable.ContentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return rec
}

// create creates an upload and returns its URL.
func (e *env) create(hdr ...string) string {
	e.t.Helper()
	rec := e.do("POST", prefix+"/uploads/", nil, hdr...)
	require.Equal(e.t, http.StatusCreated, rec.Code, rec.Body.String())
	loc := rec.Header().Get("Location")
	require.True(e.t, strings.HasPrefix(loc, prefix+"/uploads/"), loc)
	return loc
}

// patch appends body at offset.
func (e *env) patch(url string, offset int, body []byte, hdr ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.do("PATCH", url, body, append([]string{"Upload-Offset", itoa(offset)}, hdr...)...)
}

// download fetches the attachment through the native API.
func (e *env) download(id string) ([]byte, attachment.Attachment) {
	e.t.Helper()
	rec := e.do("GET", prefix+"/"+id, nil)
	require.Equal(e.t, http.StatusOK, rec.Code, rec.Body.String())
	meta := e.do("GET", prefix+"/"+id+"/metadata", nil)
	require.Equal(e.t, http.StatusOK, meta.Code, meta.Body.String())
	var a attachment.Attachment
	require.NoError(e.t, json.Unmarshal(meta.Body.Bytes(), &a))
	return rec.Body.Bytes(), a
}

func itoa(n int) string { return strconv.Itoa(n) }

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func idOf(url string) string { return url[strings.LastIndex(url, "/")+1:] }
