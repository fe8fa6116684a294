package attachment_test

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDownloadHeaders(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			e := newEnv(t, be, nil)
			content := []byte("hello, plain text world\n")
			a := e.mustUpload("Rapport été.txt", content)

			rec := e.do("GET", a.URL, nil)
			require.Equal(t, http.StatusOK, rec.Code)
			h := rec.Header()
			assert.Equal(t, content, rec.Body.Bytes())
			assert.Equal(t, "text/plain; charset=utf-8", h.Get("Content-Type"))
			assert.Equal(t, fmt.Sprint(len(content)), h.Get("Content-Length"))
			assert.Equal(t, `"`+a.SHA256+`"`, h.Get("ETag"))
			assert.Equal(t, "bytes", h.Get("Accept-Ranges"))
			assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
			assert.Equal(t, "sandbox", h.Get("Content-Security-Policy"))
			assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
			assert.NotEmpty(t, h.Get("Last-Modified"))
			disp, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
			require.NoError(t, err)
			assert.Equal(t, "attachment", disp)
			assert.Equal(t, "Rapport été.txt", params["filename"], "filename* decodes to the UTF-8 name")
			assert.Contains(t, h.Get("Content-Disposition"), `filename="`, "an ASCII fallback is present")

			head := e.do("HEAD", a.URL, nil)
			require.Equal(t, http.StatusOK, head.Code)
			assert.Empty(t, head.Body.Bytes())
			assert.Equal(t, h.Get("ETag"), head.Header().Get("ETag"))
			assert.Equal(t, h.Get("Content-Length"), head.Header().Get("Content-Length"))

			requireProblem(t, e.do("GET", e.prefix+"/0193b1a2-0000-7000-8000-000000000000", nil), http.StatusNotFound, "not_found")
			assert.Equal(t, http.StatusNotFound, e.do("HEAD", e.prefix+"/0193b1a2-0000-7000-8000-000000000000", nil).Code)
			requireProblem(t, e.do("GET", e.prefix+"/not-an-id", nil), http.StatusNotFound, "not_found")
		})
	}
}

func TestDownloadRanges(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			e := newEnv(t, be, nil)
			content := make([]byte, 1000)
			for i := range content {
				content[i] = byte(i * 7)
			}
			a := e.mustUpload("data.bin", content)

			rec := e.do("GET", a.URL, nil, "Range", "bytes=10-19")
			require.Equal(t, http.StatusPartialContent, rec.Code)
			assert.Equal(t, content[10:20], rec.Body.Bytes())
			assert.Equal(t, "bytes 10-19/1000", rec.Header().Get("Content-Range"))

			rec = e.do("GET", a.URL, nil, "Range", "bytes=-5")
			require.Equal(t, http.StatusPartialContent, rec.Code)
			assert.Equal(t, content[995:], rec.Body.Bytes())

			// Several ranges: multipart/byteranges.
			rec = e.do("GET", a.URL, nil, "Range", "bytes=0-1,500-502")
			require.Equal(t, http.StatusPartialContent, rec.Code)
			mt, params, err := mime.ParseMediaType(rec.Header().Get("Content-Type"))
			require.NoError(t, err)
			require.Equal(t, "multipart/byteranges", mt)
			mr := multipart.NewReader(rec.Body, params["boundary"])
			var got [][]byte
			for {
				p, err := mr.NextPart()
				if err == io.EOF {
					break
				}
				require.NoError(t, err)
				b, _ := io.ReadAll(p)
				got = append(got, b)
			}
			assert.Equal(t, [][]byte{content[0:2], content[500:503]}, got)

			// Unsatisfiable: a problem, not ServeContent's plain text.
			p := requireProblem(t, e.do("GET", a.URL, nil, "Range", "bytes=5000-6000"), http.StatusRequestedRangeNotSatisfiable, "bad_request")
			assert.Contains(t, p.Detail, "range")

			// Conditional requests.
			etag := `"` + a.SHA256 + `"`
			assert.Equal(t, http.StatusNotModified, e.do("GET", a.URL, nil, "If-None-Match", etag).Code)
			assert.Equal(t, http.StatusOK, e.do("GET", a.URL, nil, "If-None-Match", `"other"`).Code)
			requireProblem(t, e.do("GET", a.URL, nil, "If-Match", `"other"`), http.StatusPreconditionFailed, "bad_request")
			lm := e.do("HEAD", a.URL, nil).Header().Get("Last-Modified")
			assert.Equal(t, http.StatusNotModified, e.do("GET", a.URL, nil, "If-Modified-Since", lm).Code)
			// If-Range with a stale validator: the whole content.
			rec = e.do("GET", a.URL, nil, "Range", "bytes=0-9", "If-Range", `"stale"`)
			assert.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, content, rec.Body.Bytes())
			rec = e.do("GET", a.URL, nil, "Range", "bytes=0-9", "If-Range", etag)
			assert.Equal(t, http.StatusPartialContent, rec.Code)
		})
	}
}

