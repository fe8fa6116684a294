package storage_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
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

const id = "0193b1a2-0000-7000-8000-000000000001"

type bucketCase struct {
	name string
	open func(t *testing.T) testBucket
}

// testBucket is a bucket a test runs on.
type testBucket struct {
	*blob.Bucket
	dir string         // the directory of a fileblob bucket, else ""
	s3  *s3test.Bucket // the S3 bucket, else nil
	// fake is the MultipartWriter of a memblob bucket in multipart mode,
	// else nil.
	fake *fakeMultipart
	// url opens the same bucket with storage.Open, with the options it
	// was opened with; "" for mem, where every Open is a new bucket.
	url string
}

// buckets are the buckets every test runs on. The S3 one skips, with the
// reason, when no S3 server is configured.
func buckets() []bucketCase {
	return []bucketCase{
		{"file", func(t *testing.T) testBucket {
			dir := t.TempDir()
			b, err := fileblob.OpenBucket(dir, &fileblob.Options{NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
			require.NoError(t, err)
			return testBucket{Bucket: b, dir: dir, url: "file://" + dir + "?no_tmp_dir=1&metadata=skip"}
		}},
		{"file-default-options", func(t *testing.T) testBucket {
			dir := t.TempDir()
			b, err := fileblob.OpenBucket(dir, nil)
			require.NoError(t, err)
			return testBucket{Bucket: b, dir: dir, url: "file://" + dir}
		}},
		{"mem", func(t *testing.T) testBucket { return testBucket{Bucket: memblob.OpenBucket(nil)} }},
		{"s3", func(t *testing.T) testBucket {
			b := s3test.Open(t)
			return testBucket{Bucket: b.Bucket, s3: b, url: b.URL}
		}},
	}
}

// pendingUploads lists the incomplete multipart uploads of an S3 bucket.
func (tb testBucket) pendingUploads(t *testing.T) []string {
	if tb.fake != nil {
		return tb.fake.pending()
	}
	if tb.s3 == nil {
		return nil
	}
	return tb.s3.PendingUploads(t)
}

func keys(t *testing.T, b *blob.Bucket) []string {
	var out []string
	it := b.List(nil)
	for {
		o, err := it.Next(context.Background())
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		out = append(out, o.Key)
	}
}

// files lists every file under dir, temporary files included.
func files(t testing.TB, dir string) []string {
	if dir == "" {
		return nil
	}
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return err
	}))
	return out
}

func TestWriteAndRead(t *testing.T) {
	for _, bc := range buckets() {
		t.Run(bc.name, func(t *testing.T) {
			b := bc.open(t)
			s := storage.New(b.Bucket)
			// Sizes around the chunk size exercise the inline and the
			// pipelined hashing paths.
			for _, size := range []int{0, 1, 256<<10 - 1, 256 << 10, 256<<10 + 1, 3<<20 + 7} {
				content := make([]byte, size)
				for i := range content {
					content[i] = byte(i*31 + size)
				}
				res, err := s.WriteContent(context.Background(), id, bytes.NewReader(content), &storage.WriteOptions{MD5: true})
				require.NoError(t, err)
				assert.Equal(t, int64(size), res.Size)
				assert.Equal(t, sha256.Sum256(content), res.SHA256, "size %d", size)
				m := md5.Sum(content)
				assert.Equal(t, m[:], res.MD5)

				obj, err := s.OpenContent(context.Background(), id)
				require.NoError(t, err)
				got, err := io.ReadAll(obj)
				require.NoError(t, err)
				assert.True(t, bytes.Equal(content, got), "size %d", size)
				assert.Equal(t, int64(size), obj.Size())
				_, err = obj.Seek(0, io.SeekStart)
				require.NoError(t, err)
				require.NoError(t, obj.Close())
			}
		})
	}
}

