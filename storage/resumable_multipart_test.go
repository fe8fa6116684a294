package storage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"iter"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment/internal/s3test"
	"github.com/attachkit/attachment/storage"
)

// readUpload reads the bytes st describes before FinishUpload; ok is
// false for a multipart upload with parts, which cannot be read yet.
func readUpload(t testing.TB, s *storage.Store, st *storage.UploadState) (got []byte, ok bool) {
	t.Helper()
	r, err := s.OpenUpload(context.Background(), id, st)
	if len(st.Parts) > 0 {
		require.ErrorIs(t, err, errors.ErrUnsupported)
		return nil, false
	}
	require.NoError(t, err)
	got, err = io.ReadAll(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	return got, true
}

// tailKeys is the key of st's tail, if it has one.
func tailKeys(st *storage.UploadState) []string {
	if st.Tail == nil {
		return nil
	}
	return []string{st.Tail.Key(id)}
}

// fakeMultipart is a storage.MultipartWriter over a memblob bucket, with
// the limits it is given, checked as S3 checks them. Without keep it
// keeps no part's bytes (the memory test), and Complete writes nothing.
type fakeMultipart struct {
	b    *blob.Bucket
	lim  storage.MultipartLimits
	keep bool
	// uploading, when set, is told of each UploadPart, which then waits
	// for release.
	uploading, release chan struct{}

	mu   sync.Mutex
	n    int
	ups  map[string]*fakeUpload
	done map[string]bool
}

type fakeUpload struct {
	key   string
	parts map[int32]fakePart
}

type fakePart struct {
	etag string
	data []byte
	size int64
}

func newFakeMultipart(b *blob.Bucket, lim storage.MultipartLimits, keep bool) *fakeMultipart {
	return &fakeMultipart{b: b, lim: lim, keep: keep, ups: map[string]*fakeUpload{}, done: map[string]bool{}}
}

func (f *fakeMultipart) pending() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []string
	for _, up := range f.ups {
		keys = append(keys, up.key)
	}
	slices.Sort(keys)
	return keys
}

func (f *fakeMultipart) Pending(ctx context.Context, prefix string) iter.Seq2[storage.PendingUpload, error] {
	f.mu.Lock()
	var out []storage.PendingUpload
	for uid, up := range f.ups {
		if strings.HasPrefix(up.key, prefix) {
			out = append(out, storage.PendingUpload{Key: up.key, ID: uid})
		}
	}
	f.mu.Unlock()
	return func(yield func(storage.PendingUpload, error) bool) {
		for _, up := range out {
			if !yield(up, nil) {
				return
			}
		}
	}
}

func (f *fakeMultipart) Abort(ctx context.Context, up storage.PendingUpload) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.ups, up.ID)
	return nil
}

func (f *fakeMultipart) Limits() storage.MultipartLimits { return f.lim }

func (f *fakeMultipart) Create(ctx context.Context, key, contentType string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
	uid := fmt.Sprintf("up-%d", f.n)
	f.ups[uid] = &fakeUpload{key: key, parts: map[int32]fakePart{}}
	return uid, nil
}

func (f *fakeMultipart) UploadPart(ctx context.Context, key, uid string, number int32, body io.ReadSeeker, size int64) (storage.Part, error) {
	if number < 1 || number > f.lim.MaxParts || size > f.lim.MaxPartSize {
		return storage.Part{}, fmt.Errorf("fake: part %d of %d bytes", number, size)
	}
	if f.uploading != nil {
		f.uploading <- struct{}{}
		<-f.release
	}
	p := fakePart{size: size}
	if f.keep {
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, body); err != nil {
			return storage.Part{}, err
		}
		p.data = buf.Bytes()
	} else if n, err := io.Copy(io.Discard, body); err != nil || n != size {
		return storage.Part{}, fmt.Errorf("fake: read %d bytes of %d: %v", n, size, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	up := f.ups[uid]
	if up == nil || up.key != key {
		return storage.Part{}, errors.New("fake: no such upload")
	}
	f.n++
	p.etag = fmt.Sprintf("etag-%d", f.n)
	up.parts[number] = p
	return storage.Part{Number: number, Size: size, ETag: p.etag}, nil
}

func (f *fakeMultipart) Complete(ctx context.Context, key, uid string, parts []storage.Part) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done[uid] {
		return nil
	}
	up := f.ups[uid]
	if up == nil || up.key != key || len(parts) == 0 {
		return errors.New("fake: no such upload")
	}
	var content []byte
	for i, p := range parts {
		got, ok := up.parts[p.Number]
		if !ok || got.etag != p.ETag || got.size != p.Size || (i > 0 && p.Number <= parts[i-1].Number) {
			return fmt.Errorf("fake: invalid part %d", p.Number)
		}
		if i < len(parts)-1 && p.Size < f.lim.MinPartSize {
			return fmt.Errorf("fake: part %d of %d bytes is too small", p.Number, p.Size)
		}
		content = append(content, got.data...)
	}
	if f.keep {
		if err := f.b.WriteAll(ctx, key, content, nil); err != nil {
			return err
		}
	}
	delete(f.ups, uid)
	f.done[uid] = true
	return nil
}

