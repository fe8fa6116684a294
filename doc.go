// Package attachment gives a Go web application a complete attachment API:
// upload, download, thumbnails, image dimensions, metadata, list and
// search, rename, references, delete, processing status and signed URLs.
// It is served over HTTP by a [Handler] (a net/http.Handler mounted under
// any prefix on the host's own mux or router) and called from Go through a
// [Service], which does everything the Handler does.
//
// Content lives in any gocloud.dev/blob bucket (a local folder, S3 or an
// S3-compatible server, Google Cloud Storage, Azure); records live in a
// metadata store (SQLite embedded by default, PostgreSQL for several
// instances, memory for tests). Both are chosen by URL.
//
// # Quick start
//
// Open a Service on a content URL and a metadata URL, and mount a Handler
// for it on your mux under a prefix:
//
//	import (
//		"github.com/attachkit/attachment"
//		_ "github.com/attachkit/attachment/metadata/sqlitestore" // sqlite://
//		_ "gocloud.dev/blob/fileblob"                             // file://
//	)
//
//	svc, err := attachment.Open(ctx,
//		"file:///var/lib/app/blobs?create_dir=1&no_tmp_dir=1&metadata=skip",
//		"sqlite:///var/lib/app/attachments.db", nil)
//	if err != nil {
//		return err
//	}
//	defer svc.Close() // drains processing, closes both stores
//
//	mux := http.NewServeMux()
//	mux.Handle("/attachments/", attachment.NewHandler(svc, &attachment.HandlerOptions{
//		Prefix: "/attachments",
//		Access: access, // your authentication: see "Access and tenants"
//	}))
//	srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 10 * time.Second}
//
// [HandlerOptions].Prefix tells the handler where it is mounted: requests
// arrive with the prefix (a ServeMux pattern, chi's Mount, echo and gin
// groups) and the handler strips it itself. Wrapping the handler in
// [net/http.StripPrefix] works too; the handler then finds the prefix from
// the request's RequestURI, and Prefix may be left empty. Set Prefix in
// either case if you call [Handler.SignedURL], whose URLs start with it.
// Every URL the API returns (url, thumbnail_url, Location) includes the
// prefix. Hosts that route each operation themselves can call the
// handler's methods one by one ([Handler.Upload], [Handler.Download], ...).
// docs/integrations.md in the repository mounts the handler on chi, echo
// and gin.
//
// # Stores and their URLs
//
// [Open] opens content by a gocloud.dev/blob URL and records by a metadata
// URL. The program imports the driver of each scheme it uses (a blank
// import registers it):
//
//	file:///var/lib/app/blobs?create_dir=1&no_tmp_dir=1&metadata=skip  gocloud.dev/blob/fileblob
//	mem://                                                             gocloud.dev/blob/memblob
//	s3://bucket?region=eu-west-1                                       gocloud.dev/blob/s3blob (and .../storage/s3uploads)
//	gs://bucket                                                        gocloud.dev/blob/gcsblob
//	azblob://container                                                 gocloud.dev/blob/azureblob
//
//	mem://                                                  github.com/attachkit/attachment/metadata/memstore
//	sqlite:///var/lib/app/attachments.db                    github.com/attachkit/attachment/metadata/sqlitestore
//	postgres://user:pass@host:5432/db?sslmode=verify-full   github.com/attachkit/attachment/metadata/pgstore
//
// For file:// buckets, create_dir=1 creates the folder, no_tmp_dir=1 keeps
// temporary files beside the content (so the final rename never crosses
// file systems) and metadata=skip saves a sidecar file per blob (the record
// holds everything). sqlite://PATH is relative to the working directory
// (sqlite://data/meta.db) or absolute (sqlite:///var/lib/meta.db) and takes
// no parameters; a postgres:// URL is a pgx connection string, parameters
// included. S3-compatible servers (MinIO, R2, B2, Ceph, versitygw) take an
// endpoint and a few more parameters; docs/backends.md has them, and
// docs/configuration.md every option with its default.
//
// [New] takes stores the host opened itself: [storage.New] over a
// *blob.Bucket, and a [metadata.Store] such as memstore.New(),
// sqlitestore.Open or pgstore.New over an existing pgxpool.
//
// # The HTTP API
//
// Paths are relative to the mount prefix. The contract is the OpenAPI 3.0
// document the handler serves at GET {prefix}/openapi.json (also [OpenAPI]);
// docs/api.md explains it in prose. Go programs on the other side of the
// wire use package [github.com/attachkit/attachment/client], whose errors
// match this package's sentinels with errors.Is.
//
//	POST   /                      upload: multipart (many files) or a raw body (?filename=)
//	GET    /                      list and search: owner, label.KEY, q, type, limit, cursor, order
//	GET    /{id}                  download, with Range and conditional requests (HEAD alike)
//	GET    /{id}/metadata         the record as JSON
//	PATCH  /{id}                  rename; change owner or labels (PUT alike)
//	DELETE /{id}                  delete (409 when referenced, unless ?force=true)
//	POST   /{id}/refs             add a reference; DELETE /{id}/refs/{ref} removes one
//	GET    /{id}/thumbnail        a JPEG or PNG thumbnail (?size=); 204 when none can be made
//	GET    /{id}/status           processing status (?wait=10s answers when it is done)
//	POST   /_status               the status of many attachments at once
//	POST   /{id}/signed-url       a time-limited URL that reads without credentials
//	GET    /openapi.json          the OpenAPI document (the access hook is not asked)
//
// # From Go
//
// A [Service] does the same from Go: [Service.Upload] (all or nothing;
// [Service.NewBatch] when files arrive one by one), [Service.Get],
// [Service.OpenContent] (an io.ReadSeeker, ready for http.ServeContent),
// [Service.List] and [Service.All] (an iterator over every page),
// [Service.Update], [Service.AddRef], [Service.RemoveRef],
// [Service.Delete], [Service.Thumbnail], [Service.Status],
// [Service.WaitStatus] and [Service.Maintain]. A Service acts in the default tenant "";
// [Service.ForTenant] returns a view that sees only another tenant's
// attachments. The package's examples show each in a few lines.
//
// # Errors
//
// Service methods return errors that wrap the package's sentinels; test
// them with [errors.Is]. They, and the API's types ([Attachment],
// [ListOptions], [Page], [Status], [Problem], ...), are those of package
// [github.com/attachkit/attachment/wire], which the Go client shares
// without the server; metadata's ErrNotFound, ErrReferenced and ErrExists
// are the same values. Errors about the caller's input are [*Error]
// values whose Detail is safe to show to a client. The Handler answers
// every error as an RFC 9457 application/problem+json body ([Problem])
// with a stable code, by the one table of [wire.Kinds]:
//
//	ErrNotFound          404 not_found (also another tenant's attachment)
//	ErrTooLarge          413 too_large (a file over MaxFileSize; a body over MaxRequestSize too)
//	ErrTooManyFiles      400 too_many_files
//	ErrUnsupportedType   415 unsupported_type
//	ErrChecksumMismatch  400 checksum_mismatch
//	ErrInvalidFilename   400 invalid_filename
//	ErrInvalidSize       400 invalid_size (a thumbnail size not allowed)
//	ErrReferenced        409 referenced
//	ErrConflict          409 conflict (metadata.ErrExists: a write conflict in the store)
//	ErrUnauthorized      401 unauthorized
//	ErrForbidden         403 forbidden
//	ErrInvalid           400 bad_request (as are malformed requests; too many ranges is 416 bad_request)
//	ErrUnavailable       503 unavailable (with Retry-After: too many status waits, decoders busy)
//
// Any other error is a 500 with code internal, whose detail goes only to
// the logger ([Options].Logger or [HandlerOptions].Logger); no store
// error, path or SQL reaches a client. [ErrNoThumbnail] is a 204 on the
// thumbnail route.
//
// # Processing and thumbnails
//
// After an upload, processors ([Processor]) run from a durable queue kept
// in the metadata store ([metadata.Queue]; memstore, sqlitestore and pgstore all
// keep one): the built-in "analyze" (an image's width and height, EXIF
// orientation applied) and "thumbnail" (the default thumbnail, made ahead
// of the first request), and the host's own, given in
// [ProcessingOptions].Processors and most easily made with
// [ProcessorFunc]. An upload never waits for them. Jobs survive restarts, are retried with backoff (an error wrapping
// [ErrPermanent] fails at once), are taken up again when a worker dies, and
// are shared by every instance on the same store; [Service.Close] drains
// them. Each attachment's processing map (and GET /{id}/status) says where
// each job stands; [Service.WaitStatus] and ?wait= answer as soon as all are
// done. Thumbnails come in the sizes of [ThumbnailOptions].Sizes, are made
// once, kept beside the content and served from there;
// [ProcessingOptions].NoImageProcessing leaves out the built-in processors.
//
// # Maintenance
//
// [Service.Maintain] (or, with [MaintenanceOptions].Interval, a background
// loop) deletes abandoned uploads, attachments never referenced and older
// than [MaintenanceOptions].AbandonAfter (off by default), removes content
// and thumbnails that have no record once older than
// [MaintenanceOptions].OrphanGrace,
// and reports records whose content is missing. Hosts that keep what they
// use marked with references ([Service.AddRef]) can let it sweep the rest.
//
// # Access and tenants
//
// The library authenticates no one. The host's [Access] hook (often an
// [AccessFuncs]) names the [Caller] of each request and its tenant
// (Identify), and allows or refuses each [Operation] on each attachment
// (Allow). The hook sees the *http.Request: a framework's auth middleware
// passes its user through the request's context. Uploads and updates are
// put to Allow a second time, with the records as they will be stored
// (what the body sets included), before anything is committed; [Before]
// tells that call from the first. An attachment of another tenant, or one
// the hook hides with [ErrNotFound], is a 404 on every route, byte for byte
// like a missing one. Without a hook every caller is allowed everything in
// the default tenant, which is fine for a demo on loopback and never on a
// network. [Handler.Authorize] and [Service.WithCommitCheck] give layers
// over the Service (other upload protocols) the same checks.
//
// # Signed URLs
//
// With a [Signer] in [HandlerOptions].Signer, POST /{id}/signed-url (for a
// caller allowed to download) and [Handler.SignedURL] (from Go) hand out
// URLs that read one attachment and its thumbnails without credentials
// until they expire: HMAC-SHA256 over the key ID, tenant, attachment,
// expiry and disposition, with the host's keys (at least 32 bytes; there is
// no built-in key), rotated by key ID. Without a Signer there are none.
//
// # Limits
//
// Every limit has a default. [Options] holds what the Service enforces on
// every way in: bytes per file (100 MiB), files per upload (32), allowed
// content types (by the type detected from the bytes; all by default),
// filename and field lengths, labels, pixels per decoded image (50
// million, checked from the header) and images decoded at once (2).
// [HandlerOptions] holds the limits only HTTP requests have: bytes per
// request (1 GiB, refused from Content-Length before the body is read),
// parts per multipart request (128) and ranges per Range header (64).
// Every numeric field of both follows one rule: zero is the default, [Off]
// turns the limit off where the field's documentation allows it, and any
// other value out of range is an error wrapping [ErrInvalidOptions] that
// names the field. Uploads stream: memory does not grow with a file's
// size.
//
// # Security
//
// docs/security.md in the repository has the threat model, what the
// library guarantees and what the host must do:
//
//   - authenticate every request in the Access hook (the library has no
//     users);
//   - set [net/http.Server] timeouts: ReadHeaderTimeout at least, and
//     IdleTimeout; not ReadTimeout or WriteTimeout, which cut off large
//     transfers;
//   - serve downloads from a separate origin where users view each other's
//     uploads inline.
//
// What the library does: content is served as an attachment unless a
// client asks for inline display of a type that runs no code (raster
// images, audio, video, PDF, plain text), always with
// X-Content-Type-Options: nosniff, Content-Security-Policy: sandbox and
// Referrer-Policy: no-referrer; types are detected from the bytes, never
// taken from the client; filenames are cleaned of path components, control
// and bidirectional-override characters; bucket keys come from the
// server-made ID alone; an upload is all or nothing, and a 201 is sent only
// once its records are committed.
package attachment
