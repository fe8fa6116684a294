package attachment_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
)

// A Service used from Go: upload, read back, reference, list, delete.
func ExampleService() {
	ctx := context.Background()
	svc, err := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(), nil)
	if err != nil {
		panic(err)
	}
	defer svc.Close()

	atts, err := svc.Upload(ctx, &attachment.UploadOptions{Owner: "document:42"},
		attachment.File{Name: "notes.txt", Content: strings.NewReader("hello")})
	if err != nil {
		panic(err)
	}
	a := atts[0]
	fmt.Println(a.Filename, a.ContentType, a.Size)

	_, obj, err := svc.OpenContent(ctx, a.ID)
	if err != nil {
		panic(err)
	}
	b, _ := io.ReadAll(obj)
	obj.Close()
	fmt.Println(string(b))

	if _, err := svc.AddRef(ctx, a.ID, "document:42"); err != nil {
		panic(err)
	}
	err = svc.Delete(ctx, a.ID, nil)
	fmt.Println(errors.Is(err, attachment.ErrReferenced))

	page, _ := svc.List(ctx, &attachment.ListOptions{Owner: "document:42"})
	fmt.Println(len(page.Attachments))
	// Output:
	// notes.txt text/plain; charset=utf-8 5
	// hello
	// true
	// 1
}

// The Handler mounted under a prefix on a standard library mux; every URL
// the API returns includes the prefix.
func ExampleNewHandler() {
	svc, _ := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(), nil)
	defer svc.Close()
	mux := http.NewServeMux()
	mux.Handle("/attachments/", attachment.NewHandler(svc, &attachment.HandlerOptions{Prefix: "/attachments"}))
	// Or, equally: mux.Handle("/attachments/", http.StripPrefix("/attachments", attachment.NewHandler(svc, nil)))

	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/attachments/?filename=hello.txt", "text/plain", strings.NewReader("hi"))
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, strings.HasPrefix(resp.Header.Get("Location"), "/attachments/"))
	// Output: 201 true
}

// An access hook that names the caller and its tenant from the host's own
// authentication, and lets only the uploader delete.
func ExampleAccessFuncs() {
	access := attachment.AccessFuncs{
		IdentifyFunc: func(r *http.Request) (attachment.Caller, error) {
			user, org, ok := strings.Cut(r.Header.Get("X-Demo-User"), "@") // the host's real auth goes here
			if !ok {
				return attachment.Caller{}, attachment.ErrUnauthorized
			}
			return attachment.Caller{Tenant: org, Name: "user:" + user}, nil
		},
		AllowFunc: func(r *http.Request, c attachment.Caller, op attachment.Operation, a *attachment.Attachment) error {
			if op == attachment.OpDelete && a.CreatedBy != c.Name {
				return attachment.ErrForbidden
			}
			return nil
		},
	}
	svc, _ := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(), nil)
	defer svc.Close()
	h := attachment.NewHandler(svc, &attachment.HandlerOptions{Access: access})

	req := httptest.NewRequest("POST", "/?filename=a.txt", strings.NewReader("x"))
	req.Header.Set("X-Demo-User", "ann@acme")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, strings.Contains(rec.Body.String(), `"created_by":"user:ann"`))

	req = httptest.NewRequest("GET", "/", nil) // no user
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	// Output:
	// 201 true
	// 401
}

// Each tenant sees only its own attachments.
func ExampleService_ForTenant() {
	ctx := context.Background()
	svc, _ := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(), nil)
	defer svc.Close()
	acme, globex := svc.ForTenant("acme"), svc.ForTenant("globex")
	atts, _ := acme.Upload(ctx, nil, attachment.File{Name: "plan.txt", Content: strings.NewReader("secret")})
	_, err := globex.Get(ctx, atts[0].ID)
	fmt.Println(errors.Is(err, attachment.ErrNotFound))
	// Output: true
}

// A host's own processor runs after every upload from the durable queue;
// WaitStatus returns once every processor has finished.
func ExampleProcessorFunc() {
	wordCount := attachment.ProcessorFunc("wordcount",
		func(a *attachment.Attachment) bool { return strings.HasPrefix(a.ContentType, "text/") },
		func(ctx context.Context, t *attachment.Task) error {
			obj, err := t.Open(ctx)
			if err != nil {
				return err // retried with backoff
			}
			defer obj.Close()
			b, err := io.ReadAll(obj)
			if err != nil {
				return err
			}
			fmt.Println("words:", len(strings.Fields(string(b))))
			return nil
		})
	svc, _ := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(),
		&attachment.Options{Processors: []attachment.Processor{wordCount}})
	defer svc.Close()

	ctx := context.Background()
	atts, _ := svc.Upload(ctx, nil, attachment.File{Name: "a.txt", Content: strings.NewReader("one two three")})
	st, _ := svc.WaitStatus(ctx, atts[0].ID, 10*time.Second)
	fmt.Println(st.Processing["wordcount"])
	// Output:
	// words: 3
	// completed
}
