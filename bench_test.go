package attachment_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
)

// BenchmarkUpload measures uploads through the handler into a file://
// bucket with in-memory records, raw and multipart, at several sizes.
func BenchmarkUpload(b *testing.B) {
	for _, size := range []int64{4 << 10, 1 << 20, 64 << 20} {
		for _, multi := range []bool{false, true} {
			form := "raw"
			if multi {
				form = "multipart"
			}
			b.Run(fmt.Sprintf("%s/%s", form, sizeName(size)), func(b *testing.B) {
				e := newEnv(b, backends()[0], &envOpts{svc: &attachment.Options{MaxFileSize: attachment.Off}})
				b.SetBytes(size)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					var body io.Reader = &genReader{n: uint64(size), state: uint64(i)}
					ct := "application/octet-stream"
					if multi {
						var head bytes.Buffer
						mw := multipart.NewWriter(&head)
						_, _ = mw.CreateFormFile("files", "f.bin")
						ct = mw.FormDataContentType()
						body = io.MultiReader(&head, body, bytes.NewReader([]byte("\r\n--"+mw.Boundary()+"--\r\n")))
					}
					req := httptest.NewRequest("POST", e.prefix+"/?filename=f.bin", body)
					req.Header.Set("Content-Type", ct)
					rec := httptest.NewRecorder()
					e.srv.ServeHTTP(rec, req)
					if rec.Code != http.StatusCreated {
						b.Fatal(rec.Code, rec.Body.String())
					}
				}
			})
		}
	}
}

// BenchmarkDownload measures downloads through the handler over a real
// loopback connection, so that file:// content goes out with sendfile.
func BenchmarkDownload(b *testing.B) {
	for _, size := range []int64{4 << 10, 1 << 20, 64 << 20} {
		b.Run(sizeName(size), func(b *testing.B) {
			e := newEnv(b, backends()[0], &envOpts{svc: &attachment.Options{MaxFileSize: attachment.Off}})
			rec := httptest.NewRecorder()
			e.srv.ServeHTTP(rec, httptest.NewRequest("POST", e.prefix+"/?filename=f.bin", &genReader{n: uint64(size), state: 1}))
			require.Equal(b, http.StatusCreated, rec.Code)
			url := rec.Header().Get("Location")
			srv := httptest.NewServer(e.srv)
			defer srv.Close()
			client := srv.Client()
			buf := make([]byte, 256<<10)
			b.SetBytes(size)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				resp, err := client.Get(srv.URL + url)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.CopyBuffer(io.Discard, resp.Body, buf)
				resp.Body.Close()
				if n != size {
					b.Fatal("short read", n)
				}
			}
		})
	}
}

func sizeName(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	default:
		return fmt.Sprintf("%dKiB", n>>10)
	}
}
