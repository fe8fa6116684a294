// Package s3uploads lists and aborts the incomplete multipart uploads of
// S3 buckets (gocloud.dev/blob/s3blob) for package storage: what a write
// cut off by a crash leaves on the server, which no listing of keys shows
// and which Service.Maintain aborts once stale. It also writes them
// (storage.MultipartWriter), for the resumable uploads of
// storage.ModeMultipart, and puts and deletes whole objects
// (storage.ObjectWriter), for the Store's writes and deletes.
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
	"io"
	"iter"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"gocloud.dev/blob"

	"github.com/attachkit/attachment/storage"
)

func init() { storage.RegisterMultipart(Open) }

// uploads writes multipart uploads and whole objects too
// (storage.ObjectWriter).
var _ storage.ObjectWriter = (*uploads)(nil)

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

// target is where, and how, the bucket's driver would write a key.
type target struct {
	name, key string // the S3 bucket's name and the key on the server
	// sse and kmsKeyID are the server-side encryption the bucket was
	// opened with (s3blob's ssetype and kmskeyid), if any.
	sse      types.ServerSideEncryption
	kmsKeyID *string
}

// errTargetFound stops the writer writeTarget opens before any request is
// sent.
var errTargetFound = errors.New("s3uploads: target found")

// writeTarget returns the target of key: what the bucket's driver puts in
// its own upload of key, which it shows to the BeforeWrite of a writer
// that is stopped there, before any request. The key goes behind the
// bucket's key prefix and is escaped as s3blob escapes keys; the
// encryption settings make Put and Create write as the driver would.
func (u *uploads) writeTarget(ctx context.Context, key string) (target, error) {
	var t target
	found := false
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := u.bucket.NewWriter(wctx, key, &blob.WriterOptions{
		ContentType: "application/octet-stream",
		BeforeWrite: func(as func(any) bool) error {
			var in *transfermanager.UploadObjectInput
			if !as(&in) {
				return nil
			}
			t = target{
				name: aws.ToString(in.Bucket), key: aws.ToString(in.Key),
				sse: types.ServerSideEncryption(in.ServerSideEncryption), kmsKeyID: in.SSEKMSKeyID,
			}
			found = true
			return errTargetFound
		},
	})
	if err == nil {
		// A driver that opened a writer after all: end it with its
		// context cancelled, so that it writes nothing.
		cancel()
		_ = w.Close()
		err = errors.New("the driver did not show its upload")
	}
	if !found {
		return target{}, fmt.Errorf("s3uploads: find the S3 key of %s: %w", key, err)
	}
	if t.name == "" || t.key == "" {
		return target{}, fmt.Errorf("s3uploads: find the S3 key of %s: the upload names no bucket or key", key)
	}
	return t, nil
}

// Limits returns S3's bounds on parts.
func (u *uploads) Limits() storage.MultipartLimits {
	return storage.MultipartLimits{MinPartSize: 5 << 20, MaxPartSize: 5 << 30, MaxParts: 10_000}
}

// Create starts a multipart upload of key.
func (u *uploads) Create(ctx context.Context, key, contentType string) (string, error) {
	t, err := u.writeTarget(ctx, key)
	if err != nil {
		return "", err
	}
	in := &s3.CreateMultipartUploadInput{
		Bucket: aws.String(t.name), Key: aws.String(t.key),
		ServerSideEncryption: t.sse, SSEKMSKeyId: t.kmsKeyID,
	}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	out, err := u.client.CreateMultipartUpload(ctx, in)
	if err != nil {
		return "", fmt.Errorf("s3uploads: start the upload of %s: %w", key, err)
	}
	if aws.ToString(out.UploadId) == "" {
		return "", fmt.Errorf("s3uploads: start the upload of %s: the server returned no upload ID", key)
	}
	return aws.ToString(out.UploadId), nil
}

// UploadPart uploads one part; the SDK seeks body back to retry.
func (u *uploads) UploadPart(ctx context.Context, key, uploadID string, number int32, body io.ReadSeeker, size int64) (storage.Part, error) {
	name, full, err := u.s3Prefix(ctx, key)
	if err != nil {
		return storage.Part{}, err
	}
	out, err := u.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String(name), Key: aws.String(full), UploadId: aws.String(uploadID),
		PartNumber: aws.Int32(number), Body: body, ContentLength: aws.Int64(size),
	})
	if err != nil {
		return storage.Part{}, fmt.Errorf("s3uploads: upload part %d of %s: %w", number, key, err)
	}
	if aws.ToString(out.ETag) == "" {
		return storage.Part{}, fmt.Errorf("s3uploads: upload part %d of %s: the server returned no ETag", number, key)
	}
	return storage.Part{Number: number, Size: size, ETag: aws.ToString(out.ETag), CRC32: aws.ToString(out.ChecksumCRC32)}, nil
}

// Complete completes the upload with the parts. An upload the server no
// longer knows whose key exists was completed before: no error.
func (u *uploads) Complete(ctx context.Context, key, uploadID string, parts []storage.Part) error {
	name, full, err := u.s3Prefix(ctx, key)
	if err != nil {
		return err
	}
	done := make([]types.CompletedPart, len(parts))
	for i, p := range parts {
		done[i] = types.CompletedPart{PartNumber: aws.Int32(p.Number), ETag: aws.String(p.ETag)}
		if p.CRC32 != "" {
			done[i].ChecksumCRC32 = aws.String(p.CRC32)
		}
	}
	_, err = u.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(name), Key: aws.String(full), UploadId: aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	})
	if err != nil && isCode(err, "NoSuchUpload") {
		_, herr := u.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(name), Key: aws.String(full)})
		if herr == nil {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("s3uploads: complete the upload of %s: %w", key, err)
	}
	return nil
}

// Put makes key hold the size bytes of body in one PutObject request.
func (u *uploads) Put(ctx context.Context, key, contentType string, body io.ReadSeeker, size int64) error {
	t, err := u.writeTarget(ctx, key)
	if err != nil {
		return err
	}
	in := &s3.PutObjectInput{
		Bucket: aws.String(t.name), Key: aws.String(t.key), Body: body, ContentLength: aws.Int64(size),
		ServerSideEncryption: t.sse, SSEKMSKeyId: t.kmsKeyID,
	}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	if _, err := u.client.PutObject(ctx, in); err != nil {
		return fmt.Errorf("s3uploads: put %s: %w", key, err)
	}
	return nil
}

// Delete deletes key in one DeleteObject request, which succeeds for a
// key already gone: no HeadObject first, as s3blob's Delete sends to
// report a missing key.
func (u *uploads) Delete(ctx context.Context, key string) error {
	name, full, err := u.s3Prefix(ctx, key)
	if err != nil {
		return err
	}
	_, err = u.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: aws.String(full)})
	if err != nil && !isCode(err, "NoSuchKey") {
		return fmt.Errorf("s3uploads: delete %s: %w", key, err)
	}
	return nil
}

// isCode reports whether err is the S3 error with the code.
func isCode(err error, code string) bool {
	var api interface{ ErrorCode() string }
	return errors.As(err, &api) && api.ErrorCode() == code
}