// multipartCases are the Stores in ModeMultipart: S3, and the fake with
// S3's limits.
func multipartCases() []uploadCase {
	return []uploadCase{
		{"mem-fake-s3-limits", storage.ModeMultipart, func(t testing.TB) (*storage.Store, testBucket) {
			b := memblob.OpenBucket(nil)
			fake := newFakeMultipart(b, storage.MultipartLimits{MinPartSize: 5 << 20, MaxPartSize: 5 << 30, MaxParts: 10_000}, true)
			return storage.New(b, storage.WithMultipart(fake)), testBucket{Bucket: b, fake: fake}
		}},
		{"s3", storage.ModeMultipart, func(t testing.TB) (*storage.Store, testBucket) {
			b := s3test.Open(t)
			return storage.New(b.Bucket), testBucket{Bucket: b.Bucket, s3: b}
		}},
	}
}

// nothingLeft asserts that no key under the upload's prefix and no
// pending multipart upload is left.
func nothingLeft(t *testing.T, s *storage.Store, tb testBucket) {
	t.Helper()
	assert.Empty(t, keysUnder(t, tb))
	assert.Empty(t, tb.pendingUploads(t))
	for up, err := range s.PendingUploads(context.Background(), storage.ContentPrefix) {
		require.NoError(t, err)
		t.Errorf("pending: %v", up)
	}
}

const mib = 1 << 20

// Appends of odd sizes crossing 5 MiB parts, an append lost to a crash
// (uploaded parts and a tail, its state never saved), a cut request kept,
// then FinishUpload: the content is exact, nothing is left.
func TestMultipartAppendsCrossParts(t *testing.T) {
	for _, uc := range multipartCases() {
		t.Run(uc.name, func(t *testing.T) {
			s, tb := uc.open(t)
			require.Equal(t, storage.ModeMultipart, s.UploadMode())
			content := randomBytes(20, 24*mib+12345)
			lost := randomBytes(21, 6*mib+5)
			sizes := []int{1, 3*mib + 7, 5*mib - 8, 777_777, 0, 6*mib + 1}
			a := begin(t, s)
			off := 0
			opts := func() *storage.AppendOptions {
				o := a.opts()
				o.PartSize, o.ContentType = 5*mib, "video/mp4"
				return o
			}
			appendSaved := func(p []byte) {
				t.Helper()
				res, err := s.Append(context.Background(), id, a.st, bytes.NewReader(p), opts())
				require.NoError(t, err)
				require.Equal(t, int64(len(p)), res.N)
				a.save(res)
			}
			for i, n := range sizes {
				appendSaved(content[off : off+n])
				off += n
				want := sha256.Sum256(content[:off])
				assert.Equal(t, want[:], sumOf(t, sha256.New().(hashState), a.hash))
				if a.st.Tail != nil {
					assert.Less(t, a.st.Tail.Size, int64(5*mib))
				}
				// The saved state's tail, and the one before it until the
				// next append (the caller might not have saved this state).
				assert.LessOrEqual(t, len(keysUnder(t, tb)), 2, "tails after append %d", i)
				if i == 2 {
					// A crash: this append's result is never saved.
					res, err := s.Append(context.Background(), id, a.st, bytes.NewReader(lost), opts())
					require.NoError(t, err)
					require.NotEmpty(t, res.State.Parts)
				}
			}
			assert.Len(t, a.st.Parts, 2) // of 14.7 MiB
			for _, p := range a.st.Parts[:len(a.st.Parts)-1] {
				assert.GreaterOrEqual(t, p.Size, int64(5*mib))
			}

			// A request cut off after 1.5 parts keeps what was read.
			o := opts()
			o.KeepPrefix = true
			cut := errors.New("connection reset")
			res, err := s.Append(context.Background(), id, a.st, &failAfter{r: bytes.NewReader(content[off:]), n: 7*mib + 3, err: cut}, o)
			require.ErrorIs(t, err, cut)
			require.Equal(t, int64(7*mib+3), res.N)
			a.save(res)
			off += int(res.N)
			appendSaved(content[off:])

			require.NoError(t, s.FinishUpload(context.Background(), id, a.st, &storage.FinishOptions{Hash: a.hash, ContentType: "video/mp4"}))
			assert.True(t, bytes.Equal(content, readContent(t, s)))
			nothingLeft(t, s, tb)
			require.NoError(t, s.FinishUpload(context.Background(), id, a.st, nil), "again")
			assert.True(t, bytes.Equal(content, readContent(t, s)))
			if tb.s3 != nil {
				attrs, err := tb.Attributes(context.Background(), storage.ContentKey(id))
				require.NoError(t, err)
				assert.Equal(t, "video/mp4", attrs.ContentType)
			}
		})
	}
}

