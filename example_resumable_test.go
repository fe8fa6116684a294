package attachment_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
)

// A resumable upload driven from Go: created with its length, appended in
// pieces (a wrong offset changes nothing), checked per piece, and
// committed by the last byte under the upload's ID.
func ExampleService_AppendUpload() {
	ctx := context.Background()
	svc, err := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(), nil)
	if err != nil {
		panic(err)
	}
	defer svc.Close()

	up, err := svc.CreateUpload(ctx, &attachment.NewUpload{
		File:    attachment.File{Name: "notes.txt"},
		Length:  11,
		Options: attachment.UploadOptions{CreatedBy: "alice"},
	})
	if err != nil {
		panic(err)
	}
	info, _ := svc.AppendUpload(ctx, up.ID, "alice", &attachment.AppendRequest{Offset: 0, Body: strings.NewReader("hello")})
	fmt.Println("offset", info.Offset)

	_, err = svc.AppendUpload(ctx, up.ID, "alice", &attachment.AppendRequest{Offset: 0, Body: strings.NewReader("hello")})
	fmt.Println(errors.Is(err, attachment.ErrOffsetMismatch))

	wrong := sha256.Sum256([]byte("not this"))
	_, err = svc.AppendUpload(ctx, up.ID, "alice", &attachment.AppendRequest{
		Offset: 5, Body: strings.NewReader(" world"),
		Checksum: &attachment.Checksum{Hash: sha256.New(), Sum: wrong[:]},
	})
	fmt.Println(errors.Is(err, attachment.ErrChunkMismatch))

	info, err = svc.AppendUpload(ctx, up.ID, "alice", &attachment.AppendRequest{Offset: 5, Body: strings.NewReader(" world")})
	if err != nil {
		panic(err)
	}
	fmt.Println(info.Attachment.ID == up.ID, info.Attachment.Filename, info.Attachment.Size)
	// Output:
	// offset 5
	// true
	// true
	// true notes.txt 11
}

// Parts of one file uploaded apart (in parallel, say) and joined.
func ExampleService_ConcatUploads() {
	ctx := context.Background()
	svc, err := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(), nil)
	if err != nil {
		panic(err)
	}
	defer svc.Close()

	var parts []string
	for _, p := range []string{"hello, ", "resumable ", "world"} {
		up, err := svc.CreateUpload(ctx, &attachment.NewUpload{
			Partial: true, Length: int64(len(p)),
			Options: attachment.UploadOptions{CreatedBy: "alice"},
		})
		if err != nil {
			panic(err)
		}
		if _, err := svc.AppendUpload(ctx, up.ID, "alice", &attachment.AppendRequest{Body: strings.NewReader(p)}); err != nil {
			panic(err)
		}
		parts = append(parts, up.ID)
	}
	info, err := svc.ConcatUploads(ctx, &attachment.NewUpload{
		File:    attachment.File{Name: "greeting.txt"},
		Options: attachment.UploadOptions{CreatedBy: "alice"},
	}, parts)
	if err != nil {
		panic(err)
	}
	fmt.Println(info.Attachment.Filename, info.Attachment.Size)
	_, err = svc.GetUpload(ctx, parts[0], "alice")
	fmt.Println(errors.Is(err, attachment.ErrNotFound))
	// Output:
	// greeting.txt 22
	// true
}