func TestFileObjectOffersSendfile(t *testing.T) {
	b := buckets()[0].open(t)
	s := storage.New(b.Bucket)
	_, err := s.WriteContent(context.Background(), id, bytes.NewReader([]byte("abc")), nil)
	require.NoError(t, err)
	obj, err := s.OpenContent(context.Background(), id)
	require.NoError(t, err)
	defer obj.Close()
	_, err = obj.SyscallConn()
	assert.NoError(t, err, "a fileblob object exposes its file")

	mb := storage.New(memblob.OpenBucket(nil))
	_, err = mb.WriteContent(context.Background(), id, bytes.NewReader([]byte("abc")), nil)
	require.NoError(t, err)
	mobj, err := mb.OpenContent(context.Background(), id)
	require.NoError(t, err)
	defer mobj.Close()
	_, err = mobj.SyscallConn()
	assert.Error(t, err)
}

type failAfter struct {
	r   io.Reader
	n   int
	err error
}

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	if len(p) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

// multipartSize is past the size at which a write to S3 switches from one
// PUT to a multipart upload (one 8 MiB part; s3blob's was 16 MiB), so that
// failures on S3 leave uploaded parts that must be aborted.
const multipartSize = 24 << 20

func TestFailedWritesLeaveNothing(t *testing.T) {
	checkErr := errors.New("refused by check")
	type failCase struct {
		name string
		run  func(s *storage.Store, big []byte) error
		want error
	}
	cases := []failCase{
		{"reader fails midway", func(s *storage.Store, big []byte) error {
			_, err := s.WriteContent(context.Background(), id, &failAfter{r: bytes.NewReader(big), n: len(big) * 7 / 8, err: io.ErrUnexpectedEOF}, nil)
			return err
		}, io.ErrUnexpectedEOF},
		{"too large", func(s *storage.Store, big []byte) error {
			_, err := s.WriteContent(context.Background(), id, bytes.NewReader(big), &storage.WriteOptions{MaxBytes: int64(len(big)) * 7 / 8})
			return err
		}, storage.ErrTooLarge},
		{"too large by one byte", func(s *storage.Store, big []byte) error {
			_, err := s.WriteContent(context.Background(), id, bytes.NewReader(big[:101]), &storage.WriteOptions{MaxBytes: 100})
			return err
		}, storage.ErrTooLarge},
		{"check refuses", func(s *storage.Store, big []byte) error {
			_, err := s.WriteContent(context.Background(), id, bytes.NewReader(big), &storage.WriteOptions{Check: func(storage.WriteResult) error { return checkErr }})
			return err
		}, checkErr},
		{"digest mismatch", func(s *storage.Store, big []byte) error {
			want := sha256.Sum256([]byte("other content"))
			_, err := s.WriteContent(context.Background(), id, bytes.NewReader(big), &storage.WriteOptions{MD5: true, Check: func(r storage.WriteResult) error {
				if r.SHA256 != want {
					return checkErr
				}
				return nil
			}})
			return err
		}, checkErr},
		{"context cancelled midway", func(s *storage.Store, big []byte) error {
			ctx, cancel := context.WithCancel(context.Background())
			r := &cancelAfter{r: bytes.NewReader(big), n: len(big) * 7 / 8, cancel: cancel}
			_, err := s.WriteContent(ctx, id, r, nil)
			return err
		}, context.Canceled},
	}
	// Every driver kind (fileblob reads on the caller's goroutine and
	// commits on Close, memblob keeps content in memory, s3blob reads on a
	// goroutine of its own and aborts), given to New and opened by URL,
	// below and past s3blob's 16 MiB multipart threshold.
	for _, bc := range buckets() {
		for _, how := range []string{"New", "Open"} {
			for _, size := range []int{1 << 20, multipartSize} {
				big := bytes.Repeat([]byte("q"), size)
				for _, tc := range cases {
					t.Run(fmt.Sprintf("%s/%s/%dMiB/%s", bc.name, how, size>>20, tc.name), func(t *testing.T) {
						b := bc.open(t)
						s := storage.New(b.Bucket)
						if how == "Open" {
							if b.url == "" {
								t.Skip("no URL opens this bucket again")
							}
							var err error
							s, err = storage.Open(context.Background(), b.url)
							require.NoError(t, err)
							defer s.Close()
						}
						err := tc.run(s, big)
						require.Error(t, err)
						assert.ErrorIs(t, err, tc.want)
						assert.Empty(t, keys(t, b.Bucket))
						assert.Empty(t, files(t, b.dir), "no temporary or partial file is left")
						assert.Empty(t, b.pendingUploads(t), "no multipart upload is left")
						_, err = s.OpenContent(context.Background(), id)
						assert.ErrorIs(t, err, storage.ErrNotFound)
					})
				}
			}
		}
	}
}

