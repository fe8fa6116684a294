package attachment_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
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
	// In memory for the example; a program opens its stores by URL with
	// attachment.Open(ctx, "file:///var/lib/app/blobs?...", "sqlite:///var/lib/app/meta.db", nil).
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

// Limits are Options. An upload that breaks one fails with an error that
// errors.Is the package's sentinel, and nothing of it is stored; the
// Handler answers the same error as problem+json with a stable code.
func ExampleOptions() {
	ctx := context.Background()
	svc, _ := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(), &attachment.Options{
		MaxFileSize:  1 << 20,
		AllowedTypes: []string{"image/", "application/pdf"},
	})
	defer svc.Close()

	_, err := svc.Upload(ctx, nil, attachment.File{Name: "notes.txt", Content: strings.NewReader("plain text")})
	fmt.Println(errors.Is(err, attachment.ErrUnsupportedType))
	_, err = svc.Upload(ctx, nil, attachment.File{Name: "big.pdf", Content: strings.NewReader("%PDF-1.7\n" + strings.Repeat(" ", 2<<20))})
	fmt.Println(errors.Is(err, attachment.ErrTooLarge))

	rec := httptest.NewRecorder()
	attachment.NewHandler(svc, nil).ServeHTTP(rec,
		httptest.NewRequest("POST", "/?filename=notes.txt", strings.NewReader("plain text")))
	var p attachment.Problem
	_ = json.Unmarshal(rec.Body.Bytes(), &p)
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"), p.Code)
	// Output:
	// true
	// true
	// 415 application/problem+json unsupported_type
}

// Every numeric option follows one rule: zero is the default, Off turns
// the limit off where the field allows it, and anything else out of range
// is an error that names the field. The HTTP-only limits are
// HandlerOptions.
func ExampleOptions_rule() {
	svc, err := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(), &attachment.Options{
		MaxFiles:    attachment.Off, // no limit
		Processing:  attachment.ProcessingOptions{Workers: 4},
		Maintenance: attachment.MaintenanceOptions{OrphanGrace: 48 * time.Hour},
	})
	if err != nil {
		panic(err)
	}
	defer svc.Close()
	o := svc.Options()
	fmt.Println(o.MaxFiles, o.MaxLabels, o.Processing.Workers, o.Thumbnails.Sizes)

	h := attachment.NewHandler(svc, &attachment.HandlerOptions{MaxRanges: 8})
	fmt.Println(h.Options().MaxRequestSize>>20, "MiB;", h.Options().MaxRanges, "ranges")

	_, err = attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(), &attachment.Options{MaxLabels: -5})
	fmt.Println(errors.Is(err, attachment.ErrInvalidOptions))
	fmt.Println(err)
	// Output:
	// -1 32 4 [64 128 256 512 1024]
	// 1024 MiB; 8 ranges
	// true
	// attachment: invalid options: Options.MaxLabels is -5; want a positive value, 0 for the default (32) or Off (-1) for no limit
}

// The Handler mounted under a prefix on a standard library mux: requests
// arrive with the prefix, which the handler strips itself, and every URL
// the API returns includes it.
func ExampleNewHandler() {
	svc, _ := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(), nil)
	defer svc.Close()
	mux := http.NewServeMux()
	mux.Handle("/attachments/", attachment.NewHandler(svc, &attachment.HandlerOptions{Prefix: "/attachments"}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/attachments/?filename=hello.txt", "text/plain", strings.NewReader("hi"))
	if err != nil {
		panic(err)
	}
	var up struct{ Attachments []attachment.Attachment }
	_ = json.NewDecoder(resp.Body).Decode(&up)
	resp.Body.Close()
	a := up.Attachments[0]
	fmt.Println(resp.StatusCode, strings.HasPrefix(a.URL, "/attachments/"), resp.Header.Get("Location") == a.URL)

	resp, err = http.Get(srv.URL + a.URL)
	if err != nil {
		panic(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(b), resp.Header.Get("Content-Disposition"))

	resp, err = http.Get(srv.URL + "/attachments/no-such-id")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"))
	// Output:
	// 201 true true
	// 200 hi attachment; filename="hello.txt"
	// 404 application/problem+json
}

// The Handler behind http.StripPrefix: it finds the prefix from the
// request, and the URLs it returns still include it.
func ExampleNewHandler_stripPrefix() {
	svc, _ := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(), nil)
	defer svc.Close()
	mux := http.NewServeMux()
	mux.Handle("/files/", http.StripPrefix("/files", attachment.NewHandler(svc, nil)))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Post(srv.URL+"/files/?filename=a.txt", "text/plain", strings.NewReader("x"))
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, strings.HasPrefix(resp.Header.Get("Location"), "/files/"))
	// Output: 201 true
}

