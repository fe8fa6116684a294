// Command server serves the attachment HTTP API on embedded defaults: a
// local folder for content and an SQLite file for records, both under
// ./data. It is the README's first command:
//
//	go run ./examples/server
//
// Flags choose the address, the mount prefix, the stores (any gocloud.dev
// blob URL whose driver is imported below, any metadata store URL), the
// size limits (-max-size per file, -max-request-size per upload request;
// 0 is the library's default, -1 no limit) and an optional API token. A
// demo page (upload, list, search, rename, delete) is served at "/" unless
// -demo=false. For several instances on shared stores:
//
//	go run ./examples/server -blob 's3://bucket?region=eu-west-1' -meta 'postgres://user:pass@host/db'
//
// -signing-key enables signed URLs (POST /{id}/signed-url). Its value is a
// secret of at least 32 bytes, in hex (64 hex digits: openssl rand -hex
// 32) or base64; or several, separated by commas, to rotate keys: the
// first signs, every one verifies. Each key's ID in the URLs is the first
// 8 hex digits of the SHA-256 of its secret. When the flag is not given,
// the environment variable ATTACHMENT_SIGNING_KEY is read instead (this
// program reads it; the library never reads the environment). Without
// either, there are no signed URLs.
//
// Bound to a loopback address (the default), the server answers only
// requests whose Host is a loopback name (localhost, 127.0.0.0/8, [::1]):
// a web page on another site whose name an attacker resolves to 127.0.0.1
// (DNS rebinding) is refused, which matters most without -token. Browsers'
// cross-origin requests that change something are refused too
// (HandlerOptions.CrossOrigin); the demo page is same-origin.
//
// Maintenance (-maintain-every) removes what a crash leaves: content
// without a record once older than -orphan-grace (2h here, against the
// library's 24 h), a blob driver's temporary files and S3's incomplete
// multipart uploads once older than half of it. An upload must then end
// within half of -orphan-grace (1 h), or it fails at its commit.
//
// gs:// and azblob:// buckets need the cloud build tag (see cloud.go).
package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	_ "gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/memblob"
	_ "gocloud.dev/blob/s3blob"

	_ "github.com/attachkit/attachment/storage/s3uploads" // Maintain aborts stale S3 multipart uploads

	"github.com/attachkit/attachment"
	_ "github.com/attachkit/attachment/metadata/memstore"
	_ "github.com/attachkit/attachment/metadata/pgstore"
	_ "github.com/attachkit/attachment/metadata/sqlitestore"
	"github.com/attachkit/attachment/resumable"
	"github.com/attachkit/attachment/wire"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// signingKeyEnv is read for -signing-key when the flag is not given.
const signingKeyEnv = "ATTACHMENT_SIGNING_KEY"

// config is what the flags say.
type config struct {
	addr, prefix, blobURL, metaURL, token string
	// maxSize is Options.MaxFileSize and maxRequest
	// HandlerOptions.MaxRequestSize: 0 is the default, -1 (attachment.Off)
	// no limit.
	maxSize, maxRequest int64
	// demo serves the demo page at "/" (web/, demo.go).
	demo bool
	// signer is nil unless -signing-key (or ATTACHMENT_SIGNING_KEY) is set.
	signer *attachment.Signer
	// maintainEvery, abandonAfter and orphanGrace are
	// Options.Maintenance.Interval, AbandonAfter and OrphanGrace.
	maintainEvery, abandonAfter, orphanGrace time.Duration
	// dialect, when set, is the seed API served beside the native one
	// (dialects.go), at dialectPrefix.
	dialect, dialectPrefix string
}

