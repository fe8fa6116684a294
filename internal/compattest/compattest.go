// Package compattest sets up what the tests of the seed dialects (compat/...)
// share: a Service on a real backend (file+sqlite always; s3+postgres when
// the test servers are configured, as in CI), the native Handler mounted
// beside the dialect on one mux, a token access hook, checks that nothing
// was stored, and fixture files. Only tests import it.
package compattest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/subtle"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// for the file+sqlite backend

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/internal/pgtest"
	"github.com/attachkit/attachment/internal/s3test"
	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/pgstore"
	"github.com/attachkit/attachment/metadata/sqlitestore"
	"github.com/attachkit/attachment/storage"
)

// Token is the credential the environments' access hook accepts.
const Token = "test-token-4f1c9a"

// NativePrefix is where Env mounts the native API.
const NativePrefix = "/api/files"

// Backend is one combination of content and metadata stores.
type Backend struct {
	Name string
	// Skip, when set, is why the backend cannot run here.
	Skip string
	open func(t testing.TB) (*storage.Store, metadata.Store)
}

// Backends are file+sqlite (a real directory and SQLite file) and
// s3+postgres, which skips, saying how to start the servers, unless
// ATTACHMENT_TEST_S3_URL and ATTACHMENT_TEST_POSTGRES_URL are set.
func Backends() []Backend {
	return []Backend{
		{"file+sqlite", "", func(t testing.TB) (*storage.Store, metadata.Store) {
			cs, err := storage.Open(context.Background(), "file://"+t.TempDir()+"?create_dir=1&no_tmp_dir=1&metadata=skip")
			require.NoError(t, err)
			st, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "meta.db"), nil)
			require.NoError(t, err)
			return cs, st
		}},
		{"s3+postgres", cmp.Or(s3test.Skip(), pgtest.Skip()), func(t testing.TB) (*storage.Store, metadata.Store) {
			b := s3test.Open(t)
			_, pgURL := pgtest.Schema(t)
			st, err := pgstore.Open(context.Background(), pgURL, nil)
			require.NoError(t, err)
			return storage.New(b.Bucket), st
		}},
	}
}

// Options tune an Env.
type Options struct {
	// Service and Handler are the options of the Service and the native
	// Handler; nil means defaults. Handler.Access and Handler.Prefix are
	// set by NewEnv.
	Service *attachment.Options
	Handler *attachment.HandlerOptions
	// Credential, when set, is how the dialect's clients carry the token
	// (the dialect's Token function): the access hook then requires
	// Token, from the native API's Bearer header or from Credential.
	// Nil lets every request in.
	Credential func(r *http.Request) (string, bool)
}

// Env is a Service with the native API mounted at NativePrefix and a
// dialect mounted beside it on Mux.
type Env struct {
	T       testing.TB
	Bucket  *blob.Bucket
	Meta    metadata.Store
	Service *attachment.Service
	// Handler is the native Handler (mounted at NativePrefix), for the
	// dialect to wrap.
	Handler *attachment.Handler
	Mux     *http.ServeMux
}

// NewEnv opens the backend and mounts the native API; mount the dialect
// with Env.Mount.
func NewEnv(t testing.TB, be Backend, o *Options) *Env {
	t.Helper()
	if be.Skip != "" {
		t.Skip(be.Skip)
	}
	if o == nil {
		o = &Options{}
	}
	cs, meta := be.open(t)
	t.Cleanup(func() { cs.Bucket().Close(); meta.Close() })
	svc, err := attachment.New(cs, meta, o.Service)
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() })
	var ho attachment.HandlerOptions
	if o.Handler != nil {
		ho = *o.Handler
	}
	ho.Prefix = NativePrefix
	if o.Credential != nil {
		ho.Access = TokenAccess(o.Credential)
	}
	h := attachment.NewHandler(svc, &ho)
	mux := http.NewServeMux()
	mux.Handle(NativePrefix+"/", h)
	return &Env{T: t, Bucket: cs.Bucket(), Meta: meta, Service: svc, Handler: h, Mux: mux}
}

// Mount serves dialect under prefix (no trailing slash) on the Env's mux.
func (e *Env) Mount(prefix string, dialect http.Handler) {
	e.Mux.Handle(prefix+"/", dialect)
	e.Mux.Handle(prefix, dialect)
}

// TokenAccess is an access hook that lets in a request carrying Token as
// a Bearer token (the native API's way) or as credential finds it, and
// answers any other ErrUnauthorized. The caller is named "tester".
func TokenAccess(credential func(r *http.Request) (string, bool)) attachment.Access {
	return attachment.AccessFuncs{
		IdentifyFunc: func(r *http.Request) (attachment.Caller, error) {
			tok, ok := credential(r)
			if !ok {
				if v, found := bytes.CutPrefix([]byte(r.Header.Get("Authorization")), []byte("Bearer ")); found {
					tok, ok = string(v), true
				}
			}
			if !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(Token)) != 1 {
				return attachment.Caller{}, attachment.ErrUnauthorized
			}
			return attachment.Caller{Name: "tester"}, nil
		},
	}
}

// Do sends a request to the Env's mux and returns the recorded answer.
// hdr are header name, value pairs.
func (e *Env) Do(method, target string, body io.Reader, hdr ...string) *httptest.ResponseRecorder {
	e.T.Helper()
	req := httptest.NewRequest(method, target, body)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	e.Mux.ServeHTTP(rec, req)
	return rec
}

// Count returns the number of records and of content objects stored.
func (e *Env) Count() (records, objects int) {
	e.T.Helper()
	ctx := context.Background()
	for a, err := range e.Service.All(ctx, nil) {
		require.NoError(e.T, err)
		_ = a
		records++
	}
	it := e.Bucket.List(nil)
	for {
		_, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		require.NoError(e.T, err)
		objects++
	}
	return records, objects
}

// RequireNothingStored fails the test unless the stores hold exactly
// what they held when before was taken (before := e.Snapshot()).
func (e *Env) RequireNothingStored(before Snapshot) {
	e.T.Helper()
	r, o := e.Count()
	require.Equal(e.T, before.Records, r, "records stored by a failed request")
	require.Equal(e.T, before.Objects, o, "objects left in the bucket by a failed request")
}

// Snapshot is what the stores hold at one moment.
type Snapshot struct{ Records, Objects int }

// Snapshot counts what the stores hold now.
func (e *Env) Snapshot() Snapshot {
	r, o := e.Count()
	return Snapshot{r, o}
}

// Part is one part of a multipart body: a file when Filename is set.
type Part struct {
	Field, Filename, ContentType string
	Content                      []byte
}

// Multipart builds a multipart/form-data body of parts, in order, and
// returns it with its Content-Type.
func Multipart(t testing.TB, parts ...Part) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		cd := `form-data; name="` + p.Field + `"`
		if p.Filename != "" {
			cd += `; filename="` + p.Filename + `"`
		}
		h.Set("Content-Disposition", cd)
		if p.ContentType != "" {
			h.Set("Content-Type", p.ContentType)
		}
		w, err := mw.CreatePart(h)
		require.NoError(t, err)
		_, err = w.Write(p.Content)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return &buf, mw.FormDataContentType()
}

// PNG returns a w×h PNG image.
func PNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// PDF is a minimal PDF document (detected as application/pdf).
var PDF = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
