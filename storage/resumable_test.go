package storage_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment/internal/s3test"
	"github.com/attachkit/attachment/storage"
)

// uploadCase is a Store resumable uploads are tested on, and the mode it
// must pick.
type uploadCase struct {
	name string
	mode storage.UploadMode
	open func(t testing.TB) (*storage.Store, testBucket)
}

func uploadCases() []uploadCase {
	fileStore := func(opts *fileblob.Options, withDir bool) func(t testing.TB) (*storage.Store, testBucket) {
		return func(t testing.TB) (*storage.Store, testBucket) {
			dir := t.TempDir()
			b, err := fileblob.OpenBucket(dir, opts)
			require.NoError(t, err)
			t.Cleanup(func() { _ = b.Close() })
			if withDir {
				return storage.New(b, storage.FileDir(dir)), testBucket{Bucket: b, dir: dir}
			}
			return storage.New(b), testBucket{Bucket: b, dir: dir}
		}
	}
	return []uploadCase{
		{"file", storage.ModeFile, fileStore(&fileblob.Options{NoTempDir: true, Metadata: fileblob.MetadataDontWrite}, true)},
		{"file-metadata", storage.ModeFile, fileStore(nil, true)},
		{"file-without-dir", storage.ModeChunks, fileStore(&fileblob.Options{NoTempDir: true}, false)},
		{"mem", storage.ModeChunks, func(t testing.TB) (*storage.Store, testBucket) {
			b := memblob.OpenBucket(nil)
			return storage.New(b), testBucket{Bucket: b}
		}},
		// Parts of 256 KiB to 1 MiB: the tests' appends cross them.
		{"mem-multipart", storage.ModeMultipart, func(t testing.TB) (*storage.Store, testBucket) {
			b := memblob.OpenBucket(nil)
			fake := newFakeMultipart(b, storage.MultipartLimits{MinPartSize: 256 << 10, MaxPartSize: 1 << 20, MaxParts: 10_000}, true)
			return storage.New(b, storage.WithMultipart(fake)), testBucket{Bucket: b, fake: fake}
		}},
		{"s3", storage.ModeMultipart, func(t testing.TB) (*storage.Store, testBucket) {
			b := s3test.Open(t)
			return storage.New(b.Bucket), testBucket{Bucket: b.Bucket, s3: b}
		}},
	}
}

// randomBytes returns n bytes of a seeded stream.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// saved marshals and unmarshals res's state, as a caller that keeps it
// in its metadata store does.
func saved(t testing.TB, st *storage.UploadState) *storage.UploadState {
	t.Helper()
	b, err := st.MarshalBinary()
	require.NoError(t, err)
	var out storage.UploadState
	require.NoError(t, out.UnmarshalBinary(b))
	require.Equal(t, *st, out)
	return &out
}

// sumOf returns the digest of a marshaled hash state.
func sumOf(t testing.TB, h interface {
	encoding.BinaryUnmarshaler
	Sum([]byte) []byte
}, state []byte) []byte {
	t.Helper()
	require.NoError(t, h.UnmarshalBinary(state))
	return h.Sum(nil)
}

// keysUnder lists the keys under the upload's prefix.
func keysUnder(t testing.TB, tb testBucket) []string {
	t.Helper()
	var out []string
	it := tb.List(&blob.ListOptions{Prefix: storage.UploadPrefix(id)})
	for {
		o, err := it.Next(context.Background())
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		out = append(out, o.Key)
	}
}

// leftUnder lists the keys under the upload's prefix, and for a fileblob
// bucket the files under its directory.
func leftUnder(t testing.TB, tb testBucket) []string {
	t.Helper()
	out := keysUnder(t, tb)
	if _, err := os.Stat(filepath.Join(tb.dir, "uploads", id)); tb.dir != "" && err == nil {
		out = append(out, files(t, filepath.Join(tb.dir, "uploads", id))...)
	}
	return out
}

func readContent(t testing.TB, s *storage.Store) []byte {
	t.Helper()
	obj, err := s.OpenContent(context.Background(), id)
	require.NoError(t, err)
	defer obj.Close()
	got, err := io.ReadAll(obj)
	require.NoError(t, err)
	return got
}

// appender appends to one upload and keeps what a caller keeps.
type appender struct {
	t       testing.TB
	s       *storage.Store
	st      *storage.UploadState
	hash    []byte
	md5Hash []byte
}

func begin(t testing.TB, s *storage.Store) *appender {
	st, err := s.BeginUpload(context.Background(), id)
	require.NoError(t, err)
	return &appender{t: t, s: s, st: st}
}

