package efalia_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/compat/efalia"
	"github.com/attachkit/attachment/internal/compattest"
	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/storage"
)

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// TestCredentials: the three schemes let a request in; anything else is a
// 401 RestMessage with nothing stored.
func TestCredentials(t *testing.T) {
	eachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		target := efalia.BasePath + "/df?filename=a.pdf"
		for name, hdr := range map[string][]string{
			"Bearer":        {"Authorization", "Bearer " + compattest.Token},
			"X-API-KEY":     {"X-API-KEY", compattest.Token},
			"Basic":         {"Authorization", basic("anyone", compattest.Token)},
			"Basic no user": {"Authorization", basic("", compattest.Token)},
		} {
			t.Run(name, func(t *testing.T) {
				rec := env.Do(http.MethodPost, target, bytes.NewReader(compattest.PDF), hdr...)
				requireMetadata(t, rec)
			})
		}

		before := env.Snapshot()
		for name, hdr := range map[string][]string{
			"none":               nil,
			"wrong Bearer":       {"Authorization", "Bearer nope"},
			"wrong X-API-KEY":    {"X-API-KEY", "nope"},
			"token as user name": {"Authorization", basic(compattest.Token, "nope")},
			"malformed Basic":    {"Authorization", "Basic !!!"},
			"wrong scheme":       {"Authorization", "Token " + compattest.Token},
			"empty Bearer":       {"Authorization", "Bearer "},
		} {
			t.Run(name, func(t *testing.T) {
				rec := env.Do(http.MethodPost, target, bytes.NewReader(compattest.PDF), hdr...)
				requireMessage(t, rec, http.StatusUnauthorized)
				assert.Contains(t, rec.Header().Get("WWW-Authenticate"), "Basic")
				for _, path := range []string{"/x", "/x/inline", "/x/metadata", "/x/thumbnail"} {
					requireMessage(t, env.Do(http.MethodGet, efalia.BasePath+path, nil, hdr...), http.StatusUnauthorized)
				}
				requireMessage(t, env.Do(http.MethodDelete, efalia.BasePath+"/x", nil, hdr...), http.StatusUnauthorized)
			})
		}
		env.RequireNothingStored(before)
	})
}

// TestBadUploads: each refused with a RestMessage, and nothing stored.
func TestBadUploads(t *testing.T) {
	eachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, &compattest.Options{Service: &attachment.Options{MaxFileSize: 1000}})
		base := efalia.BasePath
		img := compattest.PNG(t, 4, 4)
		twoFiles, twoCT := compattest.Multipart(t,
			compattest.Part{Field: "file", Filename: "a.png", Content: img},
			compattest.Part{Field: "file", Filename: "b.png", Content: img})
		noFile, noFileCT := compattest.Multipart(t, compattest.Part{Field: "other", Content: []byte("x")})
		wrongField, wrongFieldCT := compattest.Multipart(t, compattest.Part{Field: "files", Filename: "a.png", Content: img})
		big, bigCT := compattest.Multipart(t, compattest.Part{Field: "file", Filename: "big.bin", Content: make([]byte, 5000)})
		cases := []struct {
			name, target string
			body         []byte
			hdr          []string
			status       int
			msg          string
		}{
			{"no documentField", base + "/?filename=a.pdf", compattest.PDF, nil, http.StatusNotFound, "documentField"},
			{"no documentField, no slash", base + "?filename=a.pdf", compattest.PDF, nil, http.StatusNotFound, "documentField"},
			{"no name", base + "/df", compattest.PDF, []string{"Content-Type", "application/pdf"}, http.StatusBadRequest, "filename"},
			{"a name that cleans to nothing", base + "/df?filename=%2F", compattest.PDF, nil, http.StatusBadRequest, "filename"},
			{"malformed Content-Disposition", base + "/df", compattest.PDF, []string{"Content-Disposition", `attachment; filename="a`}, http.StatusBadRequest, "Content-Disposition"},
			{"oversize raw", base + "/df?filename=big.bin", make([]byte, 5000), nil, http.StatusRequestEntityTooLarge, ""},
			{"oversize multipart", base + "/df", big.Bytes(), []string{"Content-Type", bigCT}, http.StatusRequestEntityTooLarge, ""},
			{"two files", base + "/df", twoFiles.Bytes(), []string{"Content-Type", twoCT}, http.StatusBadRequest, "one file"},
			{"no file part", base + "/df", noFile.Bytes(), []string{"Content-Type", noFileCT}, http.StatusBadRequest, "no file"},
			{"the file in another field", base + "/df", wrongField.Bytes(), []string{"Content-Type", wrongFieldCT}, http.StatusBadRequest, "no file"},
			{"malformed multipart", base + "/df", []byte("--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nabc"),
				[]string{"Content-Type", "multipart/form-data; boundary=xyz"}, http.StatusBadRequest, ""},
			{"multipart without a boundary", base + "/df", []byte("x"), []string{"Content-Type", "multipart/form-data"}, http.StatusBadRequest, "boundary"},
			{"wrong method on the upload route", base + "/df?filename=a.pdf", compattest.PDF, nil, http.StatusMethodNotAllowed, "PUT"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := env.Snapshot()
				method := http.MethodPost
				if strings.HasPrefix(tc.name, "wrong method") {
					method = http.MethodPut
				}
				rec := env.Do(method, tc.target, bytes.NewReader(tc.body), with(tc.hdr...)...)
				m := requireMessage(t, rec, tc.status)
				assert.Contains(t, m["message"], tc.msg)
				env.RequireNothingStored(before)
			})
		}
	})
}

