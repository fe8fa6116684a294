package chat_test

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
	"github.com/attachkit/attachment/compat/chat"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
)

// A host mounts the chat dialect at /api/v1 over its native Handler, with
// an access hook that reads the session cookie and cross-origin protection
// on (the cookie would otherwise go with other sites' requests).
func ExampleNew() {
	svc, err := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(), nil)
	if err != nil {
		panic(err)
	}
	defer svc.Close()
	const session = "s3cr3t" // a real host looks the session up
	access := attachment.AccessFuncs{IdentifyFunc: func(r *http.Request) (attachment.Caller, error) {
		tok, ok := chat.Token(r)
		if !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(session)) != 1 {
			return attachment.Caller{}, attachment.ErrUnauthorized
		}
		return attachment.Caller{Name: "alice"}, nil
	}}
	native := attachment.NewHandler(svc, &attachment.HandlerOptions{
		Prefix:      "/attachments",
		Access:      access,
		CrossOrigin: http.NewCrossOriginProtection(),
	})
	mux := http.NewServeMux()
	mux.Handle("/attachments/", native)
	mux.Handle(chat.BasePath+"/", chat.New(native, &chat.Options{Prefix: chat.BasePath}))

	// A browser's fetch() of a FormData with one file under "files".
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("files", "notes.txt")
	fw.Write([]byte("hello"))
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/messages/42/attachments?roomId=6", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.AddCookie(&http.Cookie{Name: chat.CookieName, Value: session})
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	var ans chat.UploadAnswer
	json.Unmarshal(rec.Body.Bytes(), &ans)
	a := ans.Attachments[0]
	fmt.Println(ans.HTTPStatusCode, a.FileName, a.FileSize, a.RoomID, a.TextMessageID, a.AttachmentState)

	// Without the cookie.
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/attachments/"+a.AttachmentID, nil))
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output:
	// 200 notes.txt 5 6 42 ReadyForDownloadFromServerToClient
	// 401 {"errorText":"not signed in, or the session has expired: sign in again to get a new session cookie","httpStatusCode":401}
}

// IDs that are integers JavaScript holds exactly are JSON numbers; other
// IDs are strings, and a missing one is null.
func ExampleID() {
	b, _ := json.Marshal([]chat.ID{"6", "general", "007", "9007199254740993", ""})
	fmt.Println(string(b))
	// Output: [6,"general","007","9007199254740993",null]
}
