package attachment_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
)

// genBlock is the pseudo-random block genReader repeats.
var genBlock = func() []byte {
	b := make([]byte, 64<<10)
	x := uint64(1)
	for i := range b {
		x = x*6364136223846793005 + 1442695040888963407
		b[i] = byte(x >> 56)
	}
	return b
}()

// genReader yields n pseudo-random bytes without holding them: genBlock
// repeated, starting at an offset chosen by state and shifting by one byte
// each round so that successive blocks differ.
type genReader struct {
	n, state uint64
	off      int
	started  bool
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.n == 0 {
		return 0, io.EOF
	}
	if !g.started {
		g.started = true
		g.off = int(g.state % uint64(len(genBlock)-1))
	}
	if uint64(len(p)) > g.n {
		p = p[:g.n]
	}
	n := 0
	for n < len(p) {
		c := copy(p[n:], genBlock[g.off:])
		n += c
		g.off = (g.off + c) % (len(genBlock) - 1)
	}
	g.n -= uint64(n)
	return n, nil
}

// allocsFor returns the bytes allocated while uploading a file of size
// bytes through the handler, raw or multipart.
func allocsFor(t *testing.T, e *env, size int64, multi bool) uint64 {
	t.Helper()
	var body io.Reader
	ct := "application/octet-stream"
	if multi {
		var head bytes.Buffer
		mw := multipart.NewWriter(&head)
		_, err := mw.CreateFormFile("files", "big.bin")
		require.NoError(t, err)
		ct = mw.FormDataContentType()
		tail := "\r\n--" + mw.Boundary() + "--\r\n"
		body = io.MultiReader(&head, &genReader{n: uint64(size), state: 1}, bytes.NewReader([]byte(tail)))
	} else {
		body = &genReader{n: uint64(size), state: 1}
	}
	req := httptest.NewRequest("POST", e.prefix+"/?filename=big.bin", body)
	req.Header.Set("Content-Type", ct)
	req.ContentLength = -1
	rec := httptest.NewRecorder()

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	e.srv.ServeHTTP(rec, req)
	runtime.ReadMemStats(&after)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	return after.TotalAlloc - before.TotalAlloc
}

// TestUploadMemoryFlat proves that an upload allocates no more for 256 MiB
// than for 1 MiB (beyond a small constant): content streams, it is never
// held.
func TestUploadMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 512 MiB; skipped with -short")
	}
	for _, multi := range []bool{false, true} {
		name := "raw"
		if multi {
			name = "multipart"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, backends()[0], &envOpts{svc: &attachment.Options{MaxFileSize: attachment.Off}})
			allocsFor(t, e, 1<<20, multi) // warm pools
			small := allocsFor(t, e, 1<<20, multi)
			large := allocsFor(t, e, 256<<20, multi)
			t.Logf("%s: allocated %d KiB for 1 MiB, %d KiB for 256 MiB", name, small>>10, large>>10)
			require.Less(t, large, small+2<<20, "allocation grows with file size")
		})
	}
}