func (a *appender) opts() *storage.AppendOptions {
	return &storage.AppendOptions{Hash: a.hash, MD5: true, MD5Hash: a.md5Hash}
}

// append appends p, saves the result and returns it.
func (a *appender) append(p []byte) storage.AppendResult {
	a.t.Helper()
	res, err := a.s.Append(context.Background(), id, a.st, bytes.NewReader(p), a.opts())
	require.NoError(a.t, err)
	require.Equal(a.t, int64(len(p)), res.N)
	a.save(res)
	return res
}

func (a *appender) save(res storage.AppendResult) {
	a.st, a.hash, a.md5Hash = saved(a.t, res.State), res.Hash, res.MD5Hash
}

func (a *appender) finish() {
	a.t.Helper()
	require.NoError(a.t, a.s.FinishUpload(context.Background(), id, a.st, &storage.FinishOptions{Hash: a.hash, ContentType: "video/mp4"}))
}

func TestUploadAppendsAndFinishes(t *testing.T) {
	for _, uc := range uploadCases() {
		t.Run(uc.name, func(t *testing.T) {
			s, tb := uc.open(t)
			assert.Equal(t, uc.mode, s.UploadMode())
			sizes := []int{1, 0, 7, 256<<10 - 1, 256<<10 + 1, 1<<20 + 3, 3, 777_777}
			total := 0
			for _, n := range sizes {
				total += n
			}
			content := randomBytes(1, total)
			a := begin(t, s)
			assert.Equal(t, uc.mode, a.st.Mode)
			off := 0
			for _, n := range sizes {
				res := a.append(content[off : off+n])
				off += n
				assert.Equal(t, int64(off), res.State.Size)
				want := sha256.Sum256(content[:off])
				assert.Equal(t, want[:], sumOf(t, sha256.New().(interface {
					encoding.BinaryUnmarshaler
					Sum([]byte) []byte
				}), res.Hash), "hash state at %d", off)
				wantMD5 := md5.Sum(content[:off])
				assert.Equal(t, wantMD5[:], sumOf(t, md5.New().(interface {
					encoding.BinaryUnmarshaler
					Sum([]byte) []byte
				}), res.MD5Hash))
			}
			if uc.name == "mem-multipart" {
				assert.NotEmpty(t, a.st.Parts, "the appends crossed parts")
			}
			if uc.mode == storage.ModeChunks {
				assert.Len(t, a.st.Chunks, len(sizes)-1, "an empty append writes no chunk")
			}

			// Items sees the upload's keys, with its ID.
			n := 0
			for it, err := range s.Items(context.Background(), storage.UploadsPrefix) {
				require.NoError(t, err)
				assert.Equal(t, storage.KindUpload, it.Kind, it.Key)
				assert.Equal(t, id, it.ID)
				n++
			}
			assert.Positive(t, n)

			// The bytes so far read back before the end (but for parts of
			// a multipart upload, which cannot be read before it is done).
			r, err := s.OpenUpload(context.Background(), id, a.st)
			if len(a.st.Parts) > 0 {
				require.ErrorIs(t, err, errors.ErrUnsupported)
			} else {
				require.NoError(t, err)
				got, err := io.ReadAll(r)
				require.NoError(t, err)
				require.NoError(t, r.Close())
				assert.True(t, bytes.Equal(content, got))
			}

			a.finish()
			assert.True(t, bytes.Equal(content, readContent(t, s)), "content read back")
			assert.Empty(t, leftUnder(t, tb))
			// Again, as after a crash once it was done.
			a.finish()
			assert.True(t, bytes.Equal(content, readContent(t, s)))
			assert.Empty(t, tb.pendingUploads(t))
		})
	}
}

func TestUploadEmpty(t *testing.T) {
	for _, uc := range uploadCases() {
		t.Run(uc.name, func(t *testing.T) {
			s, tb := uc.open(t)
			a := begin(t, s)
			a.finish()
			assert.Empty(t, readContent(t, s))
			assert.Empty(t, leftUnder(t, tb))
		})
	}
}