// Rollback of an append that uploaded parts, and of one that started the
// multipart upload; an unsaved append that started one (a crash) before an
// upload finished with one PUT; DiscardUpload of an upload with parts.
func TestMultipartRollbackAndDiscard(t *testing.T) {
	for _, uc := range multipartCases() {
		t.Run(uc.name, func(t *testing.T) {
			s, tb := uc.open(t)
			ctx := context.Background()
			first := randomBytes(22, 1*mib+1)
			big := randomBytes(23, 6*mib)
			a := begin(t, s)
			a.append(first)
			require.Empty(t, a.st.Parts)

			// Rollback of the append that started the multipart upload.
			res, err := s.Append(ctx, id, a.st, bytes.NewReader(big), a.opts())
			require.NoError(t, err)
			require.NotEmpty(t, res.State.MultipartID)
			require.NotEmpty(t, tb.pendingUploads(t))
			require.NoError(t, s.Rollback(ctx, id, a.st, res))
			assert.Empty(t, tb.pendingUploads(t))
			assert.Equal(t, tailKeys(a.st), keysUnder(t, tb))

			// A crash after such an append: FinishUpload (one PUT) aborts
			// the upload it left.
			_, err = s.Append(ctx, id, a.st, bytes.NewReader(big), a.opts())
			require.NoError(t, err)
			require.NotEmpty(t, tb.pendingUploads(t))
			a.append([]byte("end"))
			a.finish()
			assert.True(t, bytes.Equal(append(append([]byte{}, first...), "end"...), readContent(t, s)))
			nothingLeft(t, s, tb)
			require.NoError(t, s.Delete(ctx, id))

			// Rollback of an append past parts: its parts are never
			// completed, its tail is deleted.
			a = begin(t, s)
			a.append(big)
			a.append(first)
			require.Len(t, a.st.Parts, 1)
			res, err = s.Append(ctx, id, a.st, bytes.NewReader(big), a.opts())
			require.NoError(t, err)
			require.Len(t, res.State.Parts, 2)
			require.NoError(t, s.Rollback(ctx, id, a.st, res))
			require.NoError(t, s.Rollback(ctx, id, a.st, res), "again")
			assert.Equal(t, tailKeys(a.st), keysUnder(t, tb))
			a.append([]byte("last"))
			a.finish()
			assert.True(t, bytes.Equal(append(append(append([]byte{}, big...), first...), "last"...), readContent(t, s)))
			nothingLeft(t, s, tb)
			require.NoError(t, s.Delete(ctx, id))

			// DiscardUpload of an upload with parts, and an unsaved append's.
			a = begin(t, s)
			a.append(big)
			_, err = s.Append(ctx, id, a.st, bytes.NewReader(big), a.opts())
			require.NoError(t, err)
			require.NoError(t, s.DiscardUpload(ctx, id, a.st))
			nothingLeft(t, s, tb)
			require.NoError(t, s.DiscardUpload(ctx, id, nil), "again, without a state")
			ok, err := s.Exists(ctx, id)
			require.NoError(t, err)
			assert.False(t, ok)
		})
	}
}

// hashState is a digest whose state can be loaded.
type hashState interface {
	UnmarshalBinary([]byte) error
	Sum([]byte) []byte
}

