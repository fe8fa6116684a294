package protocol_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"

	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/compat/protocol"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
)

// The Protocol API mounted beside the native one, over one Service; a
// client uploads a file into a conversation and lists the conversation.
func ExampleNew() {
	svc, err := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(), nil)
	if err != nil {
		panic(err)
	}
	defer svc.Close()
	native := attachment.NewHandler(svc, &attachment.HandlerOptions{
		Prefix: "/attachments",
		Access: nil, // the host's hook; protocol.Token reads the client's bearer token
	})
	mux := http.NewServeMux()
	mux.Handle("/attachments/", native)
	dialect := protocol.New(native, &protocol.Options{Prefix: protocol.BasePath})
	mux.Handle(protocol.BasePath+"/", dialect)
	mux.Handle(protocol.BasePath, dialect)

	// curl -F file=@notes.txt -F conversation_id=xgQQXg3hrtjh7AvZ .../v1/attachments
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("conversation_id", "xgQQXg3hrtjh7AvZ")
	fw, _ := mw.CreateFormFile("file", "notes.txt")
	_, _ = fw.Write([]byte("hello"))
	_ = mw.Close()
	req := httptest.NewRequest(http.MethodPost, protocol.BasePath, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	var created struct {
		Filename  string  `json:"filename"`
		FileType  string  `json:"file_type"`
		FileSize  int64   `json:"file_size"`
		MessageID *string `json:"message_id"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &created)
	fmt.Println(rec.Code, created.Filename, created.FileType, created.FileSize, created.MessageID)

	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, protocol.BasePath+"?conversation_id=xgQQXg3hrtjh7AvZ", nil))
	var list struct {
		HasMore bool              `json:"has_more"`
		Data    []json.RawMessage `json:"data"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &list)
	fmt.Println(rec.Code, len(list.Data), list.HasMore)

	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, protocol.BasePath+"/nope", nil))
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// 201 notes.txt text/plain; charset=utf-8 5 <nil>
	// 200 1 false
	// 404 {"error":{"type":"invalid_request_error","code":"not_found","message":"attachment nope not found"}}
}

// Token reads the credential of a Protocol client.
func ExampleToken() {
	r := httptest.NewRequest(http.MethodGet, protocol.BasePath, nil)
	r.Header.Set("Authorization", "Bearer secret-token")
	fmt.Println(protocol.Token(r))
	// Output: secret-token true
}