// A crash after an append wrote its bytes, before its result was saved:
// the caller hands back the state before it, and the upload goes on from
// there, whatever the lost append left.
func TestUploadResumesAfterCrash(t *testing.T) {
	for _, uc := range uploadCases() {
		t.Run(uc.name, func(t *testing.T) {
			s, tb := uc.open(t)
			first := randomBytes(2, 300_001)
			lost := randomBytes(3, 600_000)
			next := randomBytes(4, 123_457)
			last := randomBytes(5, 99)
			a := begin(t, s)
			a.append(first)
			_, err := s.Append(context.Background(), id, a.st, bytes.NewReader(lost), a.opts())
			require.NoError(t, err) // its result is not saved
			a.append(next)
			a.append(last)
			a.finish()
			want := append(append(append([]byte{}, first...), next...), last...)
			assert.True(t, bytes.Equal(want, readContent(t, s)))
			assert.Empty(t, leftUnder(t, tb))
		})
	}
}

// A crash in FinishUpload after the content was made, before the upload's
// keys were removed: FinishUpload again completes it.
func TestUploadFinishAfterCrash(t *testing.T) {
	for _, uc := range uploadCases() {
		t.Run(uc.name, func(t *testing.T) {
			s, tb := uc.open(t)
			content := randomBytes(6, 400_000)
			a := begin(t, s)
			a.append(content[:100_000])
			a.append(content[100_000:])
			if uc.mode == storage.ModeFile {
				require.NoError(t, os.MkdirAll(filepath.Join(tb.dir, "content"), 0o777))
				require.NoError(t, os.Rename(filepath.Join(tb.dir, "uploads", id, "data"), filepath.Join(tb.dir, "content", id)))
			} else {
				_, err := s.WriteContent(context.Background(), id, bytes.NewReader(content), nil)
				require.NoError(t, err)
			}
			a.finish()
			assert.True(t, bytes.Equal(content, readContent(t, s)))
			assert.Empty(t, leftUnder(t, tb))
		})
	}
}

func TestUploadChunkHashAndRollback(t *testing.T) {
	for _, uc := range uploadCases() {
		t.Run(uc.name, func(t *testing.T) {
			s, tb := uc.open(t)
			first := randomBytes(7, 500_000)
			second := randomBytes(8, 300_000)
			a := begin(t, s)
			a.append(first)

			// The client's checksum does not match: the append is rolled back.
			o := a.opts()
			o.ChunkHash = sha256.New()
			res, err := s.Append(context.Background(), id, a.st, bytes.NewReader(second), o)
			require.NoError(t, err)
			want := sha256.Sum256(second)
			assert.Equal(t, want[:], o.ChunkHash.Sum(nil), "the chunk hash saw exactly this append's bytes")
			require.NoError(t, s.Rollback(context.Background(), id, a.st, res))
			require.NoError(t, s.Rollback(context.Background(), id, a.st, res), "again")

			if got, ok := readUpload(t, s, a.st); ok {
				assert.True(t, bytes.Equal(first, got))
			}
			if uc.mode == storage.ModeFile {
				fi, err := os.Stat(filepath.Join(tb.dir, "uploads", id, "data"))
				require.NoError(t, err)
				assert.Equal(t, int64(len(first)), fi.Size())
			} else if uc.mode == storage.ModeMultipart {
				assert.Equal(t, tailKeys(a.st), keysUnder(t, tb), "only the first append's tail is left")
			} else {
				assert.Equal(t, []string{a.st.Chunks[0].Key(id)}, keysUnder(t, tb), "only the first chunk is left")
			}

			a.append(second)
			a.finish()
			assert.True(t, bytes.Equal(append(first, second...), readContent(t, s)))
			assert.Empty(t, leftUnder(t, tb))
		})
	}
}

func TestUploadTooLarge(t *testing.T) {
	for _, uc := range uploadCases() {
		t.Run(uc.name, func(t *testing.T) {
			s, tb := uc.open(t)
			const limit = 700_000
			content := randomBytes(9, limit+1)
			a := begin(t, s)
			a.append(content[:400_000])
			before := leftUnder(t, tb)
			o := a.opts()
			o.MaxBytes = limit
			res, err := s.Append(context.Background(), id, a.st, bytes.NewReader(content[400_000:]), o)
			require.ErrorIs(t, err, storage.ErrTooLarge)
			assert.Equal(t, a.st, res.State, "the result is the state given")
			assert.Equal(t, a.hash, res.Hash)
			assert.Equal(t, before, leftUnder(t, tb), "nothing past the state is left")

			res, err = s.Append(context.Background(), id, a.st, bytes.NewReader(content[400_000:limit]), o)
			require.NoError(t, err)
			a.save(res)
			assert.Equal(t, int64(limit), a.st.Size)
			o = a.opts()
			o.MaxBytes = limit
			_, err = s.Append(context.Background(), id, a.st, bytes.NewReader(content[limit:]), o)
			require.ErrorIs(t, err, storage.ErrTooLarge, "one more byte")
			a.finish()
			assert.True(t, bytes.Equal(content[:limit], readContent(t, s)))
		})
	}
}