// The memory of an append is its part buffer, from the Store's pool,
// whatever the upload's size: twelve appends of 21 MiB (four parts of 5
// MiB each, and a tail) allocate no more than twelve of 6 MiB (one part),
// whose tails are the same. The fake keeps no part's bytes; S3's client
// streams them from the buffer.
func TestMultipartMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("appends 324 MiB per Store; skipped with -short")
	}
	cases := multipartCases()
	cases[0].open = func(t testing.TB) (*storage.Store, testBucket) {
		b := memblob.OpenBucket(nil)
		fake := newFakeMultipart(b, storage.MultipartLimits{MinPartSize: 5 << 20, MaxPartSize: 5 << 30, MaxParts: 10_000}, false)
		return storage.New(b, storage.WithMultipart(fake)), testBucket{Bucket: b, fake: fake}
	}
	for _, uc := range cases {
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
					o := a.opts()
					o.PartSize = 5 * mib
					res, err := s.Append(context.Background(), id, a.st, &patternReader{n: step}, o)
					require.NoError(t, err)
					a.st, a.hash, a.md5Hash = res.State, res.Hash, res.MD5Hash
				}
				runtime.ReadMemStats(&after)
				require.Equal(t, appends*step, a.st.Size)
				require.NoError(t, s.DiscardUpload(context.Background(), id, a.st))
				return after.TotalAlloc - before.TotalAlloc
			}
			allocs(6 * mib) // warm the pool
			small := allocs(6 * mib)
			large := allocs(21 * mib)
			t.Logf("allocated %d KiB for 12 x 6 MiB, %d KiB for 12 x 21 MiB", small>>10, large>>10)
			// S3's client allocates about 100 KiB per request it signs and
			// sends (garbage, not held): 36 parts more here.
			slack := uint64(4 * mib)
			if uc.name == "s3" {
				slack = 12 * mib
			}
			assert.Less(t, large, small+slack, "allocation grows with the appended size")
		})
	}
}

// PartBuffers bounds the buffers of all the Store's appends: with one,
// an append waits while another holds it, and gives up when its context
// ends, having written nothing.
func TestMultipartPartBuffers(t *testing.T) {
	b := memblob.OpenBucket(nil)
	fake := newFakeMultipart(b, storage.MultipartLimits{MinPartSize: 5 << 20, MaxPartSize: 5 << 30, MaxParts: 10_000}, true)
	fake.uploading, fake.release = make(chan struct{}, 8), make(chan struct{})
	s := storage.New(b, storage.WithMultipart(fake), storage.PartBuffers(1))
	content := randomBytes(24, 6*mib)
	done := make(chan storage.AppendResult)
	go func() {
		st, _ := s.BeginUpload(context.Background(), id)
		res, err := s.Append(context.Background(), id, st, bytes.NewReader(content), &storage.AppendOptions{PartSize: 5 * mib})
		assert.NoError(t, err)
		done <- res
	}()
	<-fake.uploading // the first append holds the one buffer

	const other = "0193b1a2-0000-7000-8000-000000000009"
	st, err := s.BeginUpload(context.Background(), other)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	res, err := s.Append(ctx, other, st, bytes.NewReader(content), &storage.AppendOptions{PartSize: 5 * mib})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, st, res.State)

	close(fake.release)
	first := <-done
	assert.Equal(t, int64(6*mib), first.State.Size)
	res, err = s.Append(context.Background(), other, st, bytes.NewReader(content), &storage.AppendOptions{PartSize: 5 * mib})
	require.NoError(t, err, "the buffer is free again")
	assert.Len(t, res.State.Parts, 1)
	require.NoError(t, s.DiscardUpload(context.Background(), id, first.State))
	require.NoError(t, s.DiscardUpload(context.Background(), other, res.State))
	assert.Empty(t, fake.pending())
}

