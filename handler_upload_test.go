package attachment_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
)

func TestUploadRaw(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			for _, strip := range []bool{false, true} {
				e := newEnv(t, be, &envOpts{strip: strip})
				img := pngBytes(t, 40, 30)
				// The client's claim of text/plain loses to the detected type.
				rec := e.uploadRaw("photo.png", img, "Content-Type", "text/plain")
				require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
				var res struct{ Attachments []attachment.Attachment }
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &res))
				require.Len(t, res.Attachments, 1)
				a := res.Attachments[0]
				sum := sha256.Sum256(img)
				assert.Equal(t, "photo.png", a.Filename)
				assert.Equal(t, "image/png", a.ContentType)
				assert.Equal(t, int64(len(img)), a.Size)
				assert.Equal(t, hex.EncodeToString(sum[:]), a.SHA256)
				assert.Equal(t, "ready", a.State)
				assert.Equal(t, e.prefix+"/"+a.ID, a.URL, "URL includes the mount prefix (strip=%v)", strip)
				assert.Equal(t, a.URL, rec.Header().Get("Location"))
				assert.False(t, a.CreatedAt.IsZero())

				get := e.do("GET", a.URL, nil)
				require.Equal(t, http.StatusOK, get.Code)
				assert.Equal(t, img, get.Body.Bytes())
			}
		})
	}
}

func TestUploadRawFilenameSources(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	// Content-Disposition, filename* preferred over filename.
	rec := e.do("POST", e.prefix+"/", strings.NewReader("hello"),
		"Content-Disposition", `attachment; filename="fallback.txt"; filename*=UTF-8''%C3%A9t%C3%A9.txt`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), `"filename":"été.txt"`)

	// Path components are dropped.
	a := e.mustUpload("../../etc/passwd", []byte("x"))
	assert.Equal(t, "passwd", a.Filename)
	a = e.mustUpload(`C:\Users\x\a.txt`, []byte("x"))
	assert.Equal(t, "a.txt", a.Filename)

	before := e.count()
	// No name at all.
	requireProblem(t, e.do("POST", e.prefix+"/", strings.NewReader("x")), http.StatusBadRequest, "invalid_filename")
	// A name that cleans to nothing.
	requireProblem(t, e.uploadRaw("../..", []byte("x")), http.StatusBadRequest, "invalid_filename")
	requireProblem(t, e.uploadRaw("\x00\x01", []byte("x")), http.StatusBadRequest, "invalid_filename")
	assert.Equal(t, before, e.count())
}

func TestUploadOwnerAndLabelsFromQuery(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	rec := e.do("POST", e.prefix+"/?filename=a.txt&owner=doc:1&label.workspace=w1&label.kind=note", strings.NewReader("hi"))
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	var res struct{ Attachments []attachment.Attachment }
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &res))
	a := res.Attachments[0]
	assert.Equal(t, "doc:1", a.Owner)
	assert.Equal(t, map[string]string{"workspace": "w1", "kind": "note"}, a.Labels)
	assert.Equal(t, "text/plain; charset=utf-8", a.ContentType)
}

func TestUploadMultipart(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			e := newEnv(t, be, nil)
			img := pngBytes(t, 8, 8)
			body, ct := multipartBody(t,
				part{field: "owner", content: []byte("chat:9")},
				part{field: "label.workspace", content: []byte("660e")},
				part{filename: "one.png", contentType: "image/png", content: img},
				part{filename: "two.txt", content: []byte("second file")},
			)
			rec := e.do("POST", e.prefix+"/", body, "Content-Type", ct)
			require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
			var res struct{ Attachments []attachment.Attachment }
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &res))
			require.Len(t, res.Attachments, 2)
			assert.Equal(t, "one.png", res.Attachments[0].Filename)
			assert.Equal(t, "two.txt", res.Attachments[1].Filename)
			assert.Equal(t, res.Attachments[0].URL, rec.Header().Get("Location"))
			for i, want := range [][]byte{img, []byte("second file")} {
				a := res.Attachments[i]
				assert.Equal(t, "chat:9", a.Owner)
				assert.Equal(t, map[string]string{"workspace": "660e"}, a.Labels)
				get := e.do("GET", a.URL, nil)
				require.Equal(t, http.StatusOK, get.Code)
				assert.Equal(t, want, get.Body.Bytes())
			}
		})
	}
}

