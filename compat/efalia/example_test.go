package efalia_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/compat/efalia"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
)

// The Efalia routes mounted at their base path beside the native API,
// with an access hook that checks the Efalia credential.
func ExampleNew() {
	svc, err := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(), nil)
	if err != nil {
		panic(err)
	}
	defer svc.Close()
	native := attachment.NewHandler(svc, &attachment.HandlerOptions{
		Prefix: "/attachments",
		Access: attachment.AccessFuncs{IdentifyFunc: func(r *http.Request) (attachment.Caller, error) {
			if tok, ok := efalia.Token(r); ok && tok == "s3cret" { // compare in constant time in real code
				return attachment.Caller{Name: "alice"}, nil
			}
			return attachment.Caller{}, attachment.ErrUnauthorized
		}},
	})
	mux := http.NewServeMux()
	mux.Handle("/attachments/", native)
	mux.Handle(efalia.BasePath+"/", efalia.New(native, &efalia.Options{Prefix: efalia.BasePath}))

	do := func(method, target, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.Header.Set("X-API-KEY", "s3cret")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec
	}

	rec := do("POST", efalia.BasePath+"/field-1?filename=notes.txt", "hello, world\n")
	var m efalia.AttachmentMetadata
	_ = json.Unmarshal(rec.Body.Bytes(), &m)
	fmt.Println(rec.Code, m.FileName, m.Type, m.Size, m.Actor.Name, m.Thumbnail)
	fmt.Println(m.URL == efalia.BasePath+"/"+m.ID)

	rec = do("GET", efalia.BasePath+"/"+strings.ReplaceAll(m.ID, "-", ""), "")
	fmt.Println(rec.Code, rec.Header().Get("Content-Disposition"))

	rec = do("DELETE", efalia.BasePath+"/"+m.ID, "")
	fmt.Println(rec.Code)
	rec = do("GET", efalia.BasePath+"/"+m.ID+"/metadata", "")
	fmt.Println(rec.Code)
	// Output:
	// 200 notes.txt text/plain; charset=utf-8 13 alice false
	// true
	// 200 attachment; filename="notes.txt"
	// 200
	// 404
}