// defaultOrphanGrace is -orphan-grace's default: shorter than the
// library's DefaultOrphanGrace (24 h), so that what a crash leaves is
// gone within hours; uploads must end within half of it.
const defaultOrphanGrace = 2 * time.Hour

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.prefix, "prefix", "/attachments", "path the API is mounted under")
	fs.StringVar(&c.blobURL, "blob", "file://./data/blobs?create_dir=1&no_tmp_dir=1&metadata=skip", "content store: a gocloud.dev/blob URL (file://, mem://, s3://; gs:// and azblob:// with -tags cloud)")
	fs.StringVar(&c.metaURL, "meta", "sqlite://./data/attachments.db", "metadata store URL (sqlite://PATH, postgres://..., mem://)")
	fs.Int64Var(&c.maxSize, "max-size", attachment.DefaultMaxFileSize, "largest file accepted, in bytes; -1 for no limit")
	fs.Int64Var(&c.maxRequest, "max-request-size", 0, "largest upload request body, in bytes; 0 for the default (1 GiB, or -max-size plus 1 MiB when that is more), -1 for no limit")
	fs.BoolVar(&c.demo, "demo", true, "serve the demo page at / (its files under /_demo/)")
	fs.DurationVar(&c.maintainEvery, "maintain-every", time.Hour, "how often to run maintenance (remove content left without a record by a crash or a failed delete; sweep abandoned uploads with -abandon-after); 0 turns it off")
	fs.DurationVar(&c.abandonAfter, "abandon-after", 0, "delete uploads never referenced (POST /{id}/refs) once this old; 0 (the default) keeps them")
	fs.DurationVar(&c.orphanGrace, "orphan-grace", defaultOrphanGrace, "maintenance removes content without a record once this old, and temporary files and S3 multipart uploads left by a crash at half of it; an upload must end within half of it; 0 for the library's default (24h)")
	fs.StringVar(&c.token, "token", "", "when set, every request needs \"Authorization: Bearer TOKEN\" or \"X-API-Token: TOKEN\" (a dialect's routes: the credential its clients send)")
	fs.StringVar(&c.dialect, "dialect", "", "also serve one seed system's attachment API over the same attachments: "+dialectNames())
	fs.StringVar(&c.dialectPrefix, "dialect-prefix", "", "path the dialect is mounted under (default: its documented base path)")
	// No default shown for the key: -help must not print a secret.
	signingKey := fs.String("signing-key", "", "enables signed URLs: a secret of at least 32 bytes in hex or base64, or several separated by commas (the first signs, all verify); default $"+signingKeyEnv)
	ttl := fs.Duration("signed-url-ttl", attachment.DefaultSignedURLTTL, "lifetime of a signed URL when the client asks for none")
	maxTTL := fs.Duration("signed-url-max-ttl", attachment.DefaultSignedURLMaxTTL, "longest lifetime of a signed URL")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.maintainEvery < 0 || c.abandonAfter < 0 || c.orphanGrace < 0 {
		return c, errors.New("-maintain-every, -abandon-after and -orphan-grace must not be negative")
	}
	// Open checks -max-size; NewHandler would panic on a bad
	// -max-request-size, so it is checked here.
	if err := (&attachment.HandlerOptions{MaxRequestSize: c.maxRequest}).Validate(); err != nil {
		return c, fmt.Errorf("-max-request-size: %w", err)
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	c.prefix = "/" + strings.Trim(c.prefix, "/")
	if c.prefix == "/" {
		return c, errors.New("-prefix must not be empty")
	}
	if err := checkDialect(&c); err != nil {
		return c, err
	}
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == "signing-key" })
	if !given {
		*signingKey = os.Getenv(signingKeyEnv)
	}
	if *signingKey != "" {
		keys, err := parseSigningKeys(*signingKey)
		if err != nil {
			return c, err
		}
		c.signer, err = attachment.NewSigner(attachment.SignerOptions{Keys: keys, DefaultTTL: *ttl, MaxTTL: *maxTTL})
		if err != nil {
			return c, fmt.Errorf("-signing-key: %w", err)
		}
	}
	return c, nil
}

// parseSigningKeys reads a comma-separated list of secrets, each in hex
// or base64 (standard or URL alphabet, padded or not). A key's ID is the
// first 8 hex digits of the SHA-256 of its secret.
func parseSigningKeys(v string) ([]attachment.SigningKey, error) {
	var keys []attachment.SigningKey
	for i, s := range strings.Split(v, ",") {
		secret, err := decodeSecret(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("-signing-key: key %d is neither hex nor base64", i+1)
		}
		if len(secret) < attachment.MinSigningKeyBytes {
			return nil, fmt.Errorf("-signing-key: key %d has %d bytes, want at least %d (openssl rand -hex 32)", i+1, len(secret), attachment.MinSigningKeyBytes)
		}
		sum := sha256.Sum256(secret)
		keys = append(keys, attachment.SigningKey{ID: hex.EncodeToString(sum[:4]), Secret: secret})
	}
	return keys, nil
}