func TestUploadAllOrNothing(t *testing.T) {
	big := bytes.Repeat([]byte("z"), 2000)
	cases := []struct {
		name   string
		opts   *attachment.Options
		parts  []part
		status int
		code   string
	}{
		{"second file too large", &attachment.Options{MaxFileSize: 1000},
			[]part{{filename: "a.txt", content: []byte("ok")}, {filename: "b.txt", content: big}},
			http.StatusRequestEntityTooLarge, "too_large"},
		{"field after file", nil,
			[]part{{filename: "a.txt", content: []byte("ok")}, {field: "owner", content: []byte("x")}},
			http.StatusBadRequest, "bad_request"},
		{"too many files", &attachment.Options{MaxFiles: 2},
			[]part{{filename: "a.txt", content: []byte("1")}, {filename: "b.txt", content: []byte("2")}, {filename: "c.txt", content: []byte("3")}},
			http.StatusBadRequest, "too_many_files"},
		{"unsupported type", &attachment.Options{AllowedTypes: []string{"image/*"}},
			[]part{{filename: "a.png", content: pngBytes(t, 2, 2)}, {filename: "b.txt", content: []byte("text")}},
			http.StatusUnsupportedMediaType, "unsupported_type"},
		{"bad name second", nil,
			[]part{{filename: "a.txt", content: []byte("1")}, {filename: "..", content: []byte("2")}},
			http.StatusBadRequest, "invalid_filename"},
		{"checksum mismatch second", nil,
			[]part{{filename: "a.txt", content: []byte("1")}, {filename: "b.txt", content: []byte("2"),
				header: map[string]string{"Content-Digest": "sha-256=:" + b64sha256([]byte("not 2")) + ":"}}},
			http.StatusBadRequest, "checksum_mismatch"},
		{"no files", nil, []part{{field: "owner", content: []byte("x")}}, http.StatusBadRequest, "bad_request"},
		{"owner too long", nil,
			[]part{{field: "owner", content: bytes.Repeat([]byte("o"), 5000)}, {filename: "a.txt", content: []byte("1")}},
			http.StatusBadRequest, "bad_request"},
	}
	for _, be := range backends() {
		for _, tc := range cases {
			t.Run(be.name+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t, be, &envOpts{svc: tc.opts})
				body, ct := multipartBody(t, tc.parts...)
				rec := e.do("POST", e.prefix+"/", body, "Content-Type", ct)
				requireProblem(t, rec, tc.status, tc.code)
				e.requireNothingStored()
			})
		}
	}
}

func TestUploadMalformedMultipart(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	body, ct := multipartBody(t, part{filename: "a.txt", content: bytes.Repeat([]byte("a"), 10000)})
	truncated := body.Bytes()[:body.Len()-100]
	requireProblem(t, e.do("POST", e.prefix+"/", bytes.NewReader(truncated), "Content-Type", ct), http.StatusBadRequest, "bad_request")
	requireProblem(t, e.do("POST", e.prefix+"/", strings.NewReader("garbage"), "Content-Type", "multipart/form-data"), http.StatusBadRequest, "bad_request")
	requireProblem(t, e.do("POST", e.prefix+"/", strings.NewReader("garbage"), "Content-Type", ct), http.StatusBadRequest, "bad_request")
	e.requireNothingStored()
}

func TestUploadTooManyParts(t *testing.T) {
	e := newEnv(t, backends()[0], &envOpts{handler: &attachment.HandlerOptions{MaxParts: 5}})
	var parts []part
	for i := 0; i < 6; i++ {
		parts = append(parts, part{field: "x", content: []byte("1")})
	}
	body, ct := multipartBody(t, parts...)
	requireProblem(t, e.do("POST", e.prefix+"/", body, "Content-Type", ct), http.StatusBadRequest, "bad_request")
	e.requireNothingStored()
}

func b64sha256(b []byte) string {
	s := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(s[:])
}

