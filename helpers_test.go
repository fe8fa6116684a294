package attachment_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/internal/pgtest"
	"github.com/attachkit/attachment/internal/s3test"
	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/metadata/pgstore"
	"github.com/attachkit/attachment/metadata/sqlitestore"
	"github.com/attachkit/attachment/storage"
)

// backend is one combination of content and metadata stores the handler
// suite runs on.
type backend struct {
	name string
	// skip, when set, is why the backend cannot run here; newEnv skips the
	// test with it.
	skip string
	open func(t testing.TB) stores
}

// stores are a backend's stores, opened for one test.
type stores struct {
	bucket *blob.Bucket
	meta   metadata.Store
	s3     *s3test.Bucket // the S3 bucket under bucket, or nil
	// content, when set, is the content store over bucket (opened by URL,
	// as attachment.Open opens it); else storage.New(bucket) is.
	content *storage.Store
}

// contentStore is st.content, or a Store over st.bucket.
func (st stores) contentStore() *storage.Store {
	if st.content != nil {
		return st.content
	}
	return storage.New(st.bucket)
}

// backends are the backends the suites loop over. Tests that need one
// backend take backends()[0], [1] or [2]. s3+postgres, the production
// setup, comes last and skips, saying how to start the servers, unless
// ATTACHMENT_TEST_S3_URL and ATTACHMENT_TEST_POSTGRES_URL are set.
func backends() []backend {
	return []backend{
		{"file+mem", "", func(t testing.TB) stores {
			b, err := fileblob.OpenBucket(t.TempDir(), &fileblob.Options{NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
			require.NoError(t, err)
			return stores{bucket: b, meta: memstore.New()}
		}},
		{"file+sqlite", "", func(t testing.TB) stores {
			// Opened by URL, as attachment.Open and examples/server open
			// it (file+mem covers a fileblob bucket given to storage.New).
			cs, err := storage.Open(context.Background(), "file://"+t.TempDir()+"?create_dir=1&no_tmp_dir=1&metadata=skip")
			require.NoError(t, err)
			st, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "meta.db"), nil)
			require.NoError(t, err)
			return stores{bucket: cs.Bucket(), meta: st, content: cs}
		}},
		{"mem+mem", "", func(t testing.TB) stores {
			return stores{bucket: memblob.OpenBucket(nil), meta: memstore.New()}
		}},
		{"s3+postgres", cmp.Or(s3test.Skip(), pgtest.Skip()), func(t testing.TB) stores {
			b := s3test.Open(t)          // a prefix of its own, emptied when t ends
			_, pgURL := pgtest.Schema(t) // a schema of its own, dropped when t ends
			st, err := pgstore.Open(context.Background(), pgURL, nil)
			require.NoError(t, err)
			return stores{bucket: b.Bucket, meta: st, s3: b}
		}},
	}
}

// env is a service and handler under test, mounted under a prefix.
type env struct {
	t      testing.TB
	bucket *blob.Bucket
	s3     *s3test.Bucket // the S3 bucket under bucket, or nil
	meta   metadata.Store
	svc    *attachment.Service
	srv    http.Handler
	prefix string
}

type envOpts struct {
	svc     *attachment.Options
	handler *attachment.HandlerOptions
	// strip mounts the handler with http.StripPrefix instead of telling it
	// the prefix.
	strip bool
}

func newEnv(t testing.TB, be backend, o *envOpts) *env {
	t.Helper()
	if be.skip != "" {
		t.Skip(be.skip)
	}
	if o == nil {
		o = &envOpts{}
	}
	st := be.open(t)
	bucket, meta := st.bucket, st.meta
	t.Cleanup(func() { bucket.Close(); meta.Close() })
	svc, err := attachment.New(st.contentStore(), meta, o.svc)
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() }) // stops the workers before the stores close
	const prefix = "/api/files"
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
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", recordExchanges(t, prefix, h)) // off unless $ATTACHMENT_TEST_EXCHANGES
	return &env{t: t, bucket: bucket, s3: st.s3, meta: meta, svc: svc, srv: mux, prefix: prefix}
}

// do sends a request to the handler and returns the recorded response.
func (e *env) do(method, path string, body io.Reader, hdr ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(method, path, body)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return rec
}

// uploadRaw uploads content as a raw body named name.
func (e *env) uploadRaw(name string, content []byte, hdr ...string) *httptest.ResponseRecorder {
	return e.do("POST", e.prefix+"/?filename="+url.QueryEscape(name), bytes.NewReader(content), hdr...)
}

// mustUpload uploads and returns the record.
func (e *env) mustUpload(name string, content []byte, hdr ...string) attachment.Attachment {
	e.t.Helper()
	rec := e.uploadRaw(name, content, hdr...)
	require.Equal(e.t, http.StatusCreated, rec.Code, rec.Body.String())
	var res struct{ Attachments []attachment.Attachment }
	require.NoError(e.t, json.Unmarshal(rec.Body.Bytes(), &res))
	require.Len(e.t, res.Attachments, 1)
	return res.Attachments[0]
}

// keys lists every key in the bucket.
func (e *env) keys() []string {
	e.t.Helper()
	var keys []string
	it := e.bucket.List(nil)
	for {
		obj, err := it.Next(context.Background())
		if err == io.EOF {
			return keys
		}
		require.NoError(e.t, err)
		keys = append(keys, obj.Key)
	}
}

// count is how many attachments the default tenant has.
func (e *env) count() int {
	e.t.Helper()
	n := 0
	for _, err := range e.svc.All(context.Background(), &attachment.ListOptions{Limit: 1000}) {
		require.NoError(e.t, err)
		n++
	}
	return n
}

// requireNothingStored checks that no record and no content exist, and on
// S3 that no multipart upload was left pending (its parts are stored, if
// not as an object).
func (e *env) requireNothingStored() {
	e.t.Helper()
	require.Zero(e.t, e.count(), "records stored")
	require.Empty(e.t, e.keys(), "content stored")
	if e.s3 != nil {
		require.Empty(e.t, e.s3.PendingUploads(e.t), "multipart uploads left pending")
	}
}

// problem decodes a problem+json answer and checks status and code.
func requireProblem(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) attachment.Problem {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	require.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	var p attachment.Problem
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p), rec.Body.String())
	require.Equal(t, status, p.Status)
	require.Equal(t, code, p.Code)
	require.NotEmpty(t, p.Title)
	return p
}

// part is one part of a multipart body built by multipartBody.
type part struct {
	field, filename, contentType string
	content                      []byte
	header                       map[string]string
}

func multipartBody(t *testing.T, parts ...part) (body *bytes.Buffer, contentType string) {
	t.Helper()
	body = &bytes.Buffer{}
	mw := multipart.NewWriter(body)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		field := p.field
		if field == "" {
			field = "files"
		}
		if p.filename != "" {
			h.Set("Content-Disposition", `form-data; name="`+field+`"; filename="`+p.filename+`"`)
		} else {
			h.Set("Content-Disposition", `form-data; name="`+field+`"`)
		}
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		for k, v := range p.header {
			h.Set(k, v)
		}
		w, err := mw.CreatePart(h)
		require.NoError(t, err)
		_, err = w.Write(p.content)
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return body, mw.FormDataContentType()
}

// pngBytes makes a small PNG image.
func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
