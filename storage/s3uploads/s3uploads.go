// Package s3uploads lists and aborts the incomplete multipart uploads of
// S3 buckets (gocloud.dev/blob/s3blob) for package storage: what a write
// cut off by a crash leaves on the server, which no listing of keys shows
// and which Service.Maintain aborts once stale.
//
// Import it for its side effect beside the S3 driver:
//
//	import (
//		_ "gocloud.dev/blob/s3blob"
//		_ "github.com/attachkit/attachment/storage/s3uploads"
//	)
//
// Its init registers Open with storage.RegisterMultipart, so every
// storage.Store over an S3 bucket finds it. It is a package of its own so
// that a program without S3 does not carry the AWS SDK.
package s3uploads

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"gocloud.dev/blob"

	"github.com/attachkit/attachment/storage"
)

func init() { storage.RegisterMultipart(Open) }

// Open returns the storage.Multipart of b, or nil when b is not an S3
// bucket (blob.Bucket.As finds no *s3.Client).
func Open(b *blob.Bucket) storage.Multipart {
	var client *s3.Client
	if !b.As(&client) {
		return nil
	}
	return &uploads{bucket: b, client: client}
}

// uploads is the storage.Multipart of one S3 bucket.
type uploads struct {
	bucket *blob.Bucket
	client *s3.Client
}

// Pending lists the uploads under the same key prefix on the server that
// the bucket's listing of prefix uses, so that a bucket opened with a key
// prefix of its own (s3://bucket?prefix=app/, or blob.PrefixedBucket)
// finds its own uploads only, never those of other keys in the bucket.
func (u *uploads) Pending(ctx context.Context, prefix string) iter.Seq2[storage.PendingUpload, error] {
	return func(yield func(storage.PendingUpload, error) bool) {
		name, full, err := u.s3Prefix(ctx, prefix)
		if err != nil {
			yield(storage.PendingUpload{}, err)
			return
		}
		in := &s3.ListMultipartUploadsInput{Bucket: aws.String(name), Prefix: aws.String(full)}
		for {
			out, err := u.client.ListMultipartUploads(ctx, in)
			if err != nil {
				yield(storage.PendingUpload{}, fmt.Errorf("s3uploads: list multipart uploads under %s: %w", prefix, err))
				return
			}
			for _, up := range out.Uploads {
				key := aws.ToString(up.Key)
				if !strings.HasPrefix(key, full) {
					continue
				}
				p := storage.PendingUpload{
					Key:       prefix + key[len(full):],
					Initiated: aws.ToTime(up.Initiated),
					ID:        aws.ToString(up.UploadId),
				}
				if !yield(p, nil) {
					return
				}
			}
			if !aws.ToBool(out.IsTruncated) {
				return
			}
			if aws.ToString(out.NextKeyMarker) == "" && aws.ToString(out.NextUploadIdMarker) == "" {
				return // a server that says "truncated" without saying where to go on
			}
			in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
		}
	}
}

// Abort aborts the upload, which deletes its parts. An upload already gone
// is no error.
func (u *uploads) Abort(ctx context.Context, up storage.PendingUpload) error {
	if up.Key == "" || up.ID == "" {
		return fmt.Errorf("s3uploads: abort the upload of %q: not an upload Pending yielded", up.Key)
	}
	name, key, err := u.s3Prefix(ctx, up.Key)
	if err != nil {
		return err
	}
	_, err = u.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(name), Key: aws.String(key), UploadId: aws.String(up.ID),
	})
	var gone *types.NoSuchUpload
	if err != nil && !errors.As(err, &gone) {
		return fmt.Errorf("s3uploads: abort the upload of %s: %w", up.Key, err)
	}
	return nil
}

// errPrefixFound stops the listing s3Prefix starts once it has what it
// needs, before any request is sent.
var errPrefixFound = errors.New("s3uploads: prefix found")

// s3Prefix returns the name of the S3 bucket under u.bucket and the key
// prefix on the server that the bucket's keys under prefix have: prefix
// behind the bucket's own key prefix, escaped as s3blob escapes keys. The
// driver tells both to a listing's BeforeList, which stops the listing
// before it is sent.
func (u *uploads) s3Prefix(ctx context.Context, prefix string) (name, full string, err error) {
	found := false
	before := func(as func(any) bool) error {
		var v2 *s3.ListObjectsV2Input
		var v1 *s3.ListObjectsInput
		switch {
		case as(&v2):
			name, full = aws.ToString(v2.Bucket), aws.ToString(v2.Prefix)
		case as(&v1):
			name, full = aws.ToString(v1.Bucket), aws.ToString(v1.Prefix)
		default:
			return nil
		}
		found = true
		return errPrefixFound
	}
	_, _, err = u.bucket.ListPage(ctx, blob.FirstPageToken, 1, &blob.ListOptions{Prefix: prefix, BeforeList: before})
	if !found {
		if err == nil {
			err = errors.New("the driver did not show its listing request")
		}
		return "", "", fmt.Errorf("s3uploads: find the S3 key prefix of %s: %w", prefix, err)
	}
	if name == "" || full == "" {
		return "", "", fmt.Errorf("s3uploads: find the S3 key prefix of %s: the listing request names no bucket or prefix", prefix)
	}
	return name, full, nil
}