type cancelAfter struct {
	r      io.Reader
	n      int
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.n <= 0 {
		c.cancel()
	}
	n, err := c.r.Read(p)
	c.n -= n
	return n, err
}

func TestDeleteRemovesDerivatives(t *testing.T) {
	for _, bc := range buckets() {
		t.Run(bc.name, func(t *testing.T) {
			b := bc.open(t)
			s := storage.New(b.Bucket)
			ctx := context.Background()
			other := "0193b1a2-0000-7000-8000-000000000002"
			for _, i := range []string{id, other} {
				_, err := s.WriteContent(ctx, i, bytes.NewReader([]byte("c")), nil)
				require.NoError(t, err)
				require.NoError(t, b.WriteAll(ctx, storage.DerivativePrefix(i)+"thumb-256.jpg", []byte("t"), nil))
			}
			ok, err := s.Exists(ctx, id)
			require.NoError(t, err)
			assert.True(t, ok)
			require.NoError(t, s.Delete(ctx, id))
			require.NoError(t, s.Delete(ctx, id), "deleting again is no error")
			ok, err = s.Exists(ctx, id)
			require.NoError(t, err)
			assert.False(t, ok)
			assert.ElementsMatch(t, []string{storage.ContentKey(other), storage.DerivativePrefix(other) + "thumb-256.jpg"}, keys(t, b.Bucket))
		})
	}
}

func TestOpenByURL(t *testing.T) {
	dir := t.TempDir()
	s, err := storage.Open(context.Background(), "file://"+dir+"?no_tmp_dir=1&metadata=skip")
	require.NoError(t, err)
	_, err = s.WriteContent(context.Background(), id, bytes.NewReader([]byte("x")), nil)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = storage.Open(context.Background(), "nope://x")
	assert.Error(t, err)
}

func TestOpenS3ByURL(t *testing.T) {
	b := s3test.Open(t)
	ctx := context.Background()
	s, err := storage.Open(ctx, b.URL)
	require.NoError(t, err)
	_, err = s.WriteContent(ctx, id, bytes.NewReader([]byte("by URL")), nil)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	got, err := b.ReadAll(ctx, storage.ContentKey(id))
	require.NoError(t, err)
	assert.Equal(t, "by URL", string(got), "under the test's prefix")
}

// Opening and closing objects must not leak them (a reference cycle
// through gocloud's finalized reader would never be collected).
func TestOpenDoesNotLeak(t *testing.T) {
	b := buckets()[0].open(t)
	s := storage.New(b.Bucket)
	ctx := context.Background()
	_, err := s.WriteContent(ctx, id, bytes.NewReader([]byte("abc")), nil)
	require.NoError(t, err)
	open := func(n int) {
		for i := 0; i < n; i++ {
			obj, err := s.OpenContent(ctx, id)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, obj)
			require.NoError(t, obj.Close())
		}
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	open(1000)
	before := heap()
	open(20000)
	after := heap()
	t.Logf("heap before %d KiB, after 20000 opens %d KiB", before>>10, after>>10)
	assert.Less(t, after, before+4<<20, "heap grows with every open")
}

