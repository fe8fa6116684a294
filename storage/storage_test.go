package storage_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"errors"
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

	"github.com/attachkit/attachment/storage"
)

const id = "0193b1a2-0000-7000-8000-000000000001"

type bucketCase struct {
	name string
	open func(t *testing.T) (*blob.Bucket, string)
}

func buckets() []bucketCase {
	return []bucketCase{
		{"file", func(t *testing.T) (*blob.Bucket, string) {
			dir := t.TempDir()
			b, err := fileblob.OpenBucket(dir, &fileblob.Options{NoTempDir: true, Metadata: fileblob.MetadataDontWrite})
			require.NoError(t, err)
			return b, dir
		}},
		{"file-default-options", func(t *testing.T) (*blob.Bucket, string) {
			dir := t.TempDir()
			b, err := fileblob.OpenBucket(dir, nil)
			require.NoError(t, err)
			return b, dir
		}},
		{"mem", func(t *testing.T) (*blob.Bucket, string) { return memblob.OpenBucket(nil), "" }},
	}
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
func files(t *testing.T, dir string) []string {
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
			b, _ := bc.open(t)
			s := storage.New(b)
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
	b, _ := buckets()[0].open(t)
	s := storage.New(b)
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

func TestFailedWritesLeaveNothing(t *testing.T) {
	big := bytes.Repeat([]byte("q"), 1<<20)
	checkErr := errors.New("refused by check")
	cases := []struct {
		name string
		run  func(s *storage.Store) error
		want error
	}{
		{"reader fails midway", func(s *storage.Store) error {
			_, err := s.WriteContent(context.Background(), id, &failAfter{r: bytes.NewReader(big), n: 700 << 10, err: io.ErrUnexpectedEOF}, nil)
			return err
		}, io.ErrUnexpectedEOF},
		{"too large", func(s *storage.Store) error {
			_, err := s.WriteContent(context.Background(), id, bytes.NewReader(big), &storage.WriteOptions{MaxBytes: 600 << 10})
			return err
		}, storage.ErrTooLarge},
		{"too large by one byte", func(s *storage.Store) error {
			_, err := s.WriteContent(context.Background(), id, bytes.NewReader(big[:101]), &storage.WriteOptions{MaxBytes: 100})
			return err
		}, storage.ErrTooLarge},
		{"check refuses", func(s *storage.Store) error {
			_, err := s.WriteContent(context.Background(), id, bytes.NewReader(big), &storage.WriteOptions{Check: func(storage.WriteResult) error { return checkErr }})
			return err
		}, checkErr},
		{"context cancelled midway", func(s *storage.Store) error {
			ctx, cancel := context.WithCancel(context.Background())
			r := &cancelAfter{r: bytes.NewReader(big), n: 300 << 10, cancel: cancel}
			_, err := s.WriteContent(ctx, id, r, nil)
			return err
		}, nil},
	}
	for _, bc := range buckets() {
		for _, tc := range cases {
			t.Run(bc.name+"/"+tc.name, func(t *testing.T) {
				b, dir := bc.open(t)
				s := storage.New(b)
				err := tc.run(s)
				require.Error(t, err)
				if tc.want != nil {
					assert.ErrorIs(t, err, tc.want)
				}
				assert.Empty(t, keys(t, b))
				assert.Empty(t, files(t, dir), "no temporary or partial file is left")
				_, err = s.OpenContent(context.Background(), id)
				assert.ErrorIs(t, err, storage.ErrNotFound)
			})
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
			b, _ := bc.open(t)
			s := storage.New(b)
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
			assert.ElementsMatch(t, []string{storage.ContentKey(other), storage.DerivativePrefix(other) + "thumb-256.jpg"}, keys(t, b))
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

// Opening and closing objects must not leak them (a reference cycle
// through gocloud's finalized reader would never be collected).
func TestOpenDoesNotLeak(t *testing.T) {
	b, _ := buckets()[0].open(t)
	s := storage.New(b)
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
