package attachment_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// genSum is the SHA-256, hex, of the size bytes genReader yields from
// state 1, hashed as they are generated: nothing is held.
func genSum(t *testing.T, size int64) string {
	t.Helper()
	h := sha256.New()
	n, err := io.Copy(h, &genReader{n: uint64(size), state: 1})
	require.NoError(t, err)
	require.Equal(t, size, n)
	return hex.EncodeToString(h.Sum(nil))
}

// allocsFor uploads a file of size bytes through the handler, raw or
// multipart, and returns the bytes allocated while the handler ran and the
// attachment the 201 answered.
func allocsFor(t *testing.T, e *env, size int64, multi bool) (uint64, attachment.Attachment) {
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
	var res struct{ Attachments []attachment.Attachment }
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &res), rec.Body.String())
	require.Len(t, res.Attachments, 1)
	return after.TotalAlloc - before.TotalAlloc, res.Attachments[0]
}

// requireStored checks that the attachment a holds exactly the size bytes
// whose SHA-256 is sum: its record says so, and its content, read back
// through the Service and hashed as it streams, is those bytes.
func requireStored(t *testing.T, e *env, a attachment.Attachment, size int64, sum string) {
	t.Helper()
	// Mutation guarded: storage/write.go (or upload.go) stops reading the
	// body after 2 MiB, e.g. io.LimitReader(r, 2<<20), and still answers
	// 201. The record then says 2 MiB and the hash of those 2 MiB, and the
	// content read back is 2 MiB: each of these fails.
	require.Equal(t, size, a.Size, "record size of %s", a.ID)
	require.Equal(t, sum, a.SHA256, "record sha256 of %s", a.ID)
	got, obj, err := e.svc.OpenContent(t.Context(), a.ID)
	require.NoError(t, err)
	defer obj.Close()
	require.Equal(t, size, got.Size)
	h := sha256.New()
	n, err := io.Copy(h, obj)
	require.NoError(t, err)
	require.Equal(t, size, n, "bytes stored for %s", a.ID)
	require.Equal(t, sum, hex.EncodeToString(h.Sum(nil)), "sha256 of the content stored for %s", a.ID)
}

// TestUploadMemoryFlat proves that an upload allocates no more for 256 MiB
// than for a small file (beyond a small constant): content streams, it is
// never held. And that it is stored whole: every byte sent is read back.
func TestUploadMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("streams over 512 MiB per backend; skipped with -short")
	}
	const largeSize = 256 << 20
	largeSum := genSum(t, largeSize)
	for _, c := range []struct {
		be backend
		// small is the size whose allocation is the baseline. On S3 it is
		// past what s3blob sends in one PUT (16 MiB): a multipart upload
		// allocates its parts' buffers (about 64 MiB, see
		// storage.WriteContent) whatever its size.
		small int64
		// perPart is what the driver allocates for each part of a
		// multipart upload (S3's 5 MiB parts): its request, signing and
		// response, about 90 KiB measured. That grows with the number of
		// parts, not with the bytes: 256 MiB cost 4 MiB more than 32 MiB,
		// where holding the content would cost 224 MiB more.
		perPart uint64
	}{
		{backends()[0], 1 << 20, 0}, // file+mem
		// s3+postgres, the production setup, when its servers are
		// configured.
		{backends()[3], 32 << 20, 128 << 10},
	} {
		smallSum := ""
		for _, multi := range []bool{false, true} {
			name := c.be.name + "/raw"
			if multi {
				name = c.be.name + "/multipart"
			}
			t.Run(name, func(t *testing.T) {
				e := newEnv(t, c.be, &envOpts{svc: &attachment.Options{MaxFileSize: attachment.Off}})
				if smallSum == "" {
					smallSum = genSum(t, c.small)
				}
				allocsFor(t, e, c.small, multi) // warm pools
				small, sa := allocsFor(t, e, c.small, multi)
				large, la := allocsFor(t, e, largeSize, multi)
				t.Logf("%s: allocated %d KiB for %d MiB, %d KiB for 256 MiB", name, small>>10, c.small>>20, large>>10)
				parts := uint64(largeSize-c.small) / (5 << 20)
				require.Less(t, large, small+2<<20+parts*c.perPart, "allocation grows with file size")
				requireStored(t, e, sa, c.small, smallSum)
				requireStored(t, e, la, largeSize, largeSum)
			})
		}
	}
}