// TestBadRoutes: unknown routes and IDs, wrong methods, all as
// RestMessages; HEAD gets the status alone.
func TestBadRoutes(t *testing.T) {
	eachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		id := upload(t, env, "a.pdf", compattest.PDF)["id"].(string)
		b := efalia.BasePath
		cases := []struct {
			method, path string
			status       int
			allow        string
		}{
			{http.MethodGet, "", http.StatusNotFound, ""},
			{http.MethodGet, "/", http.StatusNotFound, ""},
			{http.MethodGet, "/" + id + "/nope", http.StatusNotFound, ""},
			{http.MethodGet, "/" + id + "/metadata/x", http.StatusNotFound, ""},
			{http.MethodGet, "/" + id + "/", http.StatusNotFound, ""},
			{http.MethodGet, "/0190b2d4-0000-7000-8000-000000000000", http.StatusNotFound, ""},
			{http.MethodGet, "/0190b2d400007000800000000000000g", http.StatusNotFound, ""},
			{http.MethodGet, "/unknown/inline", http.StatusNotFound, ""},
			{http.MethodDelete, "/unknown", http.StatusNotFound, ""},
			{http.MethodPut, "/" + id, http.StatusMethodNotAllowed, "GET, HEAD, POST, DELETE"},
			{http.MethodPatch, "/" + id, http.StatusMethodNotAllowed, "GET, HEAD, POST, DELETE"},
			{http.MethodPost, "/" + id + "/metadata", http.StatusMethodNotAllowed, "GET, HEAD"},
			{http.MethodDelete, "/" + id + "/inline", http.StatusMethodNotAllowed, "GET, HEAD"},
			{http.MethodPut, "/" + id + "/thumbnail", http.StatusMethodNotAllowed, "GET, HEAD"},
		}
		for _, tc := range cases {
			t.Run(tc.method+" "+tc.path, func(t *testing.T) {
				before := env.Snapshot()
				rec := env.Do(tc.method, b+tc.path, nil, bearer...)
				requireMessage(t, rec, tc.status)
				assert.Equal(t, tc.allow, rec.Header().Get("Allow"))
				env.RequireNothingStored(before)
			})
		}
		rec := env.Do(http.MethodHead, b+"/unknown", nil, bearer...)
		assert.Equal(t, http.StatusNotFound, rec.Code)
		assert.Empty(t, rec.Body.Bytes())

		// A range past the end: the native 416, as a RestMessage.
		rec = env.Do(http.MethodGet, b+"/"+id, nil, with("Range", "bytes=100000-")...)
		requireMessage(t, rec, http.StatusRequestedRangeNotSatisfiable)
	})
}

// faultyStore is a metadata store whose calls fail with err when it is
// set.
type faultyStore struct {
	metadata.Store
	err error
}

func (f *faultyStore) Create(ctx context.Context, recs []*metadata.Record) error {
	if f.err != nil {
		return f.err
	}
	return f.Store.Create(ctx, recs)
}

func (f *faultyStore) Get(ctx context.Context, tenant, id string) (*metadata.Record, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.Store.Get(ctx, tenant, id)
}