// An access hook that names the caller and its tenant from the host's own
// authentication, and lets only the uploader delete. Another tenant's
// attachment is a 404, like a missing one.
func ExampleAccessFuncs() {
	access := attachment.AccessFuncs{
		IdentifyFunc: func(r *http.Request) (attachment.Caller, error) {
			// The host's real authentication goes here (a session, a JWT);
			// a framework's middleware can pass its user in r.Context().
			user, org, ok := strings.Cut(r.Header.Get("X-Demo-User"), "@")
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
	do := func(method, target, user string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, strings.NewReader("x"))
		if user != "" {
			req.Header.Set("X-Demo-User", user)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	rec := do("POST", "/?filename=a.txt", "ann@acme")
	fmt.Println("ann uploads:", rec.Code, rec.Header().Get("Location") != "")
	loc := rec.Header().Get("Location")
	fmt.Println("anonymous reads:", do("GET", loc, "").Code)
	fmt.Println("bob of globex reads:", do("GET", loc, "bob@globex").Code)
	fmt.Println("cat of acme reads:", do("GET", loc, "cat@acme").Code)
	fmt.Println("cat of acme deletes:", do("DELETE", loc, "cat@acme").Code)
	fmt.Println("ann deletes:", do("DELETE", loc, "ann@acme").Code)
	// Output:
	// ann uploads: 201 true
	// anonymous reads: 401
	// bob of globex reads: 404
	// cat of acme reads: 200
	// cat of acme deletes: 403
	// ann deletes: 200
}

// A rule on what records hold: a user may only use the owner "user:NAME".
// Allow sees the records an upload or an update would store (owner,
// labels, filename, size, type), before anything is committed, so the
// same rule covers what a request reads and what it writes; Before tells
// the second call from the first, and gives the record as it was.
func ExampleBefore() {
	access := attachment.AccessFuncs{
		IdentifyFunc: func(r *http.Request) (attachment.Caller, error) {
			return attachment.Caller{Name: "user:" + r.Header.Get("X-Demo-User")}, nil
		},
		AllowFunc: func(r *http.Request, c attachment.Caller, op attachment.Operation, a *attachment.Attachment) error {
			if before, ok := attachment.Before(r); ok && before != nil && before.Owner != a.Owner {
				fmt.Printf("  %s asks to move %s from %s to %s\n", c.Name, a.Filename, before.Owner, a.Owner)
			}
			if a != nil && a.Owner != c.Name {
				return attachment.ErrForbidden
			}
			return nil
		},
	}
	svc, _ := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(), nil)
	defer svc.Close()
	h := attachment.NewHandler(svc, &attachment.HandlerOptions{Access: access})
	do := func(method, target, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.Header.Set("X-Demo-User", "bob")
		if method == "PATCH" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	fmt.Println("upload as alice's:", do("POST", "/?filename=a.txt&owner=user:alice", "x").Code)
	rec := do("POST", "/?filename=b.txt&owner=user:bob", "x")
	fmt.Println("upload as bob's:", rec.Code)
	loc := rec.Header().Get("Location")
	fmt.Println("rename:", do("PATCH", loc, `{"filename":"c.txt"}`).Code)
	fmt.Println("give to alice:", do("PATCH", loc, `{"owner":"user:alice"}`).Code)
	page, _ := svc.List(context.Background(), nil)
	for _, a := range page.Attachments {
		fmt.Println("stored:", a.Filename, a.Owner)
	}
	// Output:
	// upload as alice's: 403
	// upload as bob's: 201
	// rename: 200
	//   user:bob asks to move c.txt from user:bob to user:alice
	// give to alice: 403
	// stored: c.txt user:bob
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

// A host's own processor runs after every upload from the durable queue
// and records its result as a label; WaitStatus returns once every
// processor has finished.
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
			labels := map[string]string{"words": fmt.Sprint(len(strings.Fields(string(b))))}
			for k, v := range t.Attachment.Labels {
				labels[k] = v
			}
			_, err = t.Service().Update(ctx, t.Attachment.ID, attachment.Change{Labels: labels})
			return err // may run twice (after a crash): it must be idempotent
		})
	svc, _ := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(),
		&attachment.Options{Processing: attachment.ProcessingOptions{Processors: []attachment.Processor{wordCount}}})
	defer svc.Close()

	ctx := context.Background()
	atts, _ := svc.Upload(ctx, nil,
		attachment.File{Name: "a.txt", Content: strings.NewReader("one two three")},
		attachment.File{Name: "b.bin", Content: strings.NewReader("\x00\x01")})
	for _, a := range atts {
		st, _ := svc.WaitStatus(ctx, a.ID, 10*time.Second)
		a, _ = svc.Get(ctx, a.ID)
		fmt.Printf("%s: processing %v, words %q\n", a.Filename, st.Processing, a.Labels["words"])
	}
	// Output:
	// a.txt: processing map[wordcount:completed], words "3"
	// b.bin: processing map[], words ""
}

