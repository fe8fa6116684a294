package storage

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"gocloud.dev/blob"
)

// PendingUpload is an incomplete multipart upload: started under one of
// the Store's prefixes, neither completed nor aborted. Its parts stay on
// the server (and on the bill) until it is aborted, and no listing of keys
// shows it. A write cut off by a crash leaves one on S3, where the
// driver had no chance to abort it.
type PendingUpload struct {
	// Key is the key the upload was writing, as the Store names it
	// (ContentKey(id), or a derivative's key).
	Key string
	// Initiated is when the upload was started, by the server's clock.
	Initiated time.Time

	client        *s3.Client
	bucket, s3Key string
	uploadID      string
}

// PendingUploads returns the incomplete multipart uploads under prefix
// (ContentPrefix or DerivativesPrefix), in key order. Only S3 buckets
// (gocloud.dev/blob/s3blob, reached through blob.Bucket.As) have them;
// for any other bucket it yields nothing. The iteration stops at the
// first error, which it yields.
//
// The uploads are listed under the same key prefix the bucket's listing
// of prefix uses, so that a bucket opened with a key prefix of its own
// (s3://bucket?prefix=app/, or blob.PrefixedBucket) finds its own uploads
// only, never those of other keys in the bucket.
func (s *Store) PendingUploads(ctx context.Context, prefix string) iter.Seq2[PendingUpload, error] {
	return func(yield func(PendingUpload, error) bool) {
		var client *s3.Client
		if !s.bucket.As(&client) {
			return
		}
		name, full, err := s.s3Prefix(ctx, prefix)
		if err != nil {
			yield(PendingUpload{}, err)
			return
		}
		in := &s3.ListMultipartUploadsInput{Bucket: aws.String(name), Prefix: aws.String(full)}
		for {
			out, err := client.ListMultipartUploads(ctx, in)
			if err != nil {
				yield(PendingUpload{}, fmt.Errorf("storage: list multipart uploads under %s: %w", prefix, err))
				return
			}
			for _, up := range out.Uploads {
				key := aws.ToString(up.Key)
				if !strings.HasPrefix(key, full) {
					continue
				}
				p := PendingUpload{
					Key:       prefix + key[len(full):],
					Initiated: aws.ToTime(up.Initiated),
					client:    client, bucket: name, s3Key: key, uploadID: aws.ToString(up.UploadId),
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

// AbortUpload aborts a pending upload, which deletes its parts. An upload
// already gone (completed or aborted meanwhile) is no error.
func (s *Store) AbortUpload(ctx context.Context, up PendingUpload) error {
	if up.client == nil {
		return fmt.Errorf("storage: abort the upload of %s: not an upload PendingUploads returned", up.Key)
	}
	_, err := up.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(up.bucket), Key: aws.String(up.s3Key), UploadId: aws.String(up.uploadID),
	})
	var gone *types.NoSuchUpload
	if err != nil && !errors.As(err, &gone) {
		return fmt.Errorf("storage: abort the upload of %s: %w", up.Key, err)
	}
	return nil
}

// errPrefixFound stops the listing s3Prefix starts once it has what it
// needs, before any request is sent.
var errPrefixFound = errors.New("storage: prefix found")

// s3Prefix returns the name of the S3 bucket under s.bucket and the key
// prefix on the server that the bucket's keys under prefix have: prefix
// behind the bucket's own key prefix, escaped as s3blob escapes keys. The
// driver tells both to a listing's BeforeList, which stops the listing
// before it is sent.
func (s *Store) s3Prefix(ctx context.Context, prefix string) (name, full string, err error) {
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
	_, _, err = s.bucket.ListPage(ctx, blob.FirstPageToken, 1, &blob.ListOptions{Prefix: prefix, BeforeList: before})
	if !found {
		if err == nil {
			err = errors.New("the driver did not show its listing request")
		}
		return "", "", fmt.Errorf("storage: find the S3 key prefix of %s: %w", prefix, err)
	}
	if name == "" || full == "" {
		return "", "", fmt.Errorf("storage: find the S3 key prefix of %s: the listing request names no bucket or prefix", prefix)
	}
	return name, full, nil
}
