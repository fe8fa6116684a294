package attachment_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/metadata/sqlitestore"
	"github.com/attachkit/attachment/storage"
)

// BenchmarkDownloadVsServeFile measures concurrent downloads (32 clients
// at once on keep-alive connections, as the loopback harness runs them)
// of one attachment through the Handler, mounted under a prefix on a
// file:// bucket and a SQLite file as examples/server opens them by
// default, over a real loopback http.Server; and, in the same run, of the
// same file through http.ServeFile; and of the same content through a
// Handler whose records are in memory (memstore), which shows what the
// record read from SQLite costs. The figure to watch is the ratio of
// handler to servefile in one run: of their ns/op, or, on a busy machine,
// of their cpu-ns/op.
//
//	go test -run '^$' -bench DownloadVsServeFile -benchmem -count 3 .
func BenchmarkDownloadVsServeFile(b *testing.B) {
	for _, size := range []int64{4 << 10, 16 << 20} {
		b.Run(sizeName(size), func(b *testing.B) {
			ctx := context.Background()
			dir := b.TempDir()
			cs, err := storage.Open(ctx, "file://"+filepath.Join(dir, "blobs")+"?create_dir=1&no_tmp_dir=1&metadata=skip")
			require.NoError(b, err)
			defer cs.Close()
			meta, err := sqlitestore.Open(ctx, filepath.Join(dir, "meta.db"), nil)
			require.NoError(b, err)
			defer meta.Close()
			svc, err := attachment.New(cs, meta, &attachment.Options{MaxFileSize: attachment.Off})
			require.NoError(b, err)
			defer svc.Close()
			const prefix = "/api/files"
			mux := http.NewServeMux()
			mux.Handle(prefix+"/", attachment.NewHandler(svc, &attachment.HandlerOptions{Prefix: prefix}))

			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest("POST", prefix+"/?filename=f.bin", &genReader{n: uint64(size), state: 1}))
			require.Equal(b, http.StatusCreated, rec.Code, rec.Body.String())
			loc := rec.Header().Get("Location")
			id := loc[strings.LastIndexByte(loc, '/')+1:]
			path := filepath.Join(dir, "blobs", filepath.FromSlash(storage.ContentKey(id)))
			mux.HandleFunc("/servefile", func(w http.ResponseWriter, r *http.Request) {
				http.ServeFile(w, r, path)
			})
			// The same content with its record in memory: what the
			// record read from SQLite costs is the difference.
			memSvc, err := attachment.New(cs, memstore.New(), &attachment.Options{MaxFileSize: attachment.Off})
			require.NoError(b, err)
			defer memSvc.Close()
			const memPrefix = "/mem/files"
			mux.Handle(memPrefix+"/", attachment.NewHandler(memSvc, &attachment.HandlerOptions{Prefix: memPrefix}))
			rec = httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest("POST", memPrefix+"/?filename=f.bin", &genReader{n: uint64(size), state: 1}))
			require.Equal(b, http.StatusCreated, rec.Code, rec.Body.String())
			memLoc := rec.Header().Get("Location")

			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(b, err)
			srv := &http.Server{Handler: mux}
			go func() { _ = srv.Serve(ln) }()
			defer srv.Close()
			base := "http://" + ln.Addr().String()
			for _, target := range []struct{ name, url string }{
				{"handler", base + loc},
				{"servefile", base + "/servefile"},
				{"handler-memstore", base + memLoc},
			} {
				b.Run(target.name, func(b *testing.B) {
					tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
					defer tr.CloseIdleConnections()
					client := &http.Client{Transport: tr}
					var failed atomic.Value
					b.SetBytes(size)
					b.ReportAllocs()
					b.SetParallelism(32 / runtime.GOMAXPROCS(0))
					b.ResetTimer()
					cpu0 := cpuTime(b)
					b.RunParallel(func(pb *testing.PB) {
						buf := make([]byte, 256<<10)
						for pb.Next() {
							resp, err := client.Get(target.url)
							if err != nil {
								failed.Store(err.Error())
								return
							}
							n, _ := io.CopyBuffer(io.Discard, resp.Body, buf)
							resp.Body.Close()
							if resp.StatusCode != http.StatusOK || n != size {
								failed.Store(resp.Status)
								return
							}
						}
					})
					// The process's CPU time per download, client and
					// server: a figure the load of other processes on the
					// machine moves less than ns/op.
					b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
					if v := failed.Load(); v != nil {
						b.Fatal(v)
					}
				})
			}
		})
	}
}
