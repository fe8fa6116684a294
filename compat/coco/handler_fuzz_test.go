package coco_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/compat/coco"
	"github.com/attachkit/attachment/internal/compattest"
)

// FuzzHandler sends arbitrary requests to the routes: none is a server
// error, and every error answer is Coco's error body with its status.
func FuzzHandler(f *testing.F) {
	f.Add(0, "/_upload", "session=a", []byte("--x\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a\"\r\n\r\nhi\r\n--x--\r\n"))
	f.Add(1, "/_search", "session=a&from=1&size=2", []byte(nil))
	f.Add(0, "/_status", "", []byte(`{"attachments":["a"]}`))
	f.Add(2, "/x", "", []byte(nil))
	f.Add(3, "/x/status", "", []byte(nil))
	f.Add(4, "/%2e%2e/", "", []byte("x"))
	be := compattest.Backends()[0]
	e := compattest.NewEnv(f, be, &compattest.Options{Credential: coco.Token,
		Service: &attachment.Options{MaxFileSize: 1 << 10}})
	e.Mount(coco.BasePath, coco.New(e.Handler, &coco.Options{Prefix: coco.BasePath}))
	methods := []string{"POST", "GET", "DELETE", "HEAD", "PUT"}
	f.Fuzz(func(t *testing.T, m int, path, query string, body []byte) {
		method := methods[(m%len(methods)+len(methods))%len(methods)]
		if path != "" && !strings.HasPrefix(path, "/") {
			path = "/" + path // under the mount point, not beside it
		}
		u := &url.URL{Path: coco.BasePath + path, RawQuery: query}
		target := u.String()
		req, err := http.NewRequest(method, "http://example.com"+target, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.RequestURI = req.URL.RequestURI()
		req.Header.Set(coco.TokenHeader, compattest.Token)
		req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
		rec := httptest.NewRecorder()
		e.Mux.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s: %d %s", method, target, rec.Code, rec.Body)
		}
		if rec.Code < 400 || method == "HEAD" || rec.Code == http.StatusMovedPermanently || rec.Code == http.StatusTemporaryRedirect {
			return
		}
		var eb struct {
			Error struct {
				Type, Reason string
			}
			Status int
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Status != rec.Code || eb.Error.Type == "" || eb.Error.Reason == "" {
			t.Fatalf("%s %s: %d %q (%v)", method, target, rec.Code, rec.Body, err)
		}
	})
}