func decodeSecret(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not hex or base64")
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	c, err := parseFlags(args)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	svc, err := attachment.Open(ctx, c.blobURL, c.metaURL, &attachment.Options{
		MaxFileSize: c.maxSize,
		Logger:      log,
		Maintenance: attachment.MaintenanceOptions{Interval: c.maintainEvery, AbandonAfter: c.abandonAfter, OrphanGrace: c.orphanGrace},
	})
	if err != nil {
		return err
	}
	defer svc.Close()

	var access attachment.Access
	if c.token != "" {
		access = tokenAccess(c.token, c.dialectCredential())
	}
	api := attachment.NewHandler(svc, &attachment.HandlerOptions{
		Prefix:         c.prefix,
		Access:         access,
		Signer:         c.signer,
		MaxRequestSize: c.maxRequest,
		// Resumable uploads (tus 1.0.0) at {prefix}/uploads/.
		Uploads: resumable.New(nil),
		// The native token travels in a header, which no other site can
		// make a browser send; the chat dialect's travels in a cookie,
		// which a browser sends with any site's request: refusing
		// browsers' cross-origin writes keeps that safe.
		CrossOrigin: http.NewCrossOriginProtection(),
	})
	var dialect http.Handler
	if c.dialect != "" {
		dialect = dialects()[c.dialect].mount(api, c.dialectPrefix)
	}
	mux, err := routes(c, api, dialect)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	var handler http.Handler = mux
	if a, ok := ln.Addr().(*net.TCPAddr); ok && a.IP.IsLoopback() {
		handler = loopbackOnly(mux)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		// No ReadTimeout or WriteTimeout: they would cut off large uploads
		// and downloads. IdleTimeout closes idle keep-alive connections.
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stdout, "attachment API listening on http://%s%s/\n", ln.Addr(), c.prefix)
	if c.dialect != "" {
		fmt.Fprintf(stdout, "%s dialect on http://%s%s/\n", c.dialect, ln.Addr(), c.dialectPrefix)
	}
	if c.demo {
		fmt.Fprintf(stdout, "demo page on http://%s/\n", ln.Addr())
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// tokenAccess requires a shared token on every request: in the native
// API's headers, or, on a dialect's routes (dialect not nil), as that
// system's clients send it. The SHA-256 digests of the token sent and the
// token expected are compared, in constant time: both have the same length
// whatever was sent, so the time taken tells nothing of the token, its
// length included. (subtle.ConstantTimeCompare of the tokens themselves
// returns at once when their lengths differ.)
func tokenAccess(token string, dialect *credential) attachment.Access {
	want := sha256.Sum256([]byte(token))
	return attachment.AccessFuncs{
		IdentifyFunc: func(r *http.Request) (attachment.Caller, error) {
			var got string
			if dialect != nil && within(r.URL.Path, dialect.prefix) {
				got, _ = dialect.token(r)
			} else {
				got = r.Header.Get("X-API-Token")
				if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
					got = v
				}
			}
			sum := sha256.Sum256([]byte(got))
			if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
				return attachment.Caller{}, attachment.ErrUnauthorized
			}
			return attachment.Caller{}, nil
		},
	}
}

// loopbackOnly serves only requests whose Host is a loopback name, for a
// server bound to a loopback address: what reaches it from a browser
// under any other name comes from a page of another site that resolved
// its own name to this address (DNS rebinding), to read or change what
// the server holds. Others are answered 403 with a problem+json.
func loopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusForbidden)
			_ = json.NewEncoder(w).Encode(wire.Problem{
				Type:   "about:blank",
				Title:  http.StatusText(http.StatusForbidden),
				Status: http.StatusForbidden,
				Detail: "this server listens on a loopback address and answers only to localhost, 127.0.0.1 or [::1] in the Host header",
				Code:   wire.CodeForbidden,
			})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether host (a Host header: a name or an address,
// with or without a port) is localhost, an address in 127.0.0.0/8 or ::1.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
