package resumable_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/resumable"
)

// A tus client creates an upload, sends it in two PATCHes and finds the
// attachment at the Location of the last answer.
func Example() {
	svc, err := attachment.Open(context.Background(), "mem://", "mem://", nil)
	if err != nil {
		panic(err)
	}
	defer svc.Close()
	h := attachment.NewHandler(svc, &attachment.HandlerOptions{
		Prefix:  "/attachments",
		Uploads: resumable.New(nil),
	})
	srv := httptest.NewServer(h)
	defer srv.Close()

	send := func(method, url, body string, hdr ...string) *http.Response {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Tus-Resumable", resumable.Version)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		return resp
	}
	// "filename aGVsbG8udHh0": the name hello.txt, in base64.
	resp := send("POST", srv.URL+"/attachments/uploads/", "", "Upload-Length", "11", "Upload-Metadata", "filename aGVsbG8udHh0")
	upload := srv.URL + resp.Header.Get("Location")
	fmt.Println("create:", resp.StatusCode)
	resp = send("PATCH", upload, "hello ", "Upload-Offset", "0", "Content-Type", resumable.ContentType)
	fmt.Println("patch:", resp.StatusCode, resp.Header.Get("Upload-Offset"))
	resp = send("PATCH", upload, "world", "Upload-Offset", "6", "Content-Type", resumable.ContentType)
	fmt.Println("patch:", resp.StatusCode, resp.Header.Get("Upload-Offset"))

	get, err := http.Get(srv.URL + resp.Header.Get("Location"))
	if err != nil {
		panic(err)
	}
	defer get.Body.Close()
	b, _ := io.ReadAll(get.Body)
	fmt.Printf("%s: %s\n", get.Header.Get("Content-Disposition"), b)
	// Output:
	// create: 201
	// patch: 204 6
	// patch: 204 11
	// attachment; filename="hello.txt": hello world
}
