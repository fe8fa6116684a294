package storage_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"
	"gocloud.dev/blob/s3blob"

	"github.com/attachkit/attachment/internal/s3test"
	"github.com/attachkit/attachment/storage"
)

// countingClient counts the requests an S3 client sends, by operation
// (see op), and passes them on.
type countingClient struct {
	next s3.HTTPClient
	// partDelay, when set, holds each UploadPart that long before it is
	// sent, so that parts a Store sends at once overlap for certain.
	partDelay time.Duration

	mu sync.Mutex
	n  map[string]int
	// parts is the UploadParts in progress; maxParts the most at once.
	parts, maxParts int
}

func (c *countingClient) Do(req *http.Request) (*http.Response, error) {
	kind := op(req)
	c.mu.Lock()
	c.n[kind]++
	if kind == "UploadPart" {
		c.parts++
		c.maxParts = max(c.maxParts, c.parts)
	}
	c.mu.Unlock()
	if kind == "UploadPart" {
		defer func() {
			c.mu.Lock()
			c.parts--
			c.mu.Unlock()
		}()
		time.Sleep(c.partDelay)
	}
	return c.next.Do(req)
}

// take returns the counts since the last take, as "OP×n" in order, and
// starts again from zero.
func (c *countingClient) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for k, v := range c.n {
		out = append(out, fmt.Sprintf("%s×%d", k, v))
	}
	sort.Strings(out)
	c.n = map[string]int{}
	return out
}

// op names the S3 operation of a request from its method and query.
func op(req *http.Request) string {
	q := req.URL.Query()
	switch {
	case req.Method == http.MethodPut && q.Has("partNumber"):
		return "UploadPart"
	case req.Method == http.MethodPost && q.Has("uploads"):
		return "CreateMultipartUpload"
	case req.Method == http.MethodPost && q.Has("uploadId"):
		return "CompleteMultipartUpload"
	case req.Method == http.MethodDelete && q.Has("uploadId"):
		return "AbortMultipartUpload"
	case req.Method == http.MethodPost && q.Has("delete"):
		return "DeleteObjects"
	case req.Method == http.MethodGet && q.Has("uploads"):
		return "ListMultipartUploads"
	case req.Method == http.MethodGet && (q.Has("list-type") || q.Has("prefix") || q.Has("delimiter")):
		return "ListObjects"
	case req.Method == http.MethodGet:
		return "GetObject"
	case req.Method == http.MethodHead:
		return "HeadObject"
	case req.Method == http.MethodPut:
		return "PutObject"
	case req.Method == http.MethodDelete:
		return "DeleteObject"
	}
	return req.Method + " " + req.URL.RawQuery
}

// countingS3 opens the test's S3 bucket (skipping without one) through a
// client whose requests are counted, with the test's key prefix.
func countingS3(t testing.TB) (*blob.Bucket, *countingClient) {
	t.Helper()
	tb := s3test.Open(t)
	cc := &countingClient{n: map[string]int{}}
	client := s3.New(tb.Client.Options(), func(o *s3.Options) {
		cc.next = o.HTTPClient
		o.HTTPClient = cc
	})
	raw, err := s3blob.OpenBucket(context.Background(), client, tb.Name, &s3blob.Options{
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
	})
	require.NoError(t, err)
	b := blob.PrefixedBucket(raw, tb.Prefix)
	t.Cleanup(func() { _ = b.Close() })
	return b, cc
}

// expect checks the requests counted since the last take.
func expect(t *testing.T, cc *countingClient, what string, want []string) {
	t.Helper()
	got := cc.take()
	t.Logf("%s: %v", what, got)
	assert.Equal(t, want, got, "requests to S3 for %s", what)
}

// TestS3Requests counts the requests each operation of a Store sends to
// S3, so that one more round trip shows as a failure. Before issue 15, a
// delete sent a HEAD before each DELETE (s3blob's, to report a missing
// key, which Delete ignores) and a 64 MiB write 13 parts of 5 MiB. Run it with an S3
// server (see s3test.SkipReason).
func TestS3Requests(t *testing.T) {
	b, cc := countingS3(t)
	s := storage.New(b)
	ctx := context.Background()
	cc.take()

	small := bytes.Repeat([]byte("x"), 4<<10)
	_, err := s.WriteContent(ctx, id, bytes.NewReader(small), nil)
	require.NoError(t, err)
	expect(t, cc, "write 4 KiB", []string{"PutObject×1"})

	large := bytes.Repeat([]byte("0123456789abcdef"), 64<<20/16)
	_, err = s.WriteContent(ctx, "large", bytes.NewReader(large), nil)
	require.NoError(t, err)
	expect(t, cc, "write 64 MiB", []string{"CompleteMultipartUpload×1", "CreateMultipartUpload×1", "UploadPart×8"})

	o, err := s.OpenContent(ctx, id)
	require.NoError(t, err)
	got, err := io.ReadAll(o)
	require.NoError(t, err)
	require.NoError(t, o.Close())
	require.Equal(t, small, got)
	expect(t, cc, "read 4 KiB", []string{"GetObject×1"})

	ok, err := s.Exists(ctx, id)
	require.NoError(t, err)
	require.True(t, ok)
	expect(t, cc, "exists", []string{"HeadObject×1"})

	n := 0
	for _, err := range s.Items(ctx, storage.ContentPrefix) {
		require.NoError(t, err)
		n++
	}
	require.Equal(t, 2, n)
	expect(t, cc, "list 2 items", []string{"ListObjects×1"})

	require.NoError(t, s.Delete(ctx, id))
	expect(t, cc, "delete (no derivatives)", []string{"DeleteObject×1", "ListObjects×1"})
	require.NoError(t, s.WriteDerivative(ctx, "large", "thumb", small, "image/png"))
	expect(t, cc, "write a derivative", []string{"PutObject×1"})
	d, err := s.OpenDerivative(ctx, "large", "thumb")
	require.NoError(t, err)
	got, err = io.ReadAll(d)
	require.NoError(t, err)
	require.NoError(t, d.Close())
	require.Equal(t, small, got)
	expect(t, cc, "read a derivative", []string{"GetObject×1"})
	require.NoError(t, s.Delete(ctx, "large"))
	expect(t, cc, "delete (one derivative)", []string{"DeleteObject×2", "ListObjects×1"})
	require.NoError(t, s.Delete(ctx, id))
	expect(t, cc, "delete again (gone)", []string{"DeleteObject×1", "ListObjects×1"})

	ok, err = s.Exists(ctx, id)
	require.NoError(t, err)
	assert.False(t, ok)
}

// On S3, a write sends two parts at once, never more: with each
// UploadPart held 200 ms on its way to the server, a 40 MiB write (five
// 8 MiB parts) has two in flight at its most, and the object is whole.
func TestS3WriteTwoPartsAtOnce(t *testing.T) {
	b, cc := countingS3(t)
	cc.partDelay = 200 * time.Millisecond
	s := storage.New(b)
	content := bytes.Repeat([]byte("parts at once"), 40<<20/13)
	_, err := s.WriteContent(context.Background(), "0190a000-0000-7000-8000-0000000000aa", bytes.NewReader(content), nil)
	require.NoError(t, err)
	cc.mu.Lock()
	most := cc.maxParts
	cc.mu.Unlock()
	require.Equal(t, 2, most, "UploadParts in flight at once")
	got, err := b.ReadAll(context.Background(), storage.ContentKey("0190a000-0000-7000-8000-0000000000aa"))
	require.NoError(t, err)
	require.True(t, bytes.Equal(content, got), "the object is not the content")
}
