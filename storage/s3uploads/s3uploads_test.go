package s3uploads_test

import (
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