// A ModeMultipart state marshals with all its fields (version 2) and back;
// malformed ones fail, and version 1 (file and chunks) is written as
// before.
func TestMultipartStateMarshal(t *testing.T) {
	st := &storage.UploadState{
		Mode: storage.ModeMultipart, Size: 10<<20 + 3, MultipartID: "up-1",
		Parts: []storage.Part{
			{Number: 1, Size: 5 << 20, ETag: `"a"`, CRC32: "AAAAAA=="},
			{Number: 3, Size: 5 << 20, ETag: `"b"`},
		},
		NextPart: 4, Tail: &storage.Tail{Name: "tail-0011223344556677", Size: 3},
	}
	b, err := st.MarshalBinary()
	require.NoError(t, err)
	assert.Equal(t, byte(2), b[0])
	saved(t, st)
	saved(t, &storage.UploadState{Mode: storage.ModeMultipart, Size: 3, Tail: &storage.Tail{Name: "tail-x", Size: 3}})
	saved(t, &storage.UploadState{Mode: storage.ModeMultipart})
	var out storage.UploadState
	for i := 1; i < len(b); i++ {
		assert.ErrorIs(t, out.UnmarshalBinary(b[:i]), storage.ErrUploadState, "cut at %d", i)
	}
	assert.ErrorIs(t, out.UnmarshalBinary(append(b, 0)), storage.ErrUploadState, "trailing byte")
	assert.ErrorIs(t, out.UnmarshalBinary([]byte{1, 3, 0, 0}), storage.ErrUploadState, "multipart in version 1")
	for _, bad := range []storage.UploadState{
		{Mode: storage.ModeMultipart, Size: 3, Tail: &storage.Tail{Name: "x", Size: 3}},
		{Mode: storage.ModeMultipart, Size: 3, Tail: &storage.Tail{Name: "tail-../x/y", Size: 3}},
		{Mode: storage.ModeMultipart, Size: 4, Tail: &storage.Tail{Name: "tail-x", Size: 3}},
		{Mode: storage.ModeMultipart, Size: 5, Parts: []storage.Part{{Number: 1, Size: 5, ETag: "e"}}, NextPart: 2},
		{Mode: storage.ModeMultipart, Size: 5, MultipartID: "u", Parts: []storage.Part{{Number: 1, Size: 5, ETag: "e"}}, NextPart: 1},
		{Mode: storage.ModeMultipart, Size: 5, MultipartID: "u", Parts: []storage.Part{{Number: 1, Size: 5}}, NextPart: 2},
		{Mode: storage.ModeChunks, MultipartID: "u"},
		{Mode: storage.ModeFile, Tail: &storage.Tail{Name: "tail-x", Size: 3}},
	} {
		_, err := bad.MarshalBinary()
		assert.ErrorIs(t, err, storage.ErrUploadState, "%+v", bad)
	}
	b, err = (&storage.UploadState{Mode: storage.ModeChunks, Size: 5, Chunks: []storage.Chunk{{0, 2}, {2, 3}}}).MarshalBinary()
	require.NoError(t, err)
	assert.Equal(t, []byte{1, 2, 5, 2, 2, 3}, b, "version 1 unchanged")
}

// A Store that writes multipart uploads goes on with one begun in chunks
// mode (before its bucket's Multipart could write), to its end.
func TestMultipartStoreTakesChunks(t *testing.T) {
	b := memblob.OpenBucket(nil)
	fake := newFakeMultipart(b, storage.MultipartLimits{MinPartSize: 5 << 20, MaxPartSize: 5 << 30, MaxParts: 10_000}, true)
	old := storage.New(b, storage.WithMultipart(nil))
	s := storage.New(b, storage.WithMultipart(fake))
	content := randomBytes(25, 7*mib)
	a := begin(t, old)
	require.Equal(t, storage.ModeChunks, a.st.Mode)
	a.append(content[:mib])
	a.s = s
	a.append(content[mib:])
	assert.Equal(t, storage.ModeChunks, a.st.Mode)
	a.finish()
	assert.True(t, bytes.Equal(content, readContent(t, s)))
	assert.Empty(t, keysUnder(t, testBucket{Bucket: b}))
	assert.Empty(t, fake.pending())
}

// Parts past MaxParts fail the append with ErrTooLarge, leaving the
// last number for the tail FinishUpload uploads.
func TestMultipartMaxParts(t *testing.T) {
	b := memblob.OpenBucket(nil)
	fake := newFakeMultipart(b, storage.MultipartLimits{MinPartSize: 1 << 10, MaxPartSize: 1 << 10, MaxParts: 3}, true)
	s := storage.New(b, storage.WithMultipart(fake))
	content := randomBytes(26, 3<<10)
	a := begin(t, s)
	_, err := s.Append(context.Background(), id, a.st, bytes.NewReader(content), a.opts())
	require.ErrorIs(t, err, storage.ErrTooLarge)
	assert.Empty(t, fake.pending(), "the upload it started is aborted")
	a.append(content[:2<<10+100])
	assert.Len(t, a.st.Parts, 2)
	a.finish()
	assert.True(t, bytes.Equal(content[:2<<10+100], readContent(t, s)))
	assert.Empty(t, fake.pending())
}
