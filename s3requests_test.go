package attachment_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"
	"gocloud.dev/blob/s3blob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/internal/s3test"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
)

// s3Counter is an S3 HTTP client that counts the requests made through it
// by method.
type s3Counter struct {
	next s3.HTTPClient
	mu   sync.Mutex
	n    map[string]int
}

func (c *s3Counter) Do(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n[r.Method]++
	c.mu.Unlock()
	return c.next.Do(r)
}

// take returns the counts since the last take and starts again.
func (c *s3Counter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

// The requests a download and a thumbnail make to S3, counted: one GET
// each once the thumbnail is made (the thumbnail's type is read from the
// stream the GET opened, not from a second, ranged GET).
func TestS3RequestsPerRead(t *testing.T) {
	sb := s3test.Open(t)
	counter := &s3Counter{n: map[string]int{}}
	opts := sb.Client.Options()
	counter.next = opts.HTTPClient
	opts.HTTPClient = counter
	raw, err := s3blob.OpenBucket(t.Context(), s3.New(opts), sb.Name, nil)
	require.NoError(t, err)
	bucket := blob.PrefixedBucket(raw, sb.Prefix)
	defer bucket.Close()
	svc, err := attachment.New(storage.New(bucket), memstore.New(), nil)
	require.NoError(t, err)
	defer svc.Close()
	const prefix = "/api/files"
	h := attachment.NewHandler(svc, &attachment.HandlerOptions{Prefix: prefix})
	do := func(method, target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
		return rec
	}

	atts, err := svc.Upload(t.Context(), nil, attachment.File{Name: "a.png", Content: bytes.NewReader(pngBytes(t, 400, 300))})
	require.NoError(t, err)
	a := atts[0]
	rec := do("GET", prefix+"/"+a.ID+"/thumbnail")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	thumb := rec.Body.Bytes()
	t.Logf("first thumbnail (made): %v", counter.take())

	rec = do("GET", prefix+"/"+a.ID+"/thumbnail")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, thumb, rec.Body.Bytes())
	assert.Equal(t, "image/jpeg", rec.Header().Get("Content-Type")) // an opaque image
	n := counter.take()
	t.Logf("stored thumbnail: %v", n)
	assert.Equal(t, map[string]int{"GET": 1}, n, "a stored thumbnail is one GET")

	rec = do("GET", prefix+"/"+a.ID)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, a.Size, int64(rec.Body.Len()))
	n = counter.take()
	t.Logf("download: %v", n)
	assert.Equal(t, map[string]int{"GET": 1}, n, "a download is one GET")
}
