package attachment_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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

// FuzzRequest sends arbitrary requests (method, path, query, headers that
// the API reads, body) to every route. "{id}" in the path stands for an
// existing attachment. The handler must never answer 5xx, every error must
// be problem+json, and a failed request must not lose the existing
// attachment.
func FuzzRequest(f *testing.F) {
	f.Add("POST", "/", "filename=a.txt&owner=o&label.k=v", "", "", "text/plain", []byte("hello"))
	f.Add("POST", "/", "", `attachment; filename*=UTF-8''%C3%A9.txt`, "sha-256=:LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=:", "", []byte("hello"))
	f.Add("GET", "/", "owner=o&label.k=v&q=a&type=text/&limit=2&order=asc&cursor=AZKxogAAcACAAAAAAAAAAA", "", "", "", []byte(nil))
	f.Add("GET", "/{id}", "disposition=inline", "", "", "", []byte(nil))
	f.Add("PATCH", "/{id}", "", "", "", "application/json", []byte(`{"filename":"b.txt","labels":{"x":"y"}}`))
	f.Add("PUT", "/{id}", "", "", "", "application/x-www-form-urlencoded", []byte(`filename=c.txt&label.a=b`))
	f.Add("POST", "/{id}/refs", "", "", "", "application/json", []byte(`{"ref":"doc:1"}`))
	f.Add("DELETE", "/{id}/refs/doc%3A1", "", "", "", "", []byte(nil))
	f.Add("DELETE", "/{id}", "force=false", "", "", "", []byte(nil))
	f.Add("GET", "/{id}/metadata", "", "", "", "", []byte(nil))
	f.Fuzz(func(t *testing.T, method, path, query, disposition, contentDigest, contentType string, body []byte) {
		bucket := memblob.OpenBucket(nil)
		defer bucket.Close()
		svc, err := attachment.New(storage.New(bucket), memstore.New(), &attachment.Options{MaxFileSize: 1 << 16})
		if err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		atts, err := svc.Upload(ctx, nil, attachment.File{Name: "keep.txt", Content: bytes.NewReader([]byte("keep"))})
		if err != nil {
			t.Fatal(err)
		}
		keep := atts[0]
		path = strings.ReplaceAll(path, "{id}", keep.ID)
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(method, "http://x/files"+path, bytes.NewReader(body))
		if err != nil {
			return // not a request a server could receive
		}
		req.URL.RawQuery = query
		req.RequestURI = req.URL.RequestURI()
		for k, v := range map[string]string{"Content-Disposition": disposition, "Content-Digest": contentDigest, "Content-Type": contentType} {
			if v != "" {
				req.Header.Set(k, v)
			}
		}
		h := attachment.NewHandler(svc, &attachment.HandlerOptions{Prefix: "/files"})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s?%s: %d %s", method, path, query, rec.Code, rec.Body.String())
		}
		if rec.Code >= 400 && method != "HEAD" && rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("%d without problem+json", rec.Code)
		}
		if rec.Code >= 400 {
			if _, err := svc.Get(ctx, keep.ID); err != nil {
				t.Fatalf("a failed %s lost the existing attachment: %v", method, err)
			}
		}
	})
}