// A signed URL reads one attachment without credentials until it expires;
// changing any part of it is a 403.
func ExampleHandler_SignedURL() {
	signer, err := attachment.NewSigner(attachment.SignerOptions{
		Keys: []attachment.SigningKey{{ID: "2026-12", Secret: []byte("a secret of at least 32 bytes, from a vault")}},
	})
	if err != nil {
		panic(err)
	}
	svc, _ := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(), nil)
	defer svc.Close()
	h := attachment.NewHandler(svc, &attachment.HandlerOptions{
		Prefix: "/files",
		Signer: signer,
		Access: attachment.AccessFuncs{IdentifyFunc: func(r *http.Request) (attachment.Caller, error) {
			return attachment.Caller{}, attachment.ErrUnauthorized // no credentials work here
		}},
	})

	ctx := context.Background()
	atts, _ := svc.Upload(ctx, nil, attachment.File{Name: "report.txt", Content: strings.NewReader("quarterly figures")})
	su, err := h.SignedURL(ctx, "", atts[0].ID, &attachment.SignOptions{TTL: 10 * time.Minute})
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.HasPrefix(su.URL, "/files/"+atts[0].ID+"?"), time.Until(su.ExpiresAt) <= 10*time.Minute)

	get := func(target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		return rec
	}
	rec := get(su.URL)
	fmt.Println(rec.Code, rec.Body.String())
	fmt.Println(get("/files/" + atts[0].ID).Code) // without the signature

	u, _ := url.Parse(su.URL)
	q := u.Query()
	q.Set("expires", fmt.Sprint(time.Now().Add(time.Hour).Unix())) // a longer life
	u.RawQuery = q.Encode()
	fmt.Println(get(u.String()).Code)
	// Output:
	// true true
	// 200 quarterly figures
	// 401
	// 403
}

// Maintenance: content left without a record (here written by hand, as a
// crash between an upload's two writes would leave it) is removed once
// older than Options.Maintenance.OrphanGrace; the attachments in order are
// untouched.
func ExampleService_Maintain() {
	ctx := context.Background()
	bucket, meta := memblob.OpenBucket(nil), memstore.New()
	opts := &attachment.Options{
		// Maintenance: attachment.MaintenanceOptions{
		// 	AbandonAfter: 24 * time.Hour, // would also delete uploads never referenced
		// 	Interval:     time.Hour,      // would run Maintain in the background
		// },
	}
	svc, err := attachment.New(storage.New(bucket), meta, opts)
	if err != nil {
		panic(err)
	}
	defer svc.Close()
	if _, err := svc.Upload(ctx, nil, attachment.File{Name: "kept.txt", Content: strings.NewReader("kept")}); err != nil {
		panic(err)
	}
	orphan := "01900000-0000-7000-8000-000000000001"
	if err := bucket.WriteAll(ctx, storage.ContentKey(orphan), []byte("left by a crash"), nil); err != nil {
		panic(err)
	}

	rep, err := svc.Maintain(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Printf("checked %d content files and %d records; removed %d without a record\n",
		rep.ContentChecked, rep.RecordsChecked, rep.OrphanContent)

	// The orphan is younger than OrphanGrace (a day by default): it could be
	// an upload in progress. With no upload in progress (the app is down),
	// a run with a tiny grace removes it.
	time.Sleep(5 * time.Millisecond)
	offline, err := attachment.New(storage.New(bucket), meta, &attachment.Options{Processing: attachment.ProcessingOptions{Workers: attachment.Off}, Maintenance: attachment.MaintenanceOptions{OrphanGrace: time.Millisecond}})
	if err != nil {
		panic(err)
	}
	defer offline.Close()
	rep, err = offline.Maintain(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Printf("checked %d content files and %d records; removed %d without a record\n",
		rep.ContentChecked, rep.RecordsChecked, rep.OrphanContent)
	// Output:
	// checked 2 content files and 1 records; removed 0 without a record
	// checked 2 content files and 1 records; removed 1 without a record
}

// The OpenAPI document is served at {prefix}/openapi.json; the same bytes
// are available from Go.
func ExampleOpenAPI() {
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct {
			Version string `json:"version"`
		} `json:"info"`
		Servers []struct {
			URL string `json:"url"`
		} `json:"servers"`
	}
	if err := json.Unmarshal(attachment.OpenAPI(), &doc); err != nil {
		panic(err)
	}
	fmt.Println(doc.OpenAPI, doc.Info.Version, doc.Servers[0].URL)
	// Output: 3.0.3 1 .
}