// Objects seek and read as io.ReadSeeker says, as http.ServeContent uses
// them for ranges, on every bucket: S3 reads a range with a new GET.
func TestRangeReads(t *testing.T) {
	content := make([]byte, 3<<20+5)
	for i := range content {
		content[i] = byte(i*131 + i>>8)
	}
	size := int64(len(content))
	for _, bc := range buckets() {
		t.Run(bc.name, func(t *testing.T) {
			b := bc.open(t)
			s := storage.New(b.Bucket)
			_, err := s.WriteContent(context.Background(), id, bytes.NewReader(content), nil)
			require.NoError(t, err)
			obj, err := s.OpenContent(context.Background(), id)
			require.NoError(t, err)
			defer obj.Close()
			assert.Equal(t, size, obj.Size())
			if b.dir == "" {
				_, err := obj.SyscallConn()
				assert.Error(t, err, "no file to sendfile from: net/http reads through Read")
			}

			readAt := func(off int64, whence int, n int) []byte {
				t.Helper()
				_, err := obj.Seek(off, whence)
				require.NoError(t, err)
				got, err := io.ReadAll(io.LimitReader(obj, int64(n)))
				require.NoError(t, err)
				return got
			}
			assert.Equal(t, content[10:20], readAt(10, io.SeekStart, 10))
			assert.Equal(t, content[size-5:], readAt(-5, io.SeekEnd, 10), "a suffix")
			assert.Equal(t, content[1<<20:2<<20], readAt(1<<20, io.SeekStart, 1<<20), "across chunks")
			assert.Equal(t, content[2<<20+5:2<<20+10], readAt(5, io.SeekCurrent, 5), "relative to the last read")
			assert.Equal(t, content[:3], readAt(0, io.SeekStart, 3), "back to the start")

			// As http.ServeContent finds the size, then reads from 0.
			end, err := obj.Seek(0, io.SeekEnd)
			require.NoError(t, err)
			assert.Equal(t, size, end)
			all := readAt(0, io.SeekStart, len(content)+1)
			assert.True(t, bytes.Equal(content, all), "the whole content after seeking to the end and back")

			// At and past the end: no data and io.EOF, as for a file.
			for _, off := range []int64{size, size + 1, size + 1000} {
				readAt(0, io.SeekStart, 1) // from elsewhere: S3 needs a new GET
				pos, err := obj.Seek(off, io.SeekStart)
				require.NoError(t, err)
				assert.Equal(t, off, pos)
				n, err := obj.Read(make([]byte, 10))
				assert.Zero(t, n, "offset %d", off)
				assert.Equal(t, io.EOF, err, "offset %d", off)
			}
			_, err = obj.Seek(-1, io.SeekStart)
			assert.Error(t, err, "a negative offset")
			assert.Equal(t, content[7:9], readAt(7, io.SeekStart, 2), "usable after a bad seek")
		})
	}
}

// Empty content (an empty upload, the thumbnail marker) is an object like
// any other.
func TestEmptyObjects(t *testing.T) {
	for _, bc := range buckets() {
		t.Run(bc.name, func(t *testing.T) {
			b := bc.open(t)
			s := storage.New(b.Bucket)
			ctx := context.Background()
			res, err := s.WriteContent(ctx, id, bytes.NewReader(nil), &storage.WriteOptions{ContentType: "text/plain"})
			require.NoError(t, err)
			assert.Equal(t, sha256.Sum256(nil), res.SHA256)
			require.NoError(t, s.WriteDerivative(ctx, id, "thumb-64", nil, ""))

			for _, open := range []func() (*storage.Object, error){
				func() (*storage.Object, error) { return s.OpenContent(ctx, id) },
				func() (*storage.Object, error) { return s.OpenDerivative(ctx, id, "thumb-64") },
			} {
				obj, err := open()
				require.NoError(t, err)
				assert.Zero(t, obj.Size())
				end, err := obj.Seek(0, io.SeekEnd)
				require.NoError(t, err)
				assert.Zero(t, end)
				_, err = obj.Seek(0, io.SeekStart)
				require.NoError(t, err)
				n, err := obj.Read(make([]byte, 10))
				assert.Zero(t, n)
				assert.Equal(t, io.EOF, err)
				require.NoError(t, obj.Close())
			}
			require.NoError(t, s.Delete(ctx, id))
			assert.Empty(t, keys(t, b.Bucket))
		})
	}
}

