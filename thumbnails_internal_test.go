package attachment

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"io"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
)

// Concurrent requests for one thumbnail run one generation.
func TestThumbnailGeneratedOnce(t *testing.T) {
	svc, err := New(storage.New(memblob.OpenBucket(nil)), memstore.New(), &Options{Processing: ProcessingOptions{NoImageProcessing: true}})
	require.NoError(t, err)
	defer svc.Close()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, 2000, 1500))))
	ctx := context.Background()
	atts, err := svc.Upload(ctx, nil, File{Name: "g.png", Content: &buf})
	require.NoError(t, err)

	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			th, err := svc.Thumbnail(ctx, atts[0].ID, 128)
			if assert.NoError(t, err) {
				th.Close()
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(1), svc.core.thumbs.made.Load())
	th, err := svc.Thumbnail(ctx, atts[0].ID, 64)
	require.NoError(t, err)
	th.Close()
	assert.Equal(t, int64(2), svc.core.thumbs.made.Load(), "each size once")
}

// A thumbnail made from content opened before its attachment was deleted
// does not outlive it: the record is gone when the write lands, as when a
// Delete runs between the two, and make removes what it wrote. (Without
// that, the Delete's own removal of the derivatives has already run, and
// nothing would ever remove this one.)
func TestThumbnailOfDeletedAttachmentRemoved(t *testing.T) {
	bucket := memblob.OpenBucket(nil)
	meta := memstore.New()
	svc, err := New(storage.New(bucket), meta, &Options{Processing: ProcessingOptions{NoImageProcessing: true}})
	require.NoError(t, err)
	defer svc.Close()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, 300, 200))))
	ctx := context.Background()
	atts, err := svc.Upload(ctx, nil, File{Name: "g.png", Content: &buf})
	require.NoError(t, err)
	a := atts[0]

	// The Delete's first half: the record goes; the content is still there
	// for make to read.
	require.NoError(t, meta.Delete(ctx, a.Tenant, a.ID, true))
	err = svc.core.thumbs.make(ctx, a, 64)
	require.ErrorIs(t, err, ErrNotFound)
	it := bucket.List(nil)
	obj, err := it.Next(ctx)
	require.ErrorIs(t, err, io.EOF, "left in the bucket: %+v", obj)
}
