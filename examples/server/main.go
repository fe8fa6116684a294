// Command server serves the attachment HTTP API on embedded defaults: a
// local folder for content and an SQLite file for records, both under
// ./data. It is the README's first command:
//
//	go run ./examples/server
//
// Flags choose the address, the mount prefix, the stores (any gocloud.dev
// blob URL whose driver is imported below, any metadata store URL), the
// file size limit and an optional API token. For several instances on
// shared stores:
//
//	go run ./examples/server -blob 's3://bucket?region=eu-west-1' -meta 'postgres://user:pass@host/db'
//
// gs:// and azblob:// buckets need the cloud build tag (see cloud.go).
package main

import (
	"context"
	"crypto/subtle"
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

	"github.com/attachkit/attachment"
	_ "github.com/attachkit/attachment/metadata/memstore"
	_ "github.com/attachkit/attachment/metadata/pgstore"
	_ "github.com/attachkit/attachment/metadata/sqlitestore"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// config is what the flags say.
type config struct {
	addr, prefix, blobURL, metaURL, token string
	maxSize                               int64
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&c.prefix, "prefix", "/attachments", "path the API is mounted under")
	fs.StringVar(&c.blobURL, "blob", "file://./data/blobs?create_dir=1&no_tmp_dir=1&metadata=skip", "content store: a gocloud.dev/blob URL (file://, mem://, s3://; gs:// and azblob:// with -tags cloud)")
	fs.StringVar(&c.metaURL, "meta", "sqlite://./data/attachments.db", "metadata store URL (sqlite://PATH, postgres://..., mem://)")
	fs.Int64Var(&c.maxSize, "max-size", attachment.DefaultMaxFileSize, "largest file accepted, in bytes")
	fs.StringVar(&c.token, "token", "", "when set, every request needs \"Authorization: Bearer TOKEN\" or \"X-API-Token: TOKEN\"")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	c.prefix = "/" + strings.Trim(c.prefix, "/")
	if c.prefix == "/" {
		return c, errors.New("-prefix must not be empty")
	}
	return c, nil
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
	})
	if err != nil {
		return err
	}
	defer svc.Close()

	var access attachment.Access
	if c.token != "" {
		access = tokenAccess(c.token)
	}
	mux := http.NewServeMux()
	mux.Handle(c.prefix+"/", attachment.NewHandler(svc, &attachment.HandlerOptions{
		Prefix: c.prefix,
		Access: access,
	}))

	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		// No ReadTimeout or WriteTimeout: they would cut off large uploads
		// and downloads. IdleTimeout closes idle keep-alive connections.
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stdout, "attachment API listening on http://%s%s/\n", ln.Addr(), c.prefix)

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

// tokenAccess requires a shared token on every request.
func tokenAccess(token string) attachment.Access {
	return attachment.AccessFuncs{
		IdentifyFunc: func(r *http.Request) (attachment.Caller, error) {
			got := r.Header.Get("X-API-Token")
			if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
				got = v
			}
			if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				return attachment.Caller{}, attachment.ErrUnauthorized
			}
			return attachment.Caller{}, nil
		},
	}
}
