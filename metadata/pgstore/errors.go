package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/attachkit/attachment/metadata"
)

// classify wraps an error of the server or of the connection to it with
// metadata.ErrUnavailable when the server cannot be reached or is going
// away (a retry may work once it is back), or with
// metadata.ErrInsufficientStorage when its disk is full. Every other
// error, and the caller's own cancellation, is returned as it is.
func classify(err error) error {
	if err == nil || errors.Is(err, metadata.ErrUnavailable) || errors.Is(err, metadata.ErrInsufficientStorage) {
		return err
	}
	if kind := outage(err); kind != nil {
		return fmt.Errorf("%w: %w", kind, err)
	}
	return err
}

// outage returns the sentinel for an error that is an outage or a full
// disk, or nil.
func outage(err error) error {
	// The server's answer decides first: a connection refused for a wrong
	// password or an unknown database is no outage.
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "53100": // disk_full
			return metadata.ErrInsufficientStorage
		case strings.HasPrefix(pe.Code, "08"), // connection_exception
			pe.Code == "57P01", // admin_shutdown
			pe.Code == "57P02", // crash_shutdown
			pe.Code == "57P03", // cannot_connect_now: starting up, in recovery
			pe.Code == "53300": // too_many_connections
			return metadata.ErrUnavailable
		}
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// The caller's context ended; whether that is an outage is the
		// caller's to say (the Service's per-call timeout does).
		return nil
	}
	var ce *pgconn.ConnectError
	// A network error of the connection (not net.Error, which
	// syscall.Errno implements too: a local file's EXDEV is no outage).
	var oe *net.OpError
	var de *net.DNSError
	switch {
	case errors.As(err, &ce), // could not connect at all
		pgconn.SafeToRetry(err), // failed before anything was sent
		errors.As(err, &oe),
		errors.As(err, &de),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, io.EOF): // the server closed the connection
		return metadata.ErrUnavailable
	}
	return nil
}
