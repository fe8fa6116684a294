// Package attachment gives a Go web application a complete attachment API:
// upload, download, thumbnails, image dimensions, metadata, list and
// search, rename, references, delete and processing status, over HTTP (a
// net/http Handler mounted under any prefix) and from Go (a Service that
// does everything the handler does).
//
// # Quick start
//
// Open a Service on a content store and a metadata store, both chosen by
// URL, and mount its Handler on your own mux:
//
//	import (
//		_ "gocloud.dev/blob/fileblob"
//		_ "github.com/attachkit/attachment/metadata/sqlitestore"
//		"github.com/attachkit/attachment"
//	)
//
//	svc, err := attachment.Open(ctx,
//		"file:///var/lib/app/blobs?create_dir=1&no_tmp_dir=1&metadata=skip",
//		"sqlite:///var/lib/app/attachments.db", nil)
//	if err != nil { ... }
//	defer svc.Close()
//	mux.Handle("/attachments/", attachment.NewHandler(svc,
//		&attachment.HandlerOptions{Prefix: "/attachments"}))
//
// The HTTP API is documented in docs/api.md: POST / uploads (multipart or a
// raw body), GET /{id} downloads with Range and conditional requests,
// GET /{id}/metadata, PATCH /{id}, DELETE /{id}, POST /{id}/refs,
// GET /{id}/thumbnail, GET /{id}/status (with ?wait=), POST /_status, and
// GET / lists with filters and cursors.
//
// # Processing
//
// After an upload, Processors run from a durable queue kept in the metadata
// store (metadata.Queue): the built-in "analyze" (image width and height)
// and "thumbnail" (the default thumbnail), and the host's own, given in
// Options.Processors (see ProcessorFunc). Jobs survive restarts, are retried
// with backoff, and are taken up again when a worker dies; Close drains
// them. Thumbnails are made once, kept beside the content, and served from
// there.
//
// # Stores
//
// Content lives in any gocloud.dev/blob bucket: file://, mem://, s3://,
// gs://, azblob://, with the driver imported by the program. For file://
// buckets, no_tmp_dir=1 keeps temporary files on the same file system as
// the content (so the final rename cannot cross devices) and metadata=skip
// avoids a sidecar file per blob (the record holds the metadata). Records
// live in a metadata.Store: mem:// (metadata/memstore, for tests),
// sqlite://PATH (metadata/sqlitestore, the embedded default) or
// postgres:// (metadata/pgstore, for several instances sharing one
// database and one bucket). Keys in the bucket are derived from the
// server-made ID alone (see package storage).
//
// # Uploads
//
// Content streams from the request into the bucket while its SHA-256 is
// computed and its type detected from the first bytes; the record is
// committed only once the content is stored, and an upload is all or
// nothing: on any error none of its files remains. Limits (Options) bound
// the bytes per file and per request, files per upload and allowed
// detected types.
//
// # Errors
//
// Service methods return errors that wrap the package's sentinels
// (ErrNotFound, ErrTooLarge, ErrReferenced, ...); test them with errors.Is.
// Errors about the caller's input are *Error values whose Detail is safe to
// show. The Handler maps each sentinel to one status and a stable problem
// code in RFC 9457 problem details; other errors are a 500 whose detail is
// only logged.
//
// # Security
//
// The library authenticates no one: the host's Access hook names each
// caller and its tenant and allows or refuses each operation. An
// attachment of another tenant is a 404 on every route, exactly like a
// missing one. Downloads and thumbnails carry X-Content-Type-Options:
// nosniff, Content-Security-Policy: sandbox and Referrer-Policy:
// no-referrer, and content is served as an attachment unless a client asks
// for inline display of a type that runs no code (raster images, PDF,
// plain text). Filenames are cleaned of path components, control and
// bidirectional-override characters. With HandlerOptions.Signer, POST
// /{id}/signed-url hands out time-limited download URLs (HMAC-SHA256,
// rotating keys) that need no credentials. Set http.Server timeouts
// (ReadHeaderTimeout at least) against slow clients. docs/security.md in
// the repository has the threat model.
package attachment
