package attachment

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
)

// No image is decoded beyond Options.Thumbnails.Workers at once: with every
// slot taken, a thumbnail request waits (here until its context ends)
// without decoding, and goes on once a slot is free.
func TestThumbnailDecodesAtOnceBounded(t *testing.T) {
	svc, err := New(storage.New(memblob.OpenBucket(nil)), memstore.New(),
		&Options{CommitTimeout: 200 * time.Millisecond, Processing: ProcessingOptions{NoImageProcessing: true}, Thumbnails: ThumbnailOptions{Workers: 2}})
	require.NoError(t, err)
	defer svc.Close()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, 300, 200))))
	ctx := context.Background()
	atts, err := svc.Upload(ctx, nil, File{Name: "g.png", Content: &buf})
	require.NoError(t, err)

	th := &svc.core.thumbs
	require.NoError(t, th.acquire(ctx))
	require.NoError(t, th.acquire(ctx))
	// Service.Thumbnail waits for a decoder until its context ends.
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err = svc.Thumbnail(short, atts[0].ID, 64)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Zero(t, th.made.Load(), "decoded with every slot taken")

	th.release()
	got, err := svc.Thumbnail(ctx, atts[0].ID, 64)
	require.NoError(t, err)
	got.Close()
	require.Equal(t, int64(1), th.made.Load())
	th.release()
}
