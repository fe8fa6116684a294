package mpart

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The boundary mime/multipart.Writer would pick: 60 hex digits, which makes
// the delimiter 64 bytes, past bytes.Index's brute-force length.
const benchBoundary = "4d1bd3f5e29a8c7b6e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"

var (
	benchBodies   = map[int][]byte{}
	benchBodiesMu sync.Mutex
)

// singleFileBody returns a form with one file part of size random bytes,
// made once per size.
func singleFileBody(size int) []byte {
	benchBodiesMu.Lock()
	defer benchBodiesMu.Unlock()
	if b, ok := benchBodies[size]; ok {
		return b
	}
	content := make([]byte, size)
	rand.NewChaCha8([32]byte{1}).Read(content)
	body := buildForm(benchBoundary, filePart("file", "video.mp4", "video/mp4", content))
	benchBodies[size] = body
	return body
}

// Neither side of the copy gets to use WriteTo or ReadFrom: every reader is
// read through the same 32 KiB buffer, as io.Copy reads a request body.
type (
	onlyReader struct{ io.Reader }
	onlyWriter struct{ io.Writer }
)

var discard = onlyWriter{io.Discard}

// benchSize is the 64 MiB of the upload the benchmarks read.
const benchSize = 64 << 20

// threadCPUTime returns the CPU time of the calling thread, where the
// platform tells it (see cputime_linux_test.go).
var threadCPUTime func() time.Duration

// cpuMeter reports, besides MB/s of wall time, cpu-MB/s: the bytes over
// the CPU time of the benchmark's thread. Machines shared with other work
// make wall time noisy; CPU time leaves out the time spent waiting for a
// core.
type cpuMeter struct {
	b     *testing.B
	start time.Duration
}

func startCPUMeter(b *testing.B) cpuMeter {
	if threadCPUTime == nil {
		return cpuMeter{}
	}
	runtime.LockOSThread()
	return cpuMeter{b, threadCPUTime()}
}

func (m cpuMeter) stop(bytesPerOp int) {
	if m.b == nil {
		return
	}
	cpu := threadCPUTime() - m.start
	runtime.UnlockOSThread()
	m.b.ReportMetric(float64(bytesPerOp)*float64(m.b.N)/cpu.Seconds()/1e6, "cpu-MB/s")
}

