package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/client"
	"github.com/attachkit/attachment/wire"
)

// startServer runs the attachment handler over mem:// stores under
// /files on a test server and returns the API's base URL.
func startServer(hopts *attachment.HandlerOptions) (baseURL string, stop func()) {
	svc, err := attachment.Open(context.Background(), "mem://", "mem://", nil)
	if err != nil {
		panic(err)
	}
	var o attachment.HandlerOptions
	if hopts != nil {
		o = *hopts
	}
	o.Prefix = "/files"
	mux := http.NewServeMux()
	mux.Handle("/files/", attachment.NewHandler(svc, &o))
	srv := httptest.NewServer(mux)
	return srv.URL + "/files", func() { srv.Close(); svc.Close() }
}

// Upload with progress, read back, list, and test errors with errors.Is.
func Example() {
	base, stop := startServer(nil)
	defer stop()
	ctx := context.Background()

	c, err := client.New(base, &client.Options{Token: "s3cret"}) // "Authorization: Bearer s3cret"
	if err != nil {
		panic(err)
	}
	a, err := c.Upload(ctx, client.File{Name: "notes.txt", Content: strings.NewReader("hello world")},
		&client.UploadOptions{
			Owner: "document:42",
			Progress: func(sent, total int64) {
				if sent == total {
					fmt.Printf("sent %d of %d bytes\n", sent, total)
				}
			},
		})
	if err != nil {
		panic(err)
	}
	fmt.Println(a.Filename, a.ContentType, a.Size)

	body, info, err := c.Open(ctx, a.ID)
	if err != nil {
		panic(err)
	}
	b, _ := io.ReadAll(body)
	body.Close()
	fmt.Println(string(b), info.Size)

	for page, err := range c.List(ctx, &wire.ListOptions{Owner: "document:42"}) {
		if err != nil {
			panic(err)
		}
		for _, a := range page.Attachments {
			fmt.Println("listed", a.Filename)
		}
	}

	if _, err := c.AddRef(ctx, a.ID, "document:42"); err != nil {
		panic(err)
	}
	err = c.Delete(ctx, a.ID, nil)
	fmt.Println(errors.Is(err, wire.ErrReferenced))
	// Output:
	// sent 11 of 11 bytes
	// notes.txt text/plain; charset=utf-8 11
	// hello world 11
	// listed notes.txt
	// true
}

// Several files in one request: all of them are stored, or none.
func ExampleClient_UploadMany() {
	base, stop := startServer(nil)
	defer stop()
	c, _ := client.New(base, nil)

	atts, err := c.UploadMany(context.Background(), []client.File{
		{Name: "a.txt", Content: strings.NewReader("first")},
		{Name: "b.csv", Content: strings.NewReader("x,y\n1,2\n"), ContentType: "text/csv"},
	}, &client.UploadOptions{Owner: "chat:7", Labels: map[string]string{"workspace": "w1"}})
	if err != nil {
		panic(err)
	}
	for _, a := range atts {
		fmt.Println(a.Filename, a.ContentType, a.Owner, a.Labels["workspace"])
	}
	// Output:
	// a.txt text/plain; charset=utf-8 chat:7 w1
	// b.csv text/csv chat:7 w1
}

// Every attachment of an owner, page after page; breaking out of the loop
// fetches no more pages.
func ExampleClient_All() {
	base, stop := startServer(nil)
	defer stop()
	c, _ := client.New(base, nil)
	ctx := context.Background()
	for _, name := range []string{"one.txt", "two.txt", "three.txt"} {
		if _, err := c.Upload(ctx, client.File{Name: name, Content: strings.NewReader(name)}, &client.UploadOptions{Owner: "doc:1"}); err != nil {
			panic(err)
		}
	}
	for a, err := range c.All(ctx, &wire.ListOptions{Owner: "doc:1", Limit: 2, Ascending: true}) {
		if err != nil {
			panic(err)
		}
		fmt.Println(a.Filename)
	}
	// Output:
	// one.txt
	// two.txt
	// three.txt
}

// A part of the content, by a Range request.
func ExampleClient_OpenRange() {
	base, stop := startServer(nil)
	defer stop()
	c, _ := client.New(base, nil)
	ctx := context.Background()
	a, _ := c.Upload(ctx, client.File{Name: "abc.txt", Content: strings.NewReader("abcdefghijklmnopqrstuvwxyz")}, nil)

	body, info, err := c.OpenRange(ctx, a.ID, 10, 5)
	if err != nil {
		panic(err)
	}
	b, _ := io.ReadAll(body)
	body.Close()
	fmt.Println(string(b), info.Offset, info.Length, info.Size)

	_, _, err = c.OpenRange(ctx, a.ID, 26, 5)
	fmt.Println(client.IsStatus(err, http.StatusRequestedRangeNotSatisfiable))
	// Output:
	// klmno 10 5 26
	// true
}

// Wait for an image's processing (its size analysed, its thumbnail made),
// then fetch the thumbnail.
func ExampleClient_WaitStatus() {
	base, stop := startServer(nil)
	defer stop()
	c, _ := client.New(base, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for x := range 640 {
		img.Set(x, x*3/4, color.White)
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	a, err := c.Upload(ctx, client.File{Name: "photo.png", Content: &buf}, nil)
	if err != nil {
		panic(err)
	}

	st, err := c.WaitStatus(ctx, a.ID, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(st.Processing["analyze"], st.Processing["thumbnail"])

	body, info, err := c.Thumbnail(ctx, a.ID, 128)
	if err != nil {
		panic(err)
	}
	defer body.Close()
	cfg, _, _ := image.DecodeConfig(body)
	fmt.Println(info.ContentType, cfg.Width, cfg.Height)
	// Output:
	// completed completed
	// image/png 128 96
}

// A signed URL reads the content without the client's credentials.
func ExampleClient_SignedURL() {
	signer, err := attachment.NewSigner(attachment.SignerOptions{
		Keys: []attachment.SigningKey{{ID: "k1", Secret: []byte("a secret of at least thirty-two bytes")}},
	})
	if err != nil {
		panic(err)
	}
	base, stop := startServer(&attachment.HandlerOptions{Signer: signer})
	defer stop()
	c, _ := client.New(base, nil)
	ctx := context.Background()
	a, _ := c.Upload(ctx, client.File{Name: "report.txt", Content: strings.NewReader("quarterly numbers")}, nil)

	su, err := c.SignedURL(ctx, a.ID, &wire.SignOptions{TTL: 10 * time.Minute})
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.HasPrefix(su.URL, base+"/"+a.ID+"?"), time.Until(su.ExpiresAt).Round(time.Minute))

	resp, err := http.Get(su.URL) // a plain GET: no token, no headers
	if err != nil {
		panic(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(b))
	// Output:
	// true 10m0s
	// 200 quarterly numbers
}

// API errors are *client.Error, and errors.Is matches them with the root
// package's sentinels.
func ExampleError() {
	base, stop := startServer(nil)
	defer stop()
	c, _ := client.New(base, nil)

	_, err := c.Get(context.Background(), "01936f4e-8a6b-7cc2-9f1e-2b7c9d5e4a10")
	fmt.Println(errors.Is(err, wire.ErrNotFound))
	var ce *client.Error
	if errors.As(err, &ce) {
		fmt.Println(ce.Status, ce.Code)
	}
	// Output:
	// true
	// 404 not_found
}
