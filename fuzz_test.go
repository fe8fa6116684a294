package attachment_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
)

// FuzzUploadMultipart sends arbitrary multipart bodies to the handler. It
// must never answer 5xx, a 4xx must leave nothing stored, and a 201 must
// store exactly the files it lists.
func FuzzUploadMultipart(f *testing.F) {
	seeds := []string{
		"--b\r\nContent-Disposition: form-data; name=\"owner\"\r\n\r\nme\r\n--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nhello\r\n--b--\r\n",
		"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n\r\nhello\r\n--b\r\nContent-Disposition: form-data; name=\"owner\"\r\n\r\nme\r\n--b--\r\n",
		"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"..\"\r\n\r\nx\r\n--b--\r\n",
		"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\nContent-Digest: sha-256=:AAAA:\r\n\r\nx\r\n--b--\r\n",
		"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\nx",
		"--b\r\nContent-Disposition: attachment; filename=\"a\"\r\n\r\nx\r\n--b--\r\n",
		"--b\r\nContent-Disposition: form-data; name=\"label.k\"\r\n\r\nv\r\n--b\r\nContent-Disposition: form-data; name=\"label.k\"\r\n\r\nw\r\n--b--\r\n",
		"garbage",
	}
	for _, s := range seeds {
		f.Add([]byte(s), "b")
	}
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		bucket := memblob.OpenBucket(nil)
		meta := memstore.New()
		defer bucket.Close()
		svc, err := attachment.New(storage.New(bucket), meta, &attachment.Options{MaxFileSize: 1 << 16, MaxFiles: 4})
		if err != nil {
			t.Fatal(err)
		}
		h := attachment.NewHandler(svc, &attachment.HandlerOptions{MaxParts: 8})
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=\""+boundary+"\"")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		if rec.Code >= 500 {
			t.Fatalf("%d: %s", rec.Code, rec.Body.String())
		}
		page, err := svc.List(req.Context(), &attachment.ListOptions{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		keys, _, err := bucket.ListPage(req.Context(), blob.FirstPageToken, 100, nil)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		switch {
		case rec.Code == http.StatusCreated:
			if len(page.Attachments) == 0 || len(keys) != len(page.Attachments) {
				t.Fatalf("201 with %d records and %d blobs", len(page.Attachments), len(keys))
			}
		case rec.Code >= 400:
			if len(page.Attachments) != 0 || len(keys) != 0 {
				t.Fatalf("%d left %d records and %d blobs", rec.Code, len(page.Attachments), len(keys))
			}
			if rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d without problem+json", rec.Code)
			}
		default:
			t.Fatalf("unexpected status %d", rec.Code)
		}
	})
}