// Derivatives are read back as written, a missing one is ErrNotFound, and
// the content types given are recorded where the bucket keeps them.
func TestDerivatives(t *testing.T) {
	for _, bc := range buckets() {
		t.Run(bc.name, func(t *testing.T) {
			b := bc.open(t)
			s := storage.New(b.Bucket)
			ctx := context.Background()
			thumb := bytes.Repeat([]byte{0xFF, 0xD8, 1, 2}, 1000)
			require.NoError(t, s.WriteDerivative(ctx, id, "thumb-256", thumb, "image/jpeg"))
			_, err := s.WriteContent(ctx, id, bytes.NewReader([]byte("%PDF-1.4")), &storage.WriteOptions{ContentType: "application/pdf"})
			require.NoError(t, err)

			obj, err := s.OpenDerivative(ctx, id, "thumb-256")
			require.NoError(t, err)
			got, err := io.ReadAll(obj)
			require.NoError(t, err)
			require.NoError(t, obj.Close())
			assert.True(t, bytes.Equal(thumb, got))

			_, err = s.OpenDerivative(ctx, id, "thumb-64")
			assert.ErrorIs(t, err, storage.ErrNotFound)
			_, err = s.OpenContent(ctx, "0193b1a2-0000-7000-8000-00000000ffff")
			assert.ErrorIs(t, err, storage.ErrNotFound)
			assert.Error(t, s.WriteDerivative(ctx, id, "a/b", nil, ""), "a name with a slash")

			if bc.name == "file" {
				return // metadata=skip: no content types kept
			}
			for key, want := range map[string]string{
				storage.DerivativeKey(id, "thumb-256"): "image/jpeg",
				storage.ContentKey(id):                 "application/pdf",
			} {
				attrs, err := b.Attributes(ctx, key)
				require.NoError(t, err)
				assert.Equal(t, want, attrs.ContentType, key)
			}
		})
	}
}

// patternReader yields n bytes of a repeated block without holding them.
type patternReader struct{ n int64 }

var patternBlock = func() []byte {
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = byte(i*7 + i>>9)
	}
	return b
}()

func (r *patternReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	n := 0
	for n < len(p) {
		n += copy(p[n:], patternBlock)
	}
	r.n -= int64(n)
	return n, nil
}

// A large write streams: it allocates no more for 96 MiB than for 32 MiB
// (both multipart uploads on S3), beyond a little per part. On S3 the
// writes share the Store's part buffers (s3blob's uploader allocated
// about 64 MiB per multipart upload); content held in memory would add
// the 64 MiB of difference.
func TestLargeWriteMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 160 MiB per bucket; skipped with -short")
	}
	for _, bc := range buckets() {
		t.Run(bc.name, func(t *testing.T) {
			if bc.name == "mem" {
				t.Skip("memblob keeps content in memory")
			}
			b := bc.open(t)
			s := storage.New(b.Bucket)
			allocs := func(size int64) uint64 {
				t.Helper()
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				res, err := s.WriteContent(context.Background(), id, &patternReader{n: size}, nil)
				runtime.ReadMemStats(&after)
				require.NoError(t, err)
				require.Equal(t, size, res.Size)
				return after.TotalAlloc - before.TotalAlloc
			}
			allocs(multipartSize) // warm pools
			small := allocs(32 << 20)
			large := allocs(96 << 20)
			t.Logf("allocated %d KiB for 32 MiB, %d KiB for 96 MiB", small>>10, large>>10)
			assert.Less(t, large, small+8<<20, "allocation grows with the content's size")
			attrs, err := b.Attributes(context.Background(), storage.ContentKey(id))
			require.NoError(t, err)
			assert.Equal(t, int64(96<<20), attrs.Size)
		})
	}
}
