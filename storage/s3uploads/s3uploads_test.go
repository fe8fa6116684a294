package s3uploads_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment/internal/s3test"
	"github.com/attachkit/attachment/storage"
	"github.com/attachkit/attachment/storage/s3uploads"
)

// Buckets other than S3 have no multipart uploads to list.
func TestPendingUploadsNotS3(t *testing.T) {
	b := memblob.OpenBucket(nil)
	t.Cleanup(func() { b.Close() })
	st := storage.New(b)
	for _, err := range st.PendingUploads(t.Context(), storage.ContentPrefix) {
		t.Fatalf("yielded something: %v", err)
	}
	require.Error(t, st.AbortUpload(t.Context(), storage.PendingUpload{Key: "content/x"}))
	require.Nil(t, s3uploads.Open(b), "not an S3 bucket")
}

// On S3, PendingUploads finds the uploads under the Store's prefix (behind
// the bucket's own key prefix) and no others; AbortUpload aborts one, and
// an upload already gone is no error.
func TestPendingUploadsS3(t *testing.T) {
	b := s3test.Open(t)
	st := storage.New(b.Bucket) // finds s3uploads, registered by its import
	start := func(key string) {
		_, err := b.Client.CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: aws.String(b.Name), Key: aws.String(b.Prefix + key)})
		require.NoError(t, err)
	}
	start("content/0190a000-0000-7000-8000-000000000001")
	start("derived/0190a000-0000-7000-8000-000000000002/thumb-64")
	start("contentious/not-ours")
	// Outside the bucket's prefix: another app's, in the same bucket.
	other := "attachment-test/other-app-" + b.Prefix[len("attachment-test/"):] + "content/x"
	out, err := b.Client.CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: aws.String(b.Name), Key: aws.String(other)})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := b.Client.AbortMultipartUpload(context.Background(), &s3.AbortMultipartUploadInput{Bucket: aws.String(b.Name), Key: aws.String(other), UploadId: out.UploadId})
		require.NoError(t, err)
	})

	var found []storage.PendingUpload
	for _, prefix := range []string{storage.ContentPrefix, storage.DerivativesPrefix} {
		for up, err := range st.PendingUploads(t.Context(), prefix) {
			require.NoError(t, err)
			require.False(t, up.Initiated.IsZero())
			found = append(found, up)
		}
	}
	require.Len(t, found, 2)
	require.Equal(t, "content/0190a000-0000-7000-8000-000000000001", found[0].Key)
	require.Equal(t, "derived/0190a000-0000-7000-8000-000000000002/thumb-64", found[1].Key)
	for _, up := range found {
		require.NoError(t, st.AbortUpload(t.Context(), up))
		require.NoError(t, st.AbortUpload(t.Context(), up), "already aborted: no error")
	}
	require.Equal(t, []string{"contentious/not-ours"}, b.PendingUploads(t))
	for up, err := range st.PendingUploads(t.Context(), "contentious/") {
		require.NoError(t, err)
		require.NoError(t, st.AbortUpload(t.Context(), up))
	}
}

// The MultipartWriter: parts uploaded in any order of requests, a part
// replaced, one not listed; Complete makes the object, and again is no
// error.
func TestMultipartWriterS3(t *testing.T) {
	b := s3test.Open(t)
	m, ok := s3uploads.Open(b.Bucket).(storage.MultipartWriter)
	require.True(t, ok)
	lim := m.Limits()
	require.Equal(t, storage.MultipartLimits{MinPartSize: 5 << 20, MaxPartSize: 5 << 30, MaxParts: 10_000}, lim)
	ctx := t.Context()
	const key = "content/0190a000-0000-7000-8000-000000000003"
	uid, err := m.Create(ctx, key, "video/mp4")
	require.NoError(t, err)
	first := bytes.Repeat([]byte("a"), int(lim.MinPartSize))
	last := []byte("the end")
	upload := func(n int32, p []byte) storage.Part {
		part, err := m.UploadPart(ctx, key, uid, n, bytes.NewReader(p), int64(len(p)))
		require.NoError(t, err)
		require.Equal(t, n, part.Number)
		require.Equal(t, int64(len(p)), part.Size)
		require.NotEmpty(t, part.ETag)
		return part
	}
	upload(1, bytes.Repeat([]byte("x"), int(lim.MinPartSize))) // replaced below
	p1 := upload(1, first)
	upload(2, []byte("dropped: never listed"))
	p3 := upload(3, last)
	require.Equal(t, []string{key}, b.PendingUploads(t))
	require.NoError(t, m.Complete(ctx, key, uid, []storage.Part{p1, p3}))
	require.NoError(t, m.Complete(ctx, key, uid, []storage.Part{p1, p3}), "again")
	require.Empty(t, b.PendingUploads(t))
	got, err := b.ReadAll(ctx, key)
	require.NoError(t, err)
	require.True(t, bytes.Equal(append(first, last...), got))
	attrs, err := b.Attributes(ctx, key)
	require.NoError(t, err)
	require.Equal(t, "video/mp4", attrs.ContentType)
}
