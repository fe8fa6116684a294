package attachment_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/resumable"
)

var resumableSizes = flag.String("resumable.sizes", "64MiB,1GiB",
	"comma-separated upload sizes (KiB, MiB or GiB) for BenchmarkResumableUpload")

var resumableChunk = flag.String("resumable.chunk", "8MiB",
	"bytes per PATCH in BenchmarkResumableUpload (8 MiB: the Go client's and the demo page's default)")

// BenchmarkResumableUpload compares, on file+SQLite in a real temporary
// directory and over a loopback HTTP connection, one upload of N bytes in
// a single raw POST through the native handler with the same N bytes
// through tus: a creation, then N/8MiB PATCHes. Each iteration runs both,
// in alternating order, each after a sync and with the other deleted;
// both commit a record. It reports
// each one's MB/s, their ratio (tus/raw), and for each the CPU time the
// process used (client included), the bytes it allocated during the upload
// (B/op of that upload alone) and its peak RSS (VmHWM, reset before each
// upload), which must not grow with N. For tus it also reports, per PATCH
// (see patchGaps), the server's time before and after the body, the body's
// read, the whole handler and the client's round trip. Server requests
// carry the pprof label upload=raw or upload=tus (see labelUploads).
// Repeat with:
//
//	go test . -run '^$' -bench BenchmarkResumableUpload -benchtime 3x -resumable.sizes 64MiB,1GiB
func BenchmarkResumableUpload(b *testing.B) {
	for _, f := range strings.Split(*resumableSizes, ",") {
		size := parseBenchSize(b, f)
		chunk := parseBenchSize(b, *resumableChunk)
		b.Run("size="+sizeName(size), func(b *testing.B) {
			e := newEnv(b, backends()[1], &envOpts{
				svc:     &attachment.Options{MaxFileSize: attachment.Off},
				handler: &attachment.HandlerOptions{MaxRequestSize: attachment.Off, Uploads: resumable.New(nil)},
			})
			var gaps patchGaps
			srv := httptest.NewServer(labelUploads(e.srv, &gaps))
			defer srv.Close()
			// 256 KiB writes, as ../shared/bench's loadgen sends (the
			// default 4 KiB would measure the client's syscalls).
			tr := &http.Transport{WriteBufferSize: 256 << 10, ReadBufferSize: 64 << 10}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			base := srv.URL + e.prefix
			var rawTime, tusTime time.Duration
			var rawAlloc, tusAlloc uint64
			var rawRSS, tusRSS int64
			var rawCPU, tusCPU time.Duration
			b.ReportAllocs()
			b.SetBytes(2 * size) // both uploads
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				// Each iteration uploads the bytes of its own seed: the two
				// uploads of one iteration, the same bytes. Each upload is
				// deleted before the next starts: every upload then writes
				// into a page cache in the same state (on this VM, writing
				// 1 GiB while the last 1 GiB is still cached took twice as
				// long, raw or tus).
				sums := make([]string, 0, 2)
				for k := range 2 {
					tus := (i+k)%2 == 1 // alternate which runs first
					syscall.Sync()
					runtime.GC()
					resetPeakRSS()
					var ms0, ms1 runtime.MemStats
					runtime.ReadMemStats(&ms0)
					cpu0 := cpuTime(b)
					b.StartTimer()
					start := time.Now()
					var id string
					if tus {
						id = tusUpload(b, client, base, size, chunk, uint64(i), &gaps)
					} else {
						id = rawUpload(b, client, base, size, uint64(i))
					}
					took := time.Since(start)
					b.StopTimer()
					cpu := cpuTime(b) - cpu0
					runtime.ReadMemStats(&ms1)
					rss := peakRSS()
					if tus {
						tusTime += took
						tusAlloc += ms1.TotalAlloc - ms0.TotalAlloc
						tusRSS = max(tusRSS, rss)
						tusCPU += cpu
					} else {
						rawTime += took
						rawAlloc += ms1.TotalAlloc - ms0.TotalAlloc
						rawRSS = max(rawRSS, rss)
						rawCPU += cpu
					}
					a, err := e.svc.Get(b.Context(), id)
					require.NoError(b, err)
					require.Equal(b, size, a.Size)
					sums = append(sums, a.SHA256)
					require.NoError(b, e.svc.Delete(b.Context(), id, nil))
				}
				// Same bytes, same digest: each upload stored them whole.
				require.Equal(b, sums[0], sums[1], "raw and tus uploads of the same bytes")
				b.StartTimer()
			}
			n := float64(b.N)
			rawMBs := float64(size) * n / rawTime.Seconds() / 1e6
			tusMBs := float64(size) * n / tusTime.Seconds() / 1e6
			b.ReportMetric(rawMBs, "raw_MB/s")
			b.ReportMetric(tusMBs, "tus_MB/s")
			b.ReportMetric(tusMBs/rawMBs, "tus/raw")
			// CPU seconds (user + system, client included) per upload:
			// steadier than MB/s where other jobs share the cores.
			b.ReportMetric(rawCPU.Seconds()/n, "raw_cpu_s")
			b.ReportMetric(tusCPU.Seconds()/n, "tus_cpu_s")
			b.ReportMetric(float64(rawAlloc)/n, "raw_B/op")
			b.ReportMetric(float64(tusAlloc)/n, "tus_B/op")
			if n := gaps.n.Load(); n > 0 {
				b.ReportMetric(float64(gaps.before.Load())/float64(n)/1e6, "ms_before_body/PATCH")
				b.ReportMetric(float64(gaps.after.Load())/float64(n)/1e6, "ms_after_body/PATCH")
				b.ReportMetric(float64(gaps.body.Load())/float64(n)/1e6, "ms_body/PATCH")
				b.ReportMetric(float64(gaps.server.Load())/float64(n)/1e6, "ms_server/PATCH")
				b.ReportMetric(float64(gaps.client.Load())/float64(n)/1e6, "ms_client/PATCH")
			}
			b.ReportMetric(float64(rawRSS)/(1<<20), "raw_peakRSS_MiB")
			b.ReportMetric(float64(tusRSS)/(1<<20), "tus_peakRSS_MiB")
		})
	}
}