func TestUploadDigests(t *testing.T) {
	content := []byte("digest me")
	m := md5.Sum(content)
	goodMD5 := base64.StdEncoding.EncodeToString(m[:])
	cases := []struct {
		name   string
		hdr    []string
		status int
		code   string
	}{
		{"sha-256 ok", []string{"Content-Digest", "sha-256=:" + b64sha256(content) + ":"}, http.StatusCreated, ""},
		{"sha-256 among others", []string{"Content-Digest", "sha-512=:AAAA:, sha-256=:" + b64sha256(content) + ":"}, http.StatusCreated, ""},
		{"md5 ok", []string{"Content-MD5", goodMD5}, http.StatusCreated, ""},
		{"sha-256 mismatch", []string{"Content-Digest", "sha-256=:" + b64sha256([]byte("other")) + ":"}, http.StatusBadRequest, "checksum_mismatch"},
		{"md5 mismatch", []string{"Content-MD5", base64.StdEncoding.EncodeToString(make([]byte, 16))}, http.StatusBadRequest, "checksum_mismatch"},
		{"malformed digest", []string{"Content-Digest", "sha-256=nope"}, http.StatusBadRequest, "bad_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, backends()[0], nil)
			rec := e.uploadRaw("d.txt", content, tc.hdr...)
			if tc.status == http.StatusCreated {
				require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
				return
			}
			requireProblem(t, rec, tc.status, tc.code)
			e.requireNothingStored()
		})
	}
}

// A Content-Digest or Content-MD5 on several field lines is read whole, in a
// raw upload's request header and in a multipart part's header: a sha-256 on
// the second line is checked like one on the first.
func TestUploadDigestFieldLines(t *testing.T) {
	content := []byte("digest me")
	m := md5.Sum(content)
	goodMD5 := base64.StdEncoding.EncodeToString(m[:])
	good := "sha-256=:" + b64sha256(content) + ":"
	bad := "sha-256=:" + b64sha256([]byte("other")) + ":"
	cases := []struct {
		name   string
		hdr    [][2]string // field lines, in order
		status int
		code   string
	}{
		{"bad sha-256 on the second line", [][2]string{{"Content-Digest", "sha-512=:AAAA:"}, {"Content-Digest", bad}}, http.StatusBadRequest, "checksum_mismatch"},
		{"good sha-256 on the second line", [][2]string{{"Content-Digest", "sha-512=:AAAA:"}, {"Content-Digest", good}}, http.StatusCreated, ""},
		{"bad sha-256 after a good one", [][2]string{{"Content-Digest", good}, {"Content-Digest", bad}}, http.StatusBadRequest, "checksum_mismatch"},
		{"malformed second line", [][2]string{{"Content-Digest", good}, {"Content-Digest", "sha-256=nope"}}, http.StatusBadRequest, "bad_request"},
		{"content-md5 twice", [][2]string{{"Content-MD5", goodMD5}, {"Content-MD5", base64.StdEncoding.EncodeToString(make([]byte, 16))}}, http.StatusBadRequest, "bad_request"},
	}
	for _, tc := range cases {
		t.Run("raw/"+tc.name, func(t *testing.T) {
			e := newEnv(t, backends()[0], nil)
			req := httptest.NewRequest("POST", e.prefix+"/?filename=d.txt", bytes.NewReader(content))
			for _, l := range tc.hdr {
				req.Header.Add(l[0], l[1])
			}
			rec := httptest.NewRecorder()
			e.srv.ServeHTTP(rec, req)
			if tc.status == http.StatusCreated {
				require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
				return
			}
			requireProblem(t, rec, tc.status, tc.code)
			e.requireNothingStored()
		})
		t.Run("multipart/"+tc.name, func(t *testing.T) {
			e := newEnv(t, backends()[0], nil)
			var body strings.Builder
			body.WriteString("--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"d.txt\"\r\n")
			for _, l := range tc.hdr {
				body.WriteString(l[0] + ": " + l[1] + "\r\n")
			}
			body.WriteString("\r\n" + string(content) + "\r\n--b--\r\n")
			rec := e.do("POST", e.prefix+"/", strings.NewReader(body.String()), "Content-Type", "multipart/form-data; boundary=b")
			if tc.status == http.StatusCreated {
				require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
				return
			}
			requireProblem(t, rec, tc.status, tc.code)
			e.requireNothingStored()
		})
	}
}

