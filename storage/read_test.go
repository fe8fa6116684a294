package storage_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/storage"
)

// A Store that knows its directory opens content files itself; keys that
// fileblob would escape go through fileblob, and none reaches outside the
// directory.
func TestOpenFileKeys(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "blobs")
	require.NoError(t, os.WriteFile(filepath.Join(root, "secret"), []byte("secret"), 0o600))
	s, err := storage.Open(t.Context(), "file://"+dir+"?create_dir=1&no_tmp_dir=1&metadata=skip")
	require.NoError(t, err)
	defer s.Close()
	_, err = s.WriteContent(t.Context(), id, bytes.NewReader([]byte("hello")), nil)
	require.NoError(t, err)

	obj, err := s.OpenContent(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, int64(5), obj.Size())
	assert.False(t, obj.ModTime().IsZero())
	head, err := obj.Peek(2)
	require.NoError(t, err)
	assert.Equal(t, "he", string(head))
	b, err := io.ReadAll(obj)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(b), "Peek does not move the offset")
	_, err = obj.SyscallConn()
	assert.NoError(t, err, "a local file, for sendfile")
	require.NoError(t, obj.Close())

	for _, bad := range []string{"../../secret", "../secret", "x/../../../secret", "", "."} {
		_, err := s.OpenContent(t.Context(), bad)
		assert.ErrorIs(t, err, storage.ErrNotFound, "%q", bad)
	}
	_, err = s.OpenContent(t.Context(), "0193b1a2-0000-7000-8000-000000000009")
	assert.ErrorIs(t, err, storage.ErrNotFound)
	// A directory is not content.
	_, err = s.OpenDerivative(t.Context(), "x", "")
	assert.Error(t, err)
}

// Peek on a streamed object keeps what it read: the Reads after it give
// the whole content, from the same reader, at any offset.
func TestPeekStream(t *testing.T) {
	for _, bc := range buckets() {
		for _, direct := range []bool{false, true} {
			name := bc.name
			if direct {
				name += "+FileDir"
			}
			t.Run(name, func(t *testing.T) {
				b := bc.open(t)
				if direct && b.dir == "" {
					t.Skip("not a local directory")
				}
				s := storage.New(b.Bucket)
				if direct {
					s = storage.New(b.Bucket, storage.FileDir(b.dir))
				}
				peekStream(t, s)
			})
		}
	}
}

func peekStream(t *testing.T, s *storage.Store) {
	content := bytes.Repeat([]byte("0123456789"), 1000)
	_, err := s.WriteContent(t.Context(), id, bytes.NewReader(content), nil)
	require.NoError(t, err)
	obj, err := s.OpenContent(t.Context(), id)
	require.NoError(t, err)
	defer obj.Close()
	head, err := obj.Peek(16)
	require.NoError(t, err)
	assert.Equal(t, content[:16], head)
	head, err = obj.Peek(4)
	require.NoError(t, err)
	assert.Equal(t, content[:4], head)
	p := make([]byte, 10)
	_, err = io.ReadFull(obj, p)
	require.NoError(t, err)
	assert.Equal(t, content[:10], p)
	_, err = obj.Seek(5000, io.SeekStart)
	require.NoError(t, err)
	_, err = io.ReadFull(obj, p)
	require.NoError(t, err)
	assert.Equal(t, content[5000:5010], p)
	_, err = obj.Seek(0, io.SeekStart)
	require.NoError(t, err)
	all, err := io.ReadAll(obj)
	require.NoError(t, err)
	assert.Equal(t, content, all)
	all, err = obj.Peek(1 << 20)
	require.NoError(t, err)
	assert.Equal(t, content, all, "Peek of more than there is gives it all")
}
