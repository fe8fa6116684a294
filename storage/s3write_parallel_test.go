package storage_test

import (
	"bytes"
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/memblob"
	"gocloud.dev/gcerrors"

	"github.com/attachkit/attachment/storage"
)

// fakeObjects is fakeMultipart with whole-object puts and deletes: a
// storage.ObjectWriter, as S3's is.
type fakeObjects struct{ *fakeMultipart }

func (f fakeObjects) Put(ctx context.Context, key, contentType string, body io.ReadSeeker, size int64) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	return f.b.WriteAll(ctx, key, b, nil)
}

func (f fakeObjects) Delete(ctx context.Context, key string) error {
	if err := f.b.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return err
	}
	return nil
}

// countingSource counts the bytes read from it.
type countingSource struct {
	r    io.Reader
	read atomic.Int64
}

func (c *countingSource) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// A write through an ObjectWriter uploads two parts at once (the
// default), and holds no more than two part buffers: while both are
// uploading it reads nothing more of its source. Once they finish it goes
// on, and the object is the content.
func TestWriteObjectTwoPartsInFlight(t *testing.T) {
	const part = 1 << 20
	require.Equal(t, 2, storage.WriteInFlight(), "the documented default")
	defer storage.SetWriteParts(part, 2)()
	b := memblob.OpenBucket(nil)
	t.Cleanup(func() { _ = b.Close() })
	fake := newFakeMultipart(b, storage.MultipartLimits{MinPartSize: part, MaxPartSize: 4 * part, MaxParts: 100}, true)
	fake.uploading, fake.release = make(chan struct{}), make(chan struct{})
	s := storage.New(b, storage.WithMultipart(fakeObjects{fake}))

	content := bytes.Repeat([]byte("0123456789abcdef"), 5*part/16+7) // 5 parts and a bit
	src := &countingSource{r: bytes.NewReader(content)}
	done := make(chan error, 1)
	go func() {
		_, err := s.WriteContent(context.Background(), id, src, nil)
		done <- err
	}()

	for range 2 {
		select {
		case <-fake.uploading:
		case <-time.After(10 * time.Second):
			t.Fatal("two parts did not upload at once")
		}
	}
	// Both parts are uploading: the write must not take a third buffer,
	// so nothing past them is read. (Were it to, it would have done so
	// within this wait.)
	time.Sleep(100 * time.Millisecond)
	require.Equal(t, int64(2*part), src.read.Load(), "read past the two parts in flight")

	stop := make(chan struct{})
	defer close(stop)
	go func() { // release the two, and every part after them
		for {
			select {
			case fake.release <- struct{}{}:
			case <-fake.uploading:
			case <-stop:
				return
			}
		}
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("the write did not end")
	}
	got, err := b.ReadAll(context.Background(), storage.ContentKey(id))
	require.NoError(t, err)
	require.True(t, bytes.Equal(content, got), "the object is not the content")
	require.Empty(t, fake.pending(), "a multipart upload left pending")
}