// rawUpload POSTs size bytes of seed to the native handler.
func rawUpload(b *testing.B, client *http.Client, base string, size int64, seed uint64) string {
	req, err := http.NewRequest("POST", base+"/?filename=f.bin", &genReader{n: uint64(size), state: seed})
	require.NoError(b, err)
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := client.Do(req)
	require.NoError(b, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b, err)
	require.Equal(b, http.StatusCreated, resp.StatusCode, "%s", body)
	var res struct{ Attachments []attachment.Attachment }
	require.NoError(b, json.Unmarshal(body, &res))
	require.Len(b, res.Attachments, 1)
	return res.Attachments[0].ID
}

// tusUpload sends the same bytes through tus: a creation, then PATCHes of
// chunk bytes, the last of which commits.
func tusUpload(b *testing.B, client *http.Client, base string, size, chunk int64, seed uint64, gaps *patchGaps) string {
	req, err := http.NewRequest("POST", base+"/uploads/", nil)
	require.NoError(b, err)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.FormatInt(size, 10))
	req.Header.Set("Upload-Metadata", "filename Zi5iaW4=") // f.bin
	resp, err := client.Do(req)
	require.NoError(b, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(b, http.StatusCreated, resp.StatusCode)
	uploadURL := base + "/uploads/" + lastSegment(resp.Header.Get("Location"))
	gen := &genReader{n: uint64(size), state: seed}
	var loc string
	for off := int64(0); off < size; off += chunk {
		n := min(chunk, size-off)
		req, err := http.NewRequest("PATCH", uploadURL, io.LimitReader(gen, n))
		require.NoError(b, err)
		req.ContentLength = n
		req.Header.Set("Tus-Resumable", "1.0.0")
		req.Header.Set("Upload-Offset", strconv.FormatInt(off, 10))
		req.Header.Set("Content-Type", "application/offset+octet-stream")
		sent := time.Now()
		resp, err := client.Do(req)
		require.NoError(b, err)
		body, _ := io.ReadAll(resp.Body)
		gaps.client.Add(int64(time.Since(sent)))
		resp.Body.Close()
		require.Equal(b, http.StatusNoContent, resp.StatusCode, "PATCH at %d: %s", off, body)
		require.Equal(b, strconv.FormatInt(off+n, 10), resp.Header.Get("Upload-Offset"))
		loc = resp.Header.Get("Location")
	}
	require.NotEmpty(b, loc, "the last PATCH names the attachment")
	return lastSegment(loc)
}

// labelUploads serves requests under a pprof label, upload=raw or
// upload=tus, which the goroutines they start inherit: a CPU profile
// (-cpuprofile) then splits the server's time between the two with
// -tagfocus, the hashing goroutines included. For each PATCH it adds to
// gaps the time the handler spent before the first read of the body (the
// session read and the lease claim) and after the body's end (the last
// bytes hashed and written, the save, the commit of the last PATCH):
// time in which the server moves no byte of the upload.
func labelUploads(h http.Handler, gaps *patchGaps) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := "raw"
		if strings.Contains(r.URL.Path, "/uploads/") {
			kind = "tus"
		}
		var tb *timedBody
		if r.Method == http.MethodPatch {
			tb = &timedBody{ReadCloser: r.Body}
			r.Body = tb
		}
		start := time.Now()
		pprof.Do(r.Context(), pprof.Labels("upload", kind), func(ctx context.Context) {
			h.ServeHTTP(w, r.WithContext(ctx))
		})
		if tb != nil && !tb.first.IsZero() && !tb.eof.IsZero() {
			gaps.n.Add(1)
			gaps.before.Add(int64(tb.first.Sub(start)))
			gaps.after.Add(int64(time.Since(tb.eof)))
			gaps.body.Add(int64(tb.eof.Sub(tb.first)))
			gaps.server.Add(int64(time.Since(start)))
		}
	})
}

// patchGaps sums the times labelUploads measures over n PATCHes: before
// and after the body, the body's read (first Read to io.EOF), the whole
// handler; and client, the client's time from sending each PATCH to
// having read its answer.
type patchGaps struct{ n, before, after, body, server, client atomic.Int64 }

// timedBody notes when its first Read came and when it returned io.EOF.
type timedBody struct {
	io.ReadCloser
	first, eof time.Time
}

func (t *timedBody) Read(p []byte) (int, error) {
	if t.first.IsZero() {
		t.first = time.Now()
	}
	n, err := t.ReadCloser.Read(p)
	if err == io.EOF && t.eof.IsZero() {
		t.eof = time.Now()
	}
	return n, err
}

func lastSegment(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// parseBenchSize reads "64MiB", "1GiB", "512KiB" or a byte count.
func parseBenchSize(b *testing.B, s string) int64 {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if v, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = v, m
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	require.NoError(b, err, "-resumable.sizes")
	return n * mult
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS resets the process's VmHWM to its current RSS (Linux:
// "5" to /proc/self/clear_refs). Elsewhere it does nothing.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS returns VmHWM in bytes since the last reset, or 0 where
// /proc/self/status has none.
func peakRSS() int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(raw, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(string(v)), "%d kB", &kb); err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