// A request body cut off midway: with KeepPrefix what was read stays, and
// the upload goes on after it; without, nothing of the append stays.
func TestUploadCutReader(t *testing.T) {
	for _, uc := range uploadCases() {
		t.Run(uc.name, func(t *testing.T) {
			s, tb := uc.open(t)
			content := randomBytes(10, 2<<20)
			cut := errors.New("connection reset")
			a := begin(t, s)
			a.append(content[:1000])

			o := a.opts()
			res, err := s.Append(context.Background(), id, a.st,
				&failAfter{r: bytes.NewReader(content[1000:]), n: 600_001, err: cut}, o)
			require.ErrorIs(t, err, cut)
			assert.Equal(t, a.st, res.State)
			got, ok := readUpload(t, s, a.st)
			require.True(t, ok)
			assert.True(t, bytes.Equal(content[:1000], got))

			o.KeepPrefix = true
			res, err = s.Append(context.Background(), id, a.st,
				&failAfter{r: bytes.NewReader(content[1000:]), n: 600_001, err: cut}, o)
			require.ErrorIs(t, err, cut)
			assert.Equal(t, int64(600_001), res.N)
			a.save(res)

			// The end of the request's context keeps what was read too.
			ctx, cancel := context.WithCancel(context.Background())
			o = a.opts()
			o.KeepPrefix = true
			res, err = s.Append(ctx, id, a.st,
				&cancelAfter{r: bytes.NewReader(content[601_001:]), n: 300_000, cancel: cancel}, o)
			require.ErrorIs(t, err, context.Canceled)
			require.Positive(t, res.N)
			a.save(res)

			a.append(content[a.st.Size:])
			a.finish()
			assert.True(t, bytes.Equal(content, readContent(t, s)))
			assert.Empty(t, leftUnder(t, tb))
		})
	}
}

func TestUploadDiscard(t *testing.T) {
	for _, uc := range uploadCases() {
		t.Run(uc.name, func(t *testing.T) {
			s, tb := uc.open(t)
			a := begin(t, s)
			a.append(randomBytes(11, 300_000))
			a.append(randomBytes(12, 5))
			require.NotEmpty(t, leftUnder(t, tb))
			require.NoError(t, s.DiscardUpload(context.Background(), id, a.st))
			assert.Empty(t, leftUnder(t, tb))
			require.NoError(t, s.DiscardUpload(context.Background(), id, nil), "again, without a state")
			ok, err := s.Exists(context.Background(), id)
			require.NoError(t, err)
			assert.False(t, ok)
		})
	}
}

// A file shorter than the state says (lost bytes) fails the append, and
// so do states and hash states that do not belong together.
func TestUploadBadStates(t *testing.T) {
	s, tb := uploadCases()[0].open(t)
	a := begin(t, s)
	a.append(randomBytes(13, 1000))
	ctx := context.Background()

	_, err := s.Append(ctx, id, a.st, bytes.NewReader([]byte("x")), &storage.AppendOptions{})
	assert.ErrorIs(t, err, storage.ErrUploadState, "no hash state for 1000 bytes")
	other := a.opts()
	other.Hash = func() []byte {
		h := sha256.New()
		h.Write([]byte("abc"))
		b, _ := h.(encoding.BinaryMarshaler).MarshalBinary()
		return b
	}()
	_, err = s.Append(ctx, id, a.st, bytes.NewReader([]byte("x")), other)
	assert.ErrorIs(t, err, storage.ErrUploadState, "a hash state at another offset")
	_, err = s.Append(ctx, "../x", a.st, bytes.NewReader(nil), a.opts())
	assert.ErrorIs(t, err, storage.ErrUploadState)
	mem := storage.New(memblob.OpenBucket(nil))
	_, err = mem.Append(ctx, id, a.st, bytes.NewReader(nil), a.opts())
	assert.ErrorIs(t, err, storage.ErrUploadState, "a file state on a chunks Store")

	require.NoError(t, os.Truncate(filepath.Join(tb.dir, "uploads", id, "data"), 999))
	_, err = s.Append(ctx, id, a.st, bytes.NewReader([]byte("x")), a.opts())
	assert.ErrorIs(t, err, storage.ErrUploadLost)
	assert.ErrorIs(t, s.FinishUpload(ctx, id, a.st, nil), storage.ErrUploadLost)

	var st storage.UploadState
	for _, b := range [][]byte{nil, {1}, {2, 1, 0, 0}, {1, 9, 0, 0}, {1, 2, 5, 1, 4}, {1, 1, 5, 1, 5}, {1, 2, 5, 1, 5, 0}} {
		assert.ErrorIs(t, st.UnmarshalBinary(b), storage.ErrUploadState, "%v", b)
	}
	require.NoError(t, st.UnmarshalBinary([]byte{1, 2, 5, 2, 2, 3}))
	assert.Equal(t, storage.UploadState{Mode: storage.ModeChunks, Size: 5, Chunks: []storage.Chunk{{0, 2}, {2, 3}}}, st)
}

