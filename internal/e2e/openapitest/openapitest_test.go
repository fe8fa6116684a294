package openapitest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/internal/e2e/openapitest"
)

// recorder is a testing.TB that keeps what the Validator reports.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.TB.Fatalf(format, args...)
}

func (r *recorder) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

const (
	id     = "019ab5e8-34a1-7c22-9f1e-2b7c9d5e4a10"
	record = `{"id":"` + id + `","filename":"a.txt","content_type":"text/plain; charset=utf-8","size":3,` +
		`"sha256":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad","state":"ready",` +
		`"url":"/files/` + id + `","created_at":"2026-11-23T14:00:00.123Z","updated_at":"2026-11-23T14:00:00.123Z"}`
	sha = `"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"`
)

// writeJSON answers like the Handler does.
func writeJSON(w http.ResponseWriter, status int, ct, body string) {
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "sandbox")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func problem(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, "application/problem+json",
		fmt.Sprintf(`{"type":"about:blank","title":%q,"status":%d,"detail":"x","code":%q}`, http.StatusText(status), status, code))
}

func download(w http.ResponseWriter) { downloadWith(w, nil) }

// downloadWith answers like a download, with the headers changed by f
// before they are written.
func downloadWith(w http.ResponseWriter, f func(http.Header)) {
	h := w.Header()
	h.Set("Content-Type", "text/plain")
	h.Set("Content-Length", "3")
	h.Set("ETag", sha)
	h.Set("Last-Modified", "Mon, 23 Nov 2026 14:00:00 GMT")
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Disposition", `attachment; filename="a.txt"`)
	h.Set("Cache-Control", "private, no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	h.Set("Referrer-Policy", "no-referrer")
	if f != nil {
		f(h)
	}
	w.WriteHeader(200)
	_, _ = io.WriteString(w, "abc")
}

// exchange sends one request through a Validator in front of h, mounted
// under /files, and returns what the Validator reported.
func exchange(t *testing.T, h http.HandlerFunc, method, path, contentType, body string) ([]string, *openapitest.Validator) {
	t.Helper()
	rec := &recorder{TB: t}
	v := openapitest.New(rec, h, "/files")
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	v.ServeHTTP(httptest.NewRecorder(), req)
	require.Equal(t, 1, v.Count())
	return rec.errors(), v
}

func TestValidatorAcceptsConformingExchanges(t *testing.T) {
	for _, c := range []struct {
		name, method, path, contentType, body string
		h                                     http.HandlerFunc
		key                                   string
	}{
		{"metadata", "GET", "/files/" + id + "/metadata", "", "",
			func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, "application/json", record) },
			"GET /{id}/metadata 200"},
		{"download", "GET", "/files/" + id, "", "", func(w http.ResponseWriter, r *http.Request) { download(w) }, "GET /{id} 200"},
		{"head download", "HEAD", "/files/" + id, "", "", func(w http.ResponseWriter, r *http.Request) { download(w) }, "HEAD /{id} 200"},
		{"problem", "GET", "/files/" + id + "/metadata", "", "",
			func(w http.ResponseWriter, r *http.Request) { problem(w, 404, "not_found") }, "GET /{id}/metadata 404"},
		{"refused invalid request", "GET", "/files/?limit=0", "", "",
			func(w http.ResponseWriter, r *http.Request) { problem(w, 400, "bad_request") }, "GET / 400"},
		{"multipart upload", "POST", "/files/", "multipart/form-data; boundary=XX",
			"--XX\r\nContent-Disposition: form-data; name=\"owner\"\r\n\r\ndoc:1\r\n" +
				"--XX\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nabc\r\n--XX--\r\n",
			func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				if !strings.Contains(string(b), "abc") {
					problem(w, 400, "bad_request") // the handler must get the body whole
					return
				}
				w.Header().Set("Location", "/files/"+id)
				writeJSON(w, 201, "application/json", `{"attachments":[`+record+`]}`)
			}, "POST / 201"},
		{"unknown path", "GET", "/files/" + id + "/nothing", "", "",
			func(w http.ResponseWriter, r *http.Request) { problem(w, 404, "not_found") }, "GET ? 404"},
		{"method not allowed", "POST", "/files/" + id, "", "",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Allow", "GET")
				problem(w, 405, "bad_request")
			}, "POST ? 405"},
	} {
		t.Run(c.name, func(t *testing.T) {
			errs, v := exchange(t, c.h, c.method, c.path, c.contentType, c.body)
			assert.Empty(t, errs)
			assert.Equal(t, map[string]int{c.key: 1}, v.Seen())
		})
	}
}

