package coco_test

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"

	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/compat/coco"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
)

// Serve the Coco routes beside the native API, with an access hook that
// checks the token Coco's clients send in X-API-TOKEN; upload two files
// into a chat session and search the session.
func Example() {
	svc, err := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(), nil)
	if err != nil {
		panic(err)
	}
	defer svc.Close()
	const token = "s3cret"
	native := attachment.NewHandler(svc, &attachment.HandlerOptions{
		Prefix: "/files",
		Access: attachment.AccessFuncs{IdentifyFunc: func(r *http.Request) (attachment.Caller, error) {
			if t, ok := coco.Token(r); ok && subtle.ConstantTimeCompare([]byte(t), []byte(token)) == 1 {
				return attachment.Caller{Name: "coco-user"}, nil
			}
			return attachment.Caller{}, attachment.ErrUnauthorized
		}},
	})
	mux := http.NewServeMux()
	mux.Handle("/files/", native)
	mux.Handle(coco.BasePath+"/", coco.New(native, &coco.Options{Prefix: coco.BasePath}))

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("session_id", "chat-1")
	for _, name := range []string{"a.txt", "b.txt"} {
		fw, _ := mw.CreateFormFile("files", name)
		fmt.Fprintf(fw, "content of %s\n", name)
	}
	mw.Close()
	req := httptest.NewRequest("POST", "/attachment/_upload", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-API-TOKEN", token)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println("upload:", rec.Code)

	req = httptest.NewRequest("GET", "/attachment/_search?session=chat-1", nil)
	req.Header.Set("X-API-TOKEN", token)
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	var res struct {
		Hits struct {
			Total struct{ Value int }
			Hits  []struct {
				Source struct{ Name, Session, Icon string } `json:"_source"`
			}
		}
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &res)
	fmt.Println("hits:", res.Hits.Total.Value)
	for _, h := range res.Hits.Hits {
		fmt.Println(h.Source.Name, h.Source.Session, h.Source.Icon)
	}

	req = httptest.NewRequest("GET", "/attachment/_search", nil)
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// upload: 200
	// hits: 2
	// a.txt chat-1 txt
	// b.txt chat-1 txt
	// 401 {"error":{"root_cause":[{"type":"unauthorized","reason":"the request is not authenticated"}],"type":"unauthorized","reason":"the request is not authenticated"},"status":401}
}