// A chunk changed behind the Store's back fails FinishUpload, which
// leaves no content.
func TestUploadFinishChecksChunks(t *testing.T) {
	b := memblob.OpenBucket(nil)
	s := storage.New(b)
	a := begin(t, s)
	a.append(randomBytes(14, 1000))
	a.append(randomBytes(15, 1000))
	require.NoError(t, b.WriteAll(context.Background(), a.st.Chunks[1].Key(id), randomBytes(16, 1000), nil))
	err := s.FinishUpload(context.Background(), id, a.st, &storage.FinishOptions{Hash: a.hash})
	require.ErrorIs(t, err, storage.ErrUploadLost)
	ok, err := s.Exists(context.Background(), id)
	require.NoError(t, err)
	assert.False(t, ok)
}

// Appending streams: twelve appends of 8 MiB allocate no more than
// twelve of 2 MiB, beyond slack. (Per append there is a little: the
// pipeline's goroutine and channels, the states; and a buffer set when a
// GC emptied the pool.)
func TestUploadMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("appends 120 MiB per Store; skipped with -short")
	}
	for _, uc := range uploadCases() {
		if uc.name == "mem" || uc.name == "s3" || uc.name == "mem-multipart" {
			continue // memblob holds content; s3blob's own buffers are WriteContent's test; the multipart mode has TestMultipartMemoryBounded
		}
		t.Run(uc.name, func(t *testing.T) {
			s, _ := uc.open(t)
			const appends = 12
			allocs := func(step int64) uint64 {
				t.Helper()
				require.NoError(t, s.DiscardUpload(context.Background(), id, nil))
				a := begin(t, s)
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				for range appends {
					res, err := s.Append(context.Background(), id, a.st, &patternReader{n: step}, a.opts())
					require.NoError(t, err)
					a.st, a.hash, a.md5Hash = res.State, res.Hash, res.MD5Hash
				}
				runtime.ReadMemStats(&after)
				require.Equal(t, appends*step, a.st.Size)
				return after.TotalAlloc - before.TotalAlloc
			}
			allocs(1 << 20) // warm pools
			small := allocs(2 << 20)
			large := allocs(8 << 20)
			t.Logf("allocated %d KiB for 12 x 2 MiB, %d KiB for 12 x 8 MiB", small>>10, large>>10)
			assert.Less(t, large, small+4<<20, "allocation grows with the appended size")
		})
	}
}

// BenchmarkUpload compares 256 MiB appended in 8 MiB appends (file mode,
// with the state marshaled after each, as a caller saves it) against one
// WriteContent of the same bytes.
func BenchmarkUpload(b *testing.B) {
	const size, step = 256 << 20, 8 << 20
	open := func(b *testing.B) *storage.Store {
		dir := b.TempDir()
		bkt, err := fileblob.OpenBucket(dir, &fileblob.Options{NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
		require.NoError(b, err)
		b.Cleanup(func() { _ = bkt.Close() })
		return storage.New(bkt, storage.FileDir(dir))
	}
	b.Run("append-8MiB", func(b *testing.B) {
		s := open(b)
		b.SetBytes(size)
		for b.Loop() {
			a := begin(b, s)
			for a.st.Size < size {
				res, err := s.Append(context.Background(), id, a.st, &patternReader{n: step}, &storage.AppendOptions{Hash: a.hash})
				require.NoError(b, err)
				_, err = res.State.MarshalBinary()
				require.NoError(b, err)
				a.st, a.hash = res.State, res.Hash
			}
			require.NoError(b, s.FinishUpload(context.Background(), id, a.st, &storage.FinishOptions{Hash: a.hash}))
		}
	})
	b.Run("write-content", func(b *testing.B) {
		s := open(b)
		b.SetBytes(size)
		for b.Loop() {
			_, err := s.WriteContent(context.Background(), id, &patternReader{n: size}, nil)
			require.NoError(b, err)
		}
	})
}
