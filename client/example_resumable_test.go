package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/client"
	"github.com/attachkit/attachment/resumable"
	"github.com/attachkit/attachment/wire"
)

// A resumable upload (tus 1.0.0) in chunks: OnCreate keeps the upload's
// URL, and after a crash UploadResumable with that URL goes on from the
// server's offset. The server needs HandlerOptions.Uploads.
func ExampleClient_UploadResumable() {
	base, stop := startServer(&attachment.HandlerOptions{Uploads: resumable.New(nil)})
	defer stop()
	c, _ := client.New(base, nil)
	content := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB

	// The first attempt stops right after the server created the upload
	// (a crash, say); its URL was kept.
	var saved string
	ctx, crash := context.WithCancel(context.Background())
	_, err := c.UploadResumable(ctx, client.File{Name: "video.bin", Content: bytes.NewReader(content)},
		&client.ResumableOptions{
			Owner:    "document:42",
			OnCreate: func(uploadURL string) { saved = uploadURL; crash() },
		})
	fmt.Println(errors.Is(err, context.Canceled))
	offset, length, _ := c.UploadOffset(context.Background(), saved)
	fmt.Println(offset, length)

	// Later: the same content, the saved URL.
	a, err := c.UploadResumable(context.Background(), client.File{Name: "video.bin", Content: bytes.NewReader(content)},
		&client.ResumableOptions{
			URL:       saved,
			ChunkSize: 256 << 10,
			Progress: func(acked, total int64) {
				if acked%(256<<10) == 0 {
					fmt.Printf("%d/%d\n", acked, total)
				}
			},
		})
	if err != nil {
		panic(err)
	}
	fmt.Println(a.Filename, a.Size, a.Owner)

	// An upload not wanted any more is cancelled: its URL is then unknown.
	ctx, crash = context.WithCancel(context.Background())
	_, _ = c.UploadResumable(ctx, client.File{Name: "other.bin", Content: bytes.NewReader(content)},
		&client.ResumableOptions{OnCreate: func(uploadURL string) { saved = uploadURL; crash() }})
	if err := c.CancelUpload(context.Background(), saved); err != nil {
		panic(err)
	}
	_, _, err = c.UploadOffset(context.Background(), saved)
	fmt.Println(errors.Is(err, wire.ErrNotFound))
	// Output:
	// true
	// 0 1048576
	// 0/1048576
	// 262144/1048576
	// 524288/1048576
	// 786432/1048576
	// 1048576/1048576
	// video.bin 1048576 document:42
	// true
}
