package attachment_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// BenchmarkUploadSmallParallel measures 4 KiB uploads through the
// Handler, raw and multipart (one file part), 16 at a time, each
// committing its record: on examples/server's
// defaults (a file:// bucket and a SQLite file), and on S3 + PostgreSQL
// (skipped without the servers, see .ci/services). It is what a busy
// host's small uploads cost without the client's network (bench/compare.sh
// measures them over loopback against tusd and direct S3 PUTs). It
// reports uploads/s; a -cpuprofile shows where an upload's time goes.
//
//	go test . -run '^$' -bench 'UploadSmallParallel/file' -benchtime 5000x -cpuprofile /tmp/small.prof
func BenchmarkUploadSmallParallel(b *testing.B) {
	for _, be := range []backend{backends()[1], backends()[3]} {
		for _, multipart := range []bool{false, true} {
			name := be.name + "/raw"
			if multipart {
				name = be.name + "/multipart"
			}
			b.Run(name, func(b *testing.B) { benchUploadSmallParallel(b, be, multipart) })
		}
	}
}

func benchUploadSmallParallel(b *testing.B, be backend, multipart bool) {
	e := newEnv(b, be, nil)
	body := bytes.Repeat([]byte("0123456789abcdef"), 256)
	var seq atomic.Int64
	b.SetParallelism(8) // 16 goroutines on 2 CPUs, as compare.sh's c=16
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		own := append([]byte(nil), body...)
		for pb.Next() {
			// A different file each time: the same bytes would not change
			// the cost, but keep every upload a real new file.
			n := seq.Add(1)
			own[0], own[1], own[2] = byte(n), byte(n>>8), byte(n>>16)
			var req *http.Request
			if multipart {
				req = multipartRequest(e.prefix+"/", "f.bin", own)
			} else {
				req = httptest.NewRequest("POST", e.prefix+"/?filename=f.bin", bytes.NewReader(own))
				req.Header.Set("Content-Type", "application/octet-stream")
			}
			rec := httptest.NewRecorder()
			e.srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				b.Error(rec.Code, rec.Body.String())
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "uploads/s")
}

// multipartRequest is a POST of a multipart/form-data body with one file
// part, name, holding content.
func multipartRequest(target, name string, content []byte) *http.Request {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fw, _ := w.CreateFormFile("file", name)
	_, _ = fw.Write(content)
	_ = w.Close()
	req := httptest.NewRequest("POST", target, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return req
}
