// Package client is a Go client for the attachment HTTP API that
// attachment.Handler serves (docs/api.md): upload, download (whole, by
// range, or as an io.ReaderAt), thumbnails, metadata, update, references,
// delete, listing and search, processing status and signed URLs.
//
// It speaks in package wire's types, which the server shares: uploads
// return *wire.Attachment, listings take *wire.ListOptions and yield
// *wire.Page, and errors.Is(err, wire.ErrNotFound) (and every other
// sentinel the server maps to a problem code, see wire.Kinds) holds for
// the *Error an API error answer becomes. The root package's names are
// the same types and values (attachment.Attachment is wire.Attachment,
// attachment.ErrNotFound is wire.ErrNotFound), so code written against an
// attachment.Service reads a Client's answers and errors alike.
//
// The package imports only the standard library and package wire: a
// program that only calls the API does not link the server, its stores
// or its image code.
//
// Uploads stream: the content is read from an io.Reader as the request is
// sent and never held in memory whole, one file as a raw body (Upload) or
// many in one multipart request (UploadMany, all or nothing).
//
// Large files, or uploads over a link that drops, go through
// UploadResumable: tus 1.0.0 at {base}/uploads/ (a server with
// attachment.HandlerOptions.Uploads set, such as resumable.New(nil)), in
// PATCH requests of ResumableOptions.ChunkSize bytes. A network error, a
// 5xx, 409 or 423 answer is retried with backoff (Retry-After honoured):
// the client asks the server for its offset and goes on from there, which
// needs File.Content to be an io.ReaderAt or io.ReadSeeker (a plain
// io.Reader only goes forward). ResumableOptions.OnCreate hands out the
// upload's URL to store; ResumableOptions.URL resumes it later, even from
// another process. UploadOffset asks how far an upload has come and
// CancelUpload terminates one. The upload's URL ends in the attachment's
// ID, and the committed record is returned as Upload returns it.
//
// # Quick start
//
//	c, err := client.New("http://localhost:8080/files", &client.Options{Token: os.Getenv("API_TOKEN")})
//	if err != nil {
//		return err
//	}
//	f, err := os.Open("report.pdf")
//	if err != nil {
//		return err
//	}
//	defer f.Close()
//	a, err := c.Upload(ctx, client.File{Name: "report.pdf", Content: f},
//		&client.UploadOptions{
//			Owner:    "document:42",
//			Progress: func(sent, total int64) { fmt.Printf("\r%d/%d", sent, total) },
//		})
//	if err != nil {
//		return err
//	}
//
//	body, info, err := c.Open(ctx, a.ID) // or OpenRange, NewReaderAt, Thumbnail
//	...
//	for page, err := range c.List(ctx, &wire.ListOptions{Owner: "document:42"}) {
//		if err != nil {
//			return err
//		}
//		for _, a := range page.Attachments {
//			fmt.Println(a.Filename, a.Size)
//		}
//	}
//
//	if err := c.Delete(ctx, a.ID, nil); errors.Is(err, wire.ErrReferenced) {
//		// still in use
//	}
//
// Options.Token sends "Authorization: Bearer TOKEN" on every request, as
// examples/server's -token expects; Options.Header and
// Options.RequestEditor carry any other credentials a host's access hook
// wants.
package client