// BenchmarkRaw is the baseline: the same bytes as a raw request body.
func BenchmarkRaw(b *testing.B) {
	body := singleFileBody(benchSize)
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	m := startCPUMeter(b)
	defer m.stop(len(body))
	for b.Loop() {
		n, err := io.CopyBuffer(discard, onlyReader{bytes.NewReader(body)}, buf)
		if err != nil || n != int64(len(body)) {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkStdlib reads the file part with mime/multipart.
func BenchmarkStdlib(b *testing.B) {
	body := singleFileBody(benchSize)
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	m := startCPUMeter(b)
	defer m.stop(len(body))
	for b.Loop() {
		r := multipart.NewReader(bytes.NewReader(body), benchBoundary)
		p, err := r.NextPart()
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.CopyBuffer(discard, onlyReader{p}, buf); err != nil || n != benchSize {
			b.Fatal(n, err)
		}
		if _, err := r.NextPart(); err != io.EOF {
			b.Fatal(err)
		}
	}
}

// BenchmarkMpart reads the file part with Part.Read.
func BenchmarkMpart(b *testing.B) {
	benchMpart(b, 0, false)
}

// BenchmarkMpartWriteTo reads the file part with Part.WriteTo.
func BenchmarkMpartWriteTo(b *testing.B) {
	benchMpart(b, 0, true)
}

// BenchmarkBufferSize is how the default BufferSize was picked.
func BenchmarkBufferSize(b *testing.B) {
	for _, size := range []int{4 << 10, 16 << 10, 32 << 10, 64 << 10, 128 << 10, 256 << 10, 1 << 20} {
		for _, writeTo := range []bool{false, true} {
			b.Run(fmt.Sprintf("%dKiB/WriteTo=%v", size>>10, writeTo), func(b *testing.B) {
				benchMpart(b, size, writeTo)
			})
		}
	}
}

func benchMpart(b *testing.B, bufferSize int, writeTo bool) {
	body := singleFileBody(benchSize)
	buf := make([]byte, 32<<10)
	opts := &Options{BufferSize: bufferSize}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	m := startCPUMeter(b)
	defer m.stop(len(body))
	for b.Loop() {
		r := NewReader(bytes.NewReader(body), benchBoundary, opts)
		p, err := r.NextPart()
		if err != nil {
			b.Fatal(err)
		}
		var n int64
		if writeTo {
			n, err = p.WriteTo(io.Discard)
		} else {
			n, err = io.CopyBuffer(discard, onlyReader{p}, buf)
		}
		if err != nil || n != benchSize {
			b.Fatal(n, err)
		}
		if _, err := r.NextPart(); err != io.EOF {
			b.Fatal(err)
		}
	}
}

// BenchmarkSHA256 is closer to an upload handler, which hashes what it
// stores: the 64 MiB file is read into SHA-256 raw, through mime/multipart,
// and through this package (io.Copy, which uses Part.WriteTo).
func BenchmarkSHA256(b *testing.B) {
	body := singleFileBody(benchSize)
	read := map[string]func(h io.Writer) (int64, error){
		"raw": func(h io.Writer) (int64, error) {
			return io.Copy(h, onlyReader{bytes.NewReader(body[:benchSize])})
		},
		"stdlib": func(h io.Writer) (int64, error) {
			p, err := multipart.NewReader(bytes.NewReader(body), benchBoundary).NextPart()
			if err != nil {
				return 0, err
			}
			return io.Copy(h, p)
		},
		"mpart": func(h io.Writer) (int64, error) {
			p, err := NewReader(bytes.NewReader(body), benchBoundary, nil).NextPart()
			if err != nil {
				return 0, err
			}
			return io.Copy(h, p)
		},
	}
	for _, name := range []string{"raw", "stdlib", "mpart"} {
		b.Run(name, func(b *testing.B) {
			h := sha256.New()
			b.SetBytes(benchSize)
			b.ReportAllocs()
			m := startCPUMeter(b)
			defer m.stop(benchSize)
			for b.Loop() {
				h.Reset()
				if n, err := read[name](h); err != nil || n != benchSize {
					b.Fatal(n, err)
				}
			}
		})
	}
}

// BenchmarkHTTPUpload posts the 64 MiB file over loopback HTTP to a
// server that hashes it with SHA-256: as a raw body, and as a multipart
// body parsed by mime/multipart and by this package (with WriteTo, which
// io.Copy uses; with Read; with a 32 KiB buffer). It measures wall time,
// with client and server sharing the machine.
func BenchmarkHTTPUpload(b *testing.B) {
	body := singleFileBody(benchSize)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		var src io.Reader
		switch r.URL.Path {
		case "/raw":
			src = r.Body
		case "/stdlib":
			p, err := multipart.NewReader(r.Body, benchBoundary).NextPart()
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			src = p
		case "/mpart", "/mpart-Read", "/mpart-32KiB":
			opts := &Options{}
			if r.URL.Path == "/mpart-32KiB" {
				opts.BufferSize = 32 << 10
			}
			p, err := NewReader(r.Body, benchBoundary, opts).NextPart()
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			src = p
			if r.URL.Path == "/mpart-Read" {
				src = onlyReader{p}
			}
		}
		n, err := io.Copy(h, src)
		if err != nil || n != benchSize {
			http.Error(w, fmt.Sprint(n, err), http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	for _, name := range []string{"raw", "stdlib", "mpart", "mpart-Read", "mpart-32KiB"} {
		b.Run(name, func(b *testing.B) {
			send := body
			if name == "raw" {
				send = body[:benchSize]
			}
			b.SetBytes(benchSize)
			for b.Loop() {
				resp, err := srv.Client().Post(srv.URL+"/"+name, "application/octet-stream", bytes.NewReader(send))
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatal(resp.Status)
				}
			}
		})
	}
}

// TestAllocsDoNotGrowWithPartSize reads a 1 MiB and a 64 MiB part, with
// Read and with WriteTo, and expects the same allocations, in count and
// in bytes, give or take a little.
func TestAllocsDoNotGrowWithPartSize(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 64 MiB body")
	}
	for _, writeTo := range []bool{false, true} {
		small := readAllocs(t, singleFileBody(1<<20), writeTo)
		large := readAllocs(t, singleFileBody(64<<20), writeTo)
		t.Logf("WriteTo=%v: 1 MiB part: %d allocs, %d bytes; 64 MiB part: %d allocs, %d bytes",
			writeTo, small.mallocs, small.bytes, large.mallocs, large.bytes)
		require.InDelta(t, small.mallocs, large.mallocs, 2, "allocations grow with the part")
		require.InDelta(t, small.bytes, large.bytes, 512, "allocated bytes grow with the part")
	}
}

type allocs struct{ mallocs, bytes uint64 }

// readAllocs reads body's one part, after a warm-up run, and returns what
// that allocated (the least of three runs, against noise from the runtime).
func readAllocs(t *testing.T, body []byte, writeTo bool) allocs {
	buf := make([]byte, 32<<10)
	read := func() {
		r := NewReader(bytes.NewReader(body), benchBoundary, nil)
		p, err := r.NextPart()
		require.NoError(t, err)
		if writeTo {
			_, err = p.WriteTo(io.Discard)
		} else {
			_, err = io.CopyBuffer(discard, onlyReader{p}, buf)
		}
		require.NoError(t, err)
		_, err = r.NextPart()
		require.Equal(t, io.EOF, err)
	}
	read()
	least := allocs{math.MaxUint64, math.MaxUint64}
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		read()
		runtime.ReadMemStats(&after)
		least.mallocs = min(least.mallocs, after.Mallocs-before.Mallocs)
		least.bytes = min(least.bytes, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// TestReadDoesNotAllocate: in the steady state, Read (from the buffer, or
// straight from the source for large reads) and WriteTo allocate nothing.
func TestReadDoesNotAllocate(t *testing.T) {
	body := singleFileBody(8 << 20)
	r := NewReader(bytes.NewReader(body), benchBoundary, nil)
	p, err := r.NextPart()
	require.NoError(t, err)
	for _, size := range []int{4 << 10, 32 << 10} {
		buf := make([]byte, size)
		read := testing.AllocsPerRun(100, func() {
			if _, err := p.Read(buf); err != nil {
				t.Fatal(err)
			}
		})
		require.Zero(t, read, "allocations per Read of %d bytes", size)
	}
	w := &limitedDiscard{}
	write := testing.AllocsPerRun(100, func() {
		w.left = 20000
		if _, err := p.WriteTo(w); err != io.ErrShortWrite {
			t.Fatal(err)
		}
	})
	require.Zero(t, write, "allocations per WriteTo")
}

// limitedDiscard takes left bytes, then writes short.
type limitedDiscard struct{ left int }

func (w *limitedDiscard) Write(p []byte) (int, error) {
	n := min(len(p), w.left)
	w.left -= n
	return n, nil
}
