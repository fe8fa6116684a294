package client_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/client"
)

// flipBody changes one byte of what it reads, as a faulty network or
// proxy would.
type flipBody struct {
	io.ReadCloser
	at, n int64
}

func (b *flipBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.at >= b.n && b.at < b.n+int64(n) {
		p[b.at-b.n] ^= 0xff
	}
	b.n += int64(n)
	return n, err
}

// With Checksum, every PATCH carries its content's SHA-256: a chunk
// changed on the way is refused (460) and sent again, and the file is
// byte-exact. The same change without Checksum is stored as it came.
func TestUploadResumableChecksum(t *testing.T) {
	for _, checksum := range []bool{true, false} {
		e := newTusEnv(t, nil)
		data := randomBytes(3<<20, 7)
		flipped := false
		e.setIntercept(func(w http.ResponseWriter, r *http.Request, i int) bool {
			if r.Method == http.MethodPatch && r.Header.Get("Upload-Offset") == "1048576" && !flipped {
				flipped = true
				r.Body = &flipBody{ReadCloser: r.Body, at: 1000}
			}
			return false
		})
		a, err := e.c.UploadResumable(context.Background(), client.File{Name: "c.bin", Content: bytes.NewReader(data)},
			&client.ResumableOptions{ChunkSize: 1 << 20, Checksum: checksum})
		require.NoError(t, err)
		require.True(t, flipped)
		ps := patches(e.requests())
		if !checksum {
			assert.NotEqual(t, sha256.Sum256(data), e.sha(a.ID), "without Checksum the change goes through")
			assert.Len(t, ps, 3)
			continue
		}
		assert.Equal(t, sha256.Sum256(data), e.sha(a.ID))
		require.Len(t, ps, 4, "the changed chunk was sent again")
		assert.Equal(t, ps[1].offset, ps[2].offset)
		for i, p := range ps {
			v := p.header.Get("Upload-Checksum")
			require.True(t, strings.HasPrefix(v, "sha256 "), "PATCH %d: %q", i, v)
			sum := sha256.Sum256(data[p.offset : p.offset+1<<20])
			assert.Equal(t, base64.StdEncoding.EncodeToString(sum[:]), v[len("sha256 "):], "PATCH %d", i)
		}
	}
}

// Checksum needs content it can read twice, of known size.
func TestUploadResumableChecksumNeedsReaderAt(t *testing.T) {
	e := newTusEnv(t, nil)
	_, err := e.c.UploadResumable(context.Background(), client.File{Name: "c.bin", Content: io.LimitReader(strings.NewReader("abc"), 3)},
		&client.ResumableOptions{Checksum: true})
	require.ErrorContains(t, err, "Checksum needs")
	assert.Empty(t, e.requests(), "nothing was sent")
}
