package documents_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"

	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/compat/documents"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
)

// Mount the dialect beside the native API, then upload a file to a
// document and list the document.
func Example() {
	svc, err := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(), nil)
	if err != nil {
		panic(err)
	}
	defer svc.Close()
	native := attachment.NewHandler(svc, &attachment.HandlerOptions{Prefix: "/attachments"})
	mux := http.NewServeMux()
	mux.Handle("/attachments/", native)
	mux.Handle(documents.BasePath+"/", documents.New(native, &documents.Options{Prefix: documents.BasePath}))

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("workspaceId", "660e8400-e29b-41d4-a716-446655440000")
	mw.WriteField("documentId", "550e8400-e29b-41d4-a716-446655440000")
	fw, _ := mw.CreateFormFile("file", "notes.txt")
	fw.Write([]byte("hello, world\n"))
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, documents.BasePath+"/upload", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)

	var up struct {
		Success bool
		Data    struct {
			ID, FileName, MimeType, URL string
			FileSize                    int64
			Width                       *int
		}
	}
	json.Unmarshal(rec.Body.Bytes(), &up)
	fmt.Println(rec.Code, up.Success, up.Data.FileName, up.Data.FileSize, up.Data.MimeType, up.Data.Width)
	fmt.Println(up.Data.URL == documents.BasePath+"/file?url="+up.Data.ID)

	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, up.Data.URL, nil))
	fmt.Printf("%d %q\n", rec.Code, rec.Body.String())

	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, documents.BasePath+"/file?url=../etc/passwd", nil))
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// 201 true notes.txt 13 text/plain; charset=utf-8 <nil>
	// true
	// 200 "hello, world\n"
	// 404 {"success":false,"error":{"code":"not_found","message":"attachment ../etc/passwd not found"}}
}