func TestDownloadDisposition(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	img := e.mustUpload("p.png", pngBytes(t, 4, 4))
	html := e.mustUpload("page.html", []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"), "Content-Type", "text/html")
	svg := e.mustUpload("i.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`))
	txt := e.mustUpload("t.txt", []byte("just text"))
	require.True(t, strings.HasPrefix(html.ContentType, "text/html"), html.ContentType)
	require.True(t, strings.HasPrefix(svg.ContentType, "image/svg+xml"), svg.ContentType)

	cases := []struct {
		url, want string
	}{
		{img.URL + "?disposition=inline", "inline"},
		{txt.URL + "?disposition=inline", "inline"},
		{img.URL, "attachment"},
		{img.URL + "?disposition=attachment", "attachment"},
		{html.URL + "?disposition=inline", "attachment"},
		{svg.URL + "?disposition=inline", "attachment"},
	}
	for _, tc := range cases {
		rec := e.do("GET", tc.url, nil)
		require.Equal(t, http.StatusOK, rec.Code, tc.url)
		disp, _, err := mime.ParseMediaType(rec.Header().Get("Content-Disposition"))
		require.NoError(t, err)
		assert.Equal(t, tc.want, disp, tc.url)
		assert.Equal(t, "sandbox", rec.Header().Get("Content-Security-Policy"), tc.url)
		assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), tc.url)
	}
	requireProblem(t, e.do("GET", img.URL+"?disposition=evil", nil), http.StatusBadRequest, "bad_request")
}

func TestDownloadLarge(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	content := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	a := e.mustUpload("big.bin", content)
	rec := e.do("GET", a.URL, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.True(t, bytes.Equal(content, rec.Body.Bytes()))
}

// Downloads over a real connection, where net/http sends file content
// with sendfile and copies the rest (mem, S3) through Read: Object's
// SyscallConn error is what tells it to.
func TestDownloadOverHTTP(t *testing.T) {
	content := make([]byte, 3<<20+3)
	for i := range content {
		content[i] = byte(i*13 + i>>10)
	}
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			e := newEnv(t, be, nil)
			a := e.mustUpload("big.bin", content)
			srv := httptest.NewServer(e.srv)
			defer srv.Close()
			get := func(method string, hdr ...string) (*http.Response, []byte) {
				t.Helper()
				req, err := http.NewRequest(method, srv.URL+a.URL, nil)
				require.NoError(t, err)
				for i := 0; i+1 < len(hdr); i += 2 {
					req.Header.Set(hdr[i], hdr[i+1])
				}
				resp, err := srv.Client().Do(req)
				require.NoError(t, err)
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				return resp, body
			}
			resp, body := get("GET")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, int64(len(content)), resp.ContentLength)
			assert.True(t, bytes.Equal(content, body), "the whole content")

			resp, body = get("GET", "Range", "bytes=1048576-2097151")
			require.Equal(t, http.StatusPartialContent, resp.StatusCode)
			assert.True(t, bytes.Equal(content[1<<20:2<<20], body), "a range")
			resp, body = get("GET", "Range", "bytes=-3")
			require.Equal(t, http.StatusPartialContent, resp.StatusCode)
			assert.Equal(t, content[len(content)-3:], body, "a suffix")

			resp, body = get("HEAD")
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, int64(len(content)), resp.ContentLength)
			assert.Empty(t, body)
		})
	}
}