// TestValidatorCatchesDrift proves that the Validator reports answers and
// requests the document does not describe.
func TestValidatorCatchesDrift(t *testing.T) {
	for _, c := range []struct {
		name, method, path, contentType, body string
		h                                     http.HandlerFunc
		want                                  string
	}{
		{"missing field", "GET", "/files/" + id + "/metadata", "", "",
			func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, "application/json", strings.Replace(record, `"state":"ready",`, "", 1))
			}, `property "state" is missing`},
		{"unknown field", "GET", "/files/" + id + "/metadata", "", "",
			func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, "application/json", strings.Replace(record, `"state":"ready"`, `"state":"ready","tenant":"x"`, 1))
			}, `"tenant" is unsupported`},
		{"null field", "GET", "/files/" + id + "/metadata", "", "",
			func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, "application/json", strings.Replace(record, `"state":"ready"`, `"state":"ready","owner":null`, 1))
			}, `owner`},
		{"wrong content type", "GET", "/files/" + id + "/metadata", "", "",
			func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, "text/plain", record) }, `Content-Type "text/plain"`},
		{"undocumented status", "GET", "/files/" + id + "/metadata", "", "",
			func(w http.ResponseWriter, r *http.Request) { problem(w, 418, "bad_request") }, "status 418 is not documented"},
		{"unknown code", "GET", "/files/" + id + "/metadata", "", "",
			func(w http.ResponseWriter, r *http.Request) { problem(w, 404, "gone") }, "code"},
		{"code of another status", "GET", "/files/" + id + "/metadata", "", "",
			func(w http.ResponseWriter, r *http.Request) { problem(w, 404, "forbidden") }, "code"},
		{"missing header", "GET", "/files/" + id + "/metadata", "", "",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, record)
			}, `"Cache-Control" missing`},
		{"head missing header", "HEAD", "/files/" + id, "", "",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(200)
			}, "missing"},
		{"download without ETag", "GET", "/files/" + id, "", "",
			func(w http.ResponseWriter, r *http.Request) { downloadWith(w, func(h http.Header) { h.Del("ETag") }) }, `"ETag" missing`},
		{"download with a weak ETag", "GET", "/files/" + id, "", "",
			func(w http.ResponseWriter, r *http.Request) {
				downloadWith(w, func(h http.Header) { h.Set("ETag", `W/`+sha) })
			}, `"ETag"`},
		{"download as html inline", "GET", "/files/" + id, "", "",
			func(w http.ResponseWriter, r *http.Request) {
				downloadWith(w, func(h http.Header) { h.Del("Content-Security-Policy") })
			}, `"Content-Security-Policy" missing`},
		{"accepted invalid request", "GET", "/files/?limit=0", "", "",
			func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, "application/json", `{"data":[],"has_more":false}`)
			}, "the request does not match the document, yet the handler answered 200"},
		{"accepted malformed multipart", "POST", "/files/", "multipart/form-data; boundary=XX", "--YY\r\nnonsense",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", "/files/"+id)
				writeJSON(w, 201, "application/json", `{"attachments":[`+record+`]}`)
			}, "the request does not match the document"},
		{"accepted invalid JSON body", "POST", "/files/_status", "application/json", `{"attachments": "x"}`,
			func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, "application/json", `{}`) },
			"the request does not match the document"},
		{"accepted empty body", "POST", "/files/_status", "application/json", "",
			func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, "application/json", `{}`) },
			"the request does not match the document"},
		{"unknown path served", "GET", "/files/" + id + "/nothing", "", "",
			func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, "application/json", `{}`) }, "no such operation"},
		{"405 without Allow", "POST", "/files/" + id, "", "",
			func(w http.ResponseWriter, r *http.Request) { problem(w, 405, "bad_request") }, "Allow"},
		{"unrouted non-problem", "GET", "/files/" + id + "/nothing", "", "",
			func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, "application/problem+json"},
		{"outside the prefix", "GET", "/elsewhere/" + id, "", "",
			func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, "not under the prefix"},
	} {
		t.Run(c.name, func(t *testing.T) {
			errs, _ := exchange(t, c.h, c.method, c.path, c.contentType, c.body)
			require.NotEmpty(t, errs, "the Validator let it pass")
			assert.Contains(t, strings.Join(errs, "\n"), c.want)
		})
	}
}

// TestValidatorConcurrent serves concurrent requests through one
// Validator on a real server (run with -race).
func TestValidatorConcurrent(t *testing.T) {
	v := openapitest.New(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			download(w)
		default:
			writeJSON(w, 200, "application/json", record)
		}
	}), "/files")
	srv := httptest.NewServer(v)
	defer srv.Close()
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var req *http.Request
			if i%2 == 0 {
				req, _ = http.NewRequest("GET", srv.URL+"/files/"+id, nil)
			} else {
				req, _ = http.NewRequest("PATCH", srv.URL+"/files/"+id, strings.NewReader(`{"owner":"o"}`))
				req.Header.Set("Content-Type", "application/json")
			}
			res, err := srv.Client().Do(req)
			if assert.NoError(t, err) {
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, n, v.Count())
	assert.Equal(t, map[string]int{"GET /{id} 200": n / 2, "PATCH /{id} 200": n / 2}, v.Seen())
	assert.Zero(t, v.Rejected())
	assert.Contains(t, v.Unseen(), "DELETE /{id} 409")
}

func TestWrap(t *testing.T) {
	h := openapitest.Wrap(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { download(w) }), "")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/"+id, nil))
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "abc", rec.Body.String())
	assert.Equal(t, 1, h.(*openapitest.Validator).Count())
}