func TestUploadRawTooLarge(t *testing.T) {
	e := newEnv(t, backends()[0], &envOpts{svc: &attachment.Options{MaxFileSize: 100}})
	// Known length over the limit: refused before reading.
	requireProblem(t, e.uploadRaw("big.bin", make([]byte, 101)), http.StatusRequestEntityTooLarge, "too_large")
	// Unknown length (chunked): refused while streaming.
	req, _ := http.NewRequest("POST", e.prefix+"/?filename=big.bin", io.MultiReader(bytes.NewReader(make([]byte, 150))))
	req.ContentLength = -1
	rec := newRecorder()
	e.srv.ServeHTTP(rec, req)
	requireProblem(t, rec, http.StatusRequestEntityTooLarge, "too_large")
	e.requireNothingStored()
	// Exactly at the limit is fine.
	e.mustUpload("ok.bin", make([]byte, 100))
}

func TestUploadClientDisconnect(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	req, _ := http.NewRequest("POST", e.prefix+"/?filename=cut.bin", io.MultiReader(bytes.NewReader(make([]byte, 600<<10)), errReader{io.ErrUnexpectedEOF}))
	rec := newRecorder()
	e.srv.ServeHTTP(rec, req)
	requireProblem(t, rec, http.StatusBadRequest, "bad_request")
	e.requireNothingStored()
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestUploadMultipartFilenameEncodings(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	body := "--b\r\nContent-Disposition: form-data; name=\"f\"; filename*=ISO-8859-1''caf%E9.txt\r\n\r\nlatin\r\n" +
		"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"..\\\\..\\\\evil.txt\"\r\n\r\nwin\r\n--b--\r\n"
	rec := e.do("POST", e.prefix+"/", strings.NewReader(body), "Content-Type", "multipart/form-data; boundary=b")
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	var res struct{ Attachments []attachment.Attachment }
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &res))
	require.Len(t, res.Attachments, 2)
	assert.Equal(t, "café.txt", res.Attachments[0].Filename)
	assert.Equal(t, "evil.txt", res.Attachments[1].Filename)
}

// Uploads past s3blob's multipart threshold (16 MiB) that fail leave
// nothing behind on any backend: on S3, neither an object nor the parts of
// a multipart upload.
func TestUploadLargeFailuresLeaveNothing(t *testing.T) {
	const size = 20 << 20
	content := func() io.Reader { return &genReader{n: size, state: 1} }
	cases := []struct {
		name   string
		opts   *attachment.Options
		body   func() io.Reader
		hdr    []string
		status int
		code   string
	}{
		{"checksum mismatch", nil, content,
			[]string{"Content-Digest", "sha-256=:" + b64sha256([]byte("other")) + ":"},
			http.StatusBadRequest, "checksum_mismatch"},
		{"client cut off", nil,
			func() io.Reader { return io.MultiReader(content(), errReader{io.ErrUnexpectedEOF}) },
			nil, http.StatusBadRequest, "bad_request"},
		{"too large while streaming", &attachment.Options{MaxFileSize: size - 1}, content,
			nil, http.StatusRequestEntityTooLarge, "too_large"},
	}
	for _, be := range backends() {
		for _, tc := range cases {
			t.Run(be.name+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t, be, &envOpts{svc: tc.opts})
				req := httptest.NewRequest("POST", e.prefix+"/?filename=big.bin", tc.body())
				req.ContentLength = -1 // streamed, length unknown
				for i := 0; i+1 < len(tc.hdr); i += 2 {
					req.Header.Set(tc.hdr[i], tc.hdr[i+1])
				}
				rec := httptest.NewRecorder()
				e.srv.ServeHTTP(rec, req)
				requireProblem(t, rec, tc.status, tc.code)
				e.requireNothingStored()

				// The same upload, whole and unchecked, is stored.
				if tc.opts == nil {
					rec := e.do("POST", e.prefix+"/?filename=big.bin", content())
					require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
					assert.Len(t, e.keys(), 1)
				}
			})
		}
	}
}

// An empty file is a file: stored, listed, downloaded, deleted.
func TestUploadEmptyFile(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			e := newEnv(t, be, nil)
			a := e.mustUpload("empty.txt", nil)
			sum := sha256.Sum256(nil)
			assert.Equal(t, int64(0), a.Size)
			assert.Equal(t, hex.EncodeToString(sum[:]), a.SHA256)
			assert.Len(t, e.keys(), 1)

			rec := e.do("GET", a.URL, nil)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, "0", rec.Header().Get("Content-Length"))
			assert.Empty(t, rec.Body.Bytes())

			require.Equal(t, http.StatusOK, e.do("DELETE", a.URL, nil).Code)
			e.requireNothingStored()
		})
	}
}
