package storage_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"hash"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/storage"
)

// stateOf returns the marshaled state of newHash fed with p.
func stateOf(t testing.TB, newHash func() hash.Hash, p []byte) []byte {
	t.Helper()
	h := newHash()
	h.Write(p)
	b, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	require.NoError(t, err)
	return b
}

// stateAt is the offset a marshaled SHA-256 or MD5 state stands at.
func stateAt(state []byte) int64 { return int64(binary.BigEndian.Uint64(state[len(state)-8:])) }

// digestOf returns the digest a marshaled state ends with.
func digestOf(t testing.TB, newHash func() hash.Hash, state []byte) []byte {
	t.Helper()
	h := newHash()
	require.NoError(t, h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state))
	return h.Sum(nil)
}

// A lagging Append's states may stand behind its bytes in ModeFile, by at
// most the pipe's chunks, never in other modes; the next Append goes on
// from them, and HashUpload brings them to the end: the digests are those
// of every byte.
func TestUploadLagHash(t *testing.T) {
	for _, uc := range uploadCases() {
		t.Run(uc.name, func(t *testing.T) {
			s, _ := uc.open(t)
			sizes := []int{3 << 20, 1, 2<<20 + 5, 256 << 10, 0, 1<<20 + 1}
			total := 0
			for _, n := range sizes {
				total += n
			}
			content := randomBytes(7, total)
			a := begin(t, s)
			off := 0
			for _, n := range sizes {
				o := a.opts()
				o.LagHash = true
				res, err := s.Append(context.Background(), id, a.st, bytes.NewReader(content[off:off+n]), o)
				require.NoError(t, err)
				off += n
				require.Equal(t, int64(off), res.State.Size)
				at := stateAt(res.Hash)
				assert.Equal(t, at, stateAt(res.MD5Hash), "both states at one offset")
				if uc.mode == storage.ModeFile {
					assert.LessOrEqual(t, at, int64(off))
					assert.GreaterOrEqual(t, at, int64(off)-3*256<<10, "behind by at most the pipe's chunks")
				} else {
					assert.Equal(t, int64(off), at, "only ModeFile lags")
				}
				// What the states hold is the digest of the bytes up to them.
				want := sha256.Sum256(content[:at])
				assert.Equal(t, want[:], digestOf(t, sha256.New, res.Hash))
				a.save(res)
			}
			sha, md, err := s.HashUpload(context.Background(), id, a.st, a.hash, a.md5Hash)
			require.NoError(t, err)
			want := sha256.Sum256(content)
			wantMD5 := md5.Sum(content)
			assert.Equal(t, want[:], digestOf(t, sha256.New, sha))
			assert.Equal(t, wantMD5[:], digestOf(t, md5.New, md))
			a.hash, a.md5Hash = sha, md
			a.finish()
			assert.True(t, bytes.Equal(content, readContent(t, s)))
		})
	}
}

// The bytes a state lacks are read back from the file and hashed before
// the appended ones, in an Append (the pipe's goroutine, or inline for a
// small body) and in HashUpload; a state that cannot be right is refused.
func TestUploadCatchUp(t *testing.T) {
	content := randomBytes(11, 2<<20+77)
	const first = 1<<20 + 9
	for _, tc := range []struct {
		name string
		at   int // where the states handed to the second Append stand
		next int // how many bytes it appends
	}{
		{"from zero, large body", 0, len(content) - first},
		{"from the middle, large body", 300_001, len(content) - first},
		{"from the middle, small body", 300_001, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := uploadCases()[0].open(t)
			a := begin(t, s)
			a.append(content[:first])
			o := a.opts()
			o.Hash, o.MD5Hash = stateOf(t, sha256.New, content[:tc.at]), stateOf(t, md5.New, content[:tc.at])
			end := first + tc.next
			res, err := s.Append(context.Background(), id, a.st, bytes.NewReader(content[first:end]), o)
			require.NoError(t, err)
			assert.Equal(t, int64(end), res.State.Size)
			want := sha256.Sum256(content[:end])
			wantMD5 := md5.Sum(content[:end])
			assert.Equal(t, want[:], digestOf(t, sha256.New, res.Hash), "caught up, then the new bytes")
			assert.Equal(t, wantMD5[:], digestOf(t, md5.New, res.MD5Hash))

			// HashUpload from a state behind.
			sha, md, err := s.HashUpload(context.Background(), id, res.State, stateOf(t, sha256.New, content[:tc.at]), stateOf(t, md5.New, content[:tc.at]))
			require.NoError(t, err)
			assert.Equal(t, want[:], digestOf(t, sha256.New, sha))
			assert.Equal(t, wantMD5[:], digestOf(t, md5.New, md))
			// Without MD5, and from the start.
			sha, md, err = s.HashUpload(context.Background(), id, res.State, stateOf(t, sha256.New, nil), nil)
			require.NoError(t, err)
			assert.Nil(t, md)
			assert.Equal(t, want[:], digestOf(t, sha256.New, sha))
		})
	}

	t.Run("refused", func(t *testing.T) {
		s, tb := uploadCases()[0].open(t)
		a := begin(t, s)
		a.append(content[:first])
		ctx := context.Background()
		// The MD5 state at another offset than the SHA-256 state.
		o := a.opts()
		o.Hash, o.MD5Hash = stateOf(t, sha256.New, content[:10]), stateOf(t, md5.New, content[:11])
		_, err := s.Append(ctx, id, a.st, bytes.NewReader(content[first:]), o)
		require.ErrorIs(t, err, storage.ErrUploadState)
		// A state past the upload's bytes.
		o = a.opts()
		o.Hash, o.MD5Hash = stateOf(t, sha256.New, content[:first+1]), stateOf(t, md5.New, content[:first+1])
		_, err = s.Append(ctx, id, a.st, bytes.NewReader(content[first:]), o)
		require.ErrorIs(t, err, storage.ErrUploadState)
		_, _, err = s.HashUpload(ctx, id, a.st, o.Hash, nil)
		require.ErrorIs(t, err, storage.ErrUploadState)
		// No state at all, for bytes there are.
		_, _, err = s.HashUpload(ctx, id, a.st, nil, nil)
		require.ErrorIs(t, err, storage.ErrUploadState)
		// Nothing was appended by the refusals.
		got, err := os.ReadFile(filepath.Join(tb.dir, "uploads", id, "data"))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(content[:first], got))

		// The file lost bytes the state lacks.
		require.NoError(t, os.Truncate(filepath.Join(tb.dir, "uploads", id, "data"), 1000))
		_, _, err = s.HashUpload(ctx, id, a.st, stateOf(t, sha256.New, content[:10]), nil)
		require.ErrorIs(t, err, storage.ErrUploadLost)
	})

	t.Run("only ModeFile lags", func(t *testing.T) {
		for _, uc := range uploadCases() {
			if uc.mode == storage.ModeFile {
				continue
			}
			s, _ := uc.open(t)
			a := begin(t, s)
			a.append(content[:first])
			o := a.opts()
			o.Hash, o.MD5Hash = stateOf(t, sha256.New, content[:10]), stateOf(t, md5.New, content[:10])
			_, err := s.Append(context.Background(), id, a.st, bytes.NewReader(content[first:]), o)
			require.ErrorIs(t, err, storage.ErrUploadState, uc.name)
		}
	})
}
