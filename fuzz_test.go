package attachment_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
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
// store exactly the files it lists. Bodies of odd length go without a
// Content-Length (as if chunked), so that both the refusal of a length
// over MaxRequestSize and the cut-off of a body that runs past it are
// exercised.
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
		"--b\r\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8''a%0D%0ASet-Cookie%3A%20x%E2%80%AE.txt\r\n\r\nx\r\n--b--\r\n",
		strings.Repeat("--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nx\r\n", 20) + "--b--\r\n",
		strings.Repeat("--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\nx\r\n", 6) + "--b--\r\n",
		"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"big\"\r\n\r\n" + strings.Repeat("x", 3000) + "\r\n--b--\r\n",
		"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"big\"\r\n\r\n" + strings.Repeat("x", 5000) + "\r\n--b--\r\n",
		"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"big\"\r\n\r\n" + strings.Repeat("x", 5001) + "\r\n--b--\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s), "b")
	}
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		bucket := memblob.OpenBucket(nil)
		meta := memstore.New()
		defer bucket.Close()
		svc, err := attachment.New(storage.New(bucket), meta, &attachment.Options{MaxFileSize: 1 << 11, MaxFiles: 4, Processing: attachment.ProcessingOptions{Workers: attachment.Off}})
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Close()
		h := attachment.NewHandler(svc, &attachment.HandlerOptions{MaxRequestSize: 1 << 12, MaxParts: 8})
		req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=\""+boundary+"\"")
		if len(body)%2 == 1 {
			req.ContentLength = -1
		}
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

// FuzzDownloadRange sends arbitrary Range (and If-Range) headers to a
// download, as the handler parses them with net/http's ServeContent. It
// must never answer 5xx; a 206 must carry at most HandlerOptions.MaxRanges
// ranges, each a Content-Range within the content whose bytes are the
// content's; a 200 carries the whole content; every error is problem+json.
func FuzzDownloadRange(f *testing.F) {
	for _, s := range []string{
		"bytes=0-0", "bytes=10-19", "bytes=-5", "bytes=990-", "bytes=0-1,500-502", "bytes=5000-6000",
		"bytes=0-,0-", "bytes=1-0", "bytes=,,,", "bytes= 1-2 , 3-4", "bytes=-0", "bytes=0-9223372036854775807",
		"bytes=-9223372036854775808", "items=0-1", "BYTES=0-1", "bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12,14-14,16-16",
		"bytes=0-0,0-0,0-0,0-0,0-0", "bytes=999-999,0-0", "bytes=1-1,0-1000",
	} {
		f.Add(s, "", uint8(2), false)
	}
	f.Add("bytes=0-9", "\"stale\"", uint8(2), false)
	f.Add("bytes=0-9", "", uint8(0), true)
	f.Add("bytes=0-0", "", uint8(1), false)

	bucket := memblob.OpenBucket(nil)
	f.Cleanup(func() { bucket.Close() })
	const maxRanges = 8
	svc, err := attachment.New(storage.New(bucket), memstore.New(), &attachment.Options{Processing: attachment.ProcessingOptions{Workers: attachment.Off}})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { svc.Close() })
	contents := [][]byte{nil, {42}, make([]byte, 1000)}
	for i := range contents[2] {
		contents[2][i] = byte(i*7 + i>>8)
	}
	var ids []string
	for _, c := range contents {
		atts, err := svc.Upload(context.Background(), nil, attachment.File{Name: "f.bin", Content: bytes.NewReader(c)})
		if err != nil {
			f.Fatal(err)
		}
		ids = append(ids, atts[0].ID)
	}
	h := attachment.NewHandler(svc, &attachment.HandlerOptions{MaxRanges: maxRanges})

	f.Fuzz(func(t *testing.T, rangeHdr, ifRange string, which uint8, head bool) {
		content := contents[int(which)%len(contents)]
		method := "GET"
		if head {
			method = "HEAD"
		}
		req := httptest.NewRequest(method, "/"+ids[int(which)%len(ids)], nil)
		req.Header["Range"] = []string{rangeHdr}
		if ifRange != "" {
			req.Header["If-Range"] = []string{ifRange}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		size := int64(len(content))
		switch {
		case rec.Code >= 500:
			t.Fatalf("%q: %d %s", rangeHdr, rec.Code, rec.Body.String())
		case rec.Code >= 400:
			if rec.Code != http.StatusRequestedRangeNotSatisfiable {
				t.Fatalf("%q: %d", rangeHdr, rec.Code)
			}
			if !head && rec.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%q: %d without problem+json", rangeHdr, rec.Code)
			}
			if got, want := rec.Header().Get("Content-Range"), "bytes */"+strconv.FormatInt(size, 10); got != want {
				t.Fatalf("%q: 416 with Content-Range %q, want %q", rangeHdr, got, want)
			}
		case rec.Code == http.StatusOK:
			if !head && !bytes.Equal(rec.Body.Bytes(), content) {
				t.Fatalf("%q: 200 without the whole content", rangeHdr)
			}
		case rec.Code == http.StatusPartialContent:
			if head {
				return
			}
			checkByteranges(t, rangeHdr, rec, content, maxRanges)
		default:
			t.Fatalf("%q: unexpected status %d", rangeHdr, rec.Code)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%q: %d without nosniff", rangeHdr, rec.Code)
		}
	})
}

// checkByteranges checks a 206 answer against content: one range with its
// Content-Range, or a multipart/byteranges of at most maxRanges parts.
func checkByteranges(t *testing.T, rangeHdr string, rec *httptest.ResponseRecorder, content []byte, maxRanges int) {
	t.Helper()
	check := func(cr string, body []byte) {
		var start, end, total int64
		if _, err := fmt.Sscanf(cr, "bytes %d-%d/%d", &start, &end, &total); err != nil {
			t.Fatalf("%q: Content-Range %q: %v", rangeHdr, cr, err)
		}
		if total != int64(len(content)) || start < 0 || end < start || end >= total {
			t.Fatalf("%q: Content-Range %q out of %d bytes", rangeHdr, cr, len(content))
		}
		if !bytes.Equal(body, content[start:end+1]) {
			t.Fatalf("%q: the bytes of %q are not the content's", rangeHdr, cr)
		}
	}
	mt, params, err := mime.ParseMediaType(rec.Header().Get("Content-Type"))
	if err != nil || mt != "multipart/byteranges" {
		check(rec.Header().Get("Content-Range"), rec.Body.Bytes())
		return
	}
	mr := multipart.NewReader(rec.Body, params["boundary"])
	n := 0
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%q: %v", rangeHdr, err)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("%q: %v", rangeHdr, err)
		}
		check(p.Header.Get("Content-Range"), body)
		n++
	}
	if n < 2 || n > maxRanges {
		t.Fatalf("%q: %d parts; at most %d ranges may be served", rangeHdr, n, maxRanges)
	}
}
