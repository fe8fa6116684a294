// Package s3test opens the S3 bucket that the module's tests run against,
// when one is configured, with a private key prefix per test that is
// emptied when the test ends. Only tests import it: it brings in s3blob
// and the AWS SDK.
//
// The bucket is named by ATTACHMENT_TEST_S3_URL, an s3:// URL as
// gocloud.dev/blob/s3blob opens it; credentials come from the AWS_*
// environment variables, read by the SDK. .ci/services starts a local
// S3-protocol server and prints both.
package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"gocloud.dev/blob"
	_ "gocloud.dev/blob/s3blob" // registers s3://

	_ "github.com/attachkit/attachment/storage/s3uploads" // multipart uploads, for Maintain
)

// EnvURL is the environment variable holding the bucket's URL.
const EnvURL = "ATTACHMENT_TEST_S3_URL"

// SkipReason is why S3 tests skip when EnvURL is not set.
const SkipReason = EnvURL + ` is not set; start a server with: eval "$(.ci/services start /tmp/attachment-services)"`

// Skip returns SkipReason when no bucket is configured, and "" when one
// is.
func Skip() string {
	if os.Getenv(EnvURL) == "" {
		return SkipReason
	}
	return ""
}

// Bucket is a test's view of the S3 bucket: every key it reads or writes
// is under Prefix.
type Bucket struct {
	*blob.Bucket
	// Client is the S3 client under Bucket, for what the blob API does not
	// show (incomplete multipart uploads).
	Client *s3.Client
	// Name is the bucket's name; Prefix ends with "/".
	Name, Prefix string
	// URL opens the same bucket and prefix (with blob.OpenBucket).
	URL string
}

// Open opens the bucket with a fresh random key prefix, or skips t with
// SkipReason when none is configured. When t ends, the objects and
// incomplete multipart uploads under the prefix are removed; a multipart
// upload still pending then fails the test, since every upload the
// library starts must end committed or aborted.
func Open(t testing.TB) *Bucket {
	t.Helper()
	raw := os.Getenv(EnvURL)
	if raw == "" {
		t.Skip(SkipReason)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	if u.Scheme != "s3" {
		t.Fatalf("%s: want an s3:// URL, got %s://", EnvURL, u.Scheme)
	}
	q := u.Query()
	if base := q.Get("prefix"); base != "" {
		t.Fatalf("%s: the tests set their own prefix; drop prefix=%s", EnvURL, base)
	}
	prefix := "attachment-test/" + name(t) + "-" + random() + "/"
	q.Set("prefix", prefix)
	u.RawQuery = q.Encode()
	ctx := context.Background()
	b, err := blob.OpenBucket(ctx, u.String())
	if err != nil {
		t.Fatalf("open %s: %v", EnvURL, err)
	}
	var client *s3.Client
	if !b.As(&client) {
		t.Fatal("s3test: the bucket has no *s3.Client")
	}
	sb := &Bucket{Bucket: b, Client: client, Name: u.Host, Prefix: prefix, URL: u.String()}
	t.Cleanup(func() {
		// Through the client: the test may have closed b.
		if pending := sb.PendingUploads(t); len(pending) > 0 {
			t.Errorf("s3test: multipart uploads left pending under %s: %v", prefix, pending)
		}
		sb.empty(t)
		_ = b.Close()
	})
	return sb
}

// PendingUploads returns the keys (relative to the prefix) of the
// multipart uploads started under the prefix and neither completed nor
// aborted. They are not objects and no listing shows them, but they keep
// their parts on the server (and on the bill) until they are aborted.
func (b *Bucket) PendingUploads(t testing.TB) []string {
	t.Helper()
	var keys []string
	b.eachUpload(t, func(up types.MultipartUpload) {
		keys = append(keys, strings.TrimPrefix(aws.ToString(up.Key), b.Prefix))
	})
	return keys
}

func (b *Bucket) eachUpload(t testing.TB, f func(types.MultipartUpload)) {
	t.Helper()
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(b.Name), Prefix: aws.String(b.Prefix)}
	for {
		out, err := b.Client.ListMultipartUploads(context.Background(), in)
		if err != nil {
			t.Fatalf("s3test: list multipart uploads: %v", err)
		}
		for _, up := range out.Uploads {
			f(up)
		}
		if !aws.ToBool(out.IsTruncated) {
			return
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// empty removes every object and multipart upload under the prefix.
func (b *Bucket) empty(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b.eachUpload(t, func(up types.MultipartUpload) {
		_, err := b.Client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(b.Name), Key: up.Key, UploadId: up.UploadId})
		if err != nil {
			t.Errorf("s3test: abort the upload of %s: %v", aws.ToString(up.Key), err)
		}
	})
	p := s3.NewListObjectsV2Paginator(b.Client, &s3.ListObjectsV2Input{Bucket: aws.String(b.Name), Prefix: aws.String(b.Prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Errorf("s3test: list %s: %v", b.Prefix, err)
			return
		}
		for _, obj := range page.Contents {
			if _, err := b.Client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b.Name), Key: obj.Key}); err != nil {
				t.Errorf("s3test: delete %s: %v", aws.ToString(obj.Key), err)
			}
		}
	}
}

// name makes the test's name usable in a key.
func name(t testing.TB) string {
	n := []byte(t.Name())
	if len(n) > 80 {
		n = n[len(n)-80:]
	}
	for i, c := range n {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			n[i] = '_'
		}
	}
	return string(n)
}

func random() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("s3test: random: %v", err))
	}
	return hex.EncodeToString(b[:])
}