// TestServerErrors: an unexpected error is 555 (the document's
// WorkeyError) with its cause kept out of the answer; an outage keeps 503
// and its Retry-After.
func TestServerErrors(t *testing.T) {
	eachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, nil)
		id := upload(t, env, "a.pdf", compattest.PDF)["id"].(string)
		meta := &faultyStore{Store: env.Meta}
		svc, err := attachment.New(storage.New(env.Bucket), meta, &attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true}})
		require.NoError(t, err)
		t.Cleanup(func() { svc.Close() })
		native := attachment.NewHandler(svc, &attachment.HandlerOptions{Access: compattest.TokenAccess(efalia.Token)})
		h := efalia.New(native, &efalia.Options{Prefix: efalia.BasePath})
		do := func(method, path string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(method, efalia.BasePath+path, bytes.NewReader(compattest.PDF))
			req.Header.Set("X-API-KEY", compattest.Token)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		}
		meta.err = errors.New("the database is on fire")
		before := env.Snapshot()
		for _, req := range [][2]string{
			{http.MethodPost, "/df?filename=a.pdf"}, {http.MethodGet, "/" + id}, {http.MethodGet, "/" + id + "/inline"},
			{http.MethodGet, "/" + id + "/metadata"}, {http.MethodGet, "/" + id + "/thumbnail"}, {http.MethodDelete, "/" + id},
		} {
			rec := do(req[0], req[1])
			m := requireMessage(t, rec, efalia.StatusUnexpected)
			assert.NotContains(t, m["message"], "fire", "the cause stays in the log")
		}
		env.RequireNothingStored(before)

		meta.err = fmt.Errorf("connection refused: %w", metadata.ErrUnavailable)
		for _, path := range []string{"/" + id, "/" + id + "/metadata"} {
			rec := do(http.MethodGet, path)
			requireMessage(t, rec, http.StatusServiceUnavailable)
			assert.NotEmpty(t, rec.Header().Get("Retry-After"))
		}

		meta.err = nil
		requireMetadata(t, do(http.MethodGet, "/"+id+"/metadata"))
	})
}

// TestStatus: only 500 changes.
func TestStatus(t *testing.T) {
	assert.Equal(t, 555, efalia.Status(http.StatusInternalServerError))
	for _, s := range []int{200, 204, 400, 401, 403, 404, 405, 409, 413, 415, 416, 503, 507} {
		assert.Equal(t, s, efalia.Status(s))
	}
}

// TestForbidden: the access hook's refusal of an operation is a 403
// RestMessage, asked about the record as it will be stored.
func TestForbidden(t *testing.T) {
	eachBackend(t, func(t *testing.T, be compattest.Backend) {
		var asked []attachment.Operation
		env := newEnv(t, be, &compattest.Options{Handler: &attachment.HandlerOptions{
			Access: attachment.AccessFuncs{
				IdentifyFunc: func(r *http.Request) (attachment.Caller, error) { return attachment.Caller{Name: "ann"}, nil },
				AllowFunc: func(r *http.Request, c attachment.Caller, op attachment.Operation, a *attachment.Attachment) error {
					asked = append(asked, op)
					if a != nil && strings.HasPrefix(a.Filename, "secret") {
						return attachment.ErrForbidden
					}
					return nil
				},
			},
		}})
		before := env.Snapshot()
		rec := env.Do(http.MethodPost, efalia.BasePath+"/df?filename=secret.pdf", bytes.NewReader(compattest.PDF))
		requireMessage(t, rec, http.StatusForbidden)
		env.RequireNothingStored(before)
		require.Contains(t, asked, attachment.OpUpload)

		m := requireMetadata(t, env.Do(http.MethodPost, efalia.BasePath+"/df?filename=open.pdf", bytes.NewReader(compattest.PDF)))
		assert.Equal(t, "ann", m["actor"].(map[string]any)["name"])
	})
}

// TestAnonymousActor: an upload by a caller the hook names nobody has a
// null actor.
func TestAnonymousActor(t *testing.T) {
	eachBackend(t, func(t *testing.T, be compattest.Backend) {
		env := newEnv(t, be, &compattest.Options{Handler: &attachment.HandlerOptions{Access: attachment.AccessFuncs{}}})
		m := requireMetadata(t, env.Do(http.MethodPost, efalia.BasePath+"/df?filename=a.pdf", bytes.NewReader(compattest.PDF)))
		assert.Contains(t, m, "actor")
		assert.Nil(t, m["actor"])
	})
}
