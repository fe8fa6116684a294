package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"

	"gocloud.dev/gcerrors"

	"github.com/attachkit/attachment/wire"
)

// Errors of an outage and of a full bucket, which the Store wraps beside
// the driver's error. They are package wire's sentinels, which the API
// answers with 503 unavailable and 507 insufficient_storage.
var (
	// ErrUnavailable: the bucket cannot be reached, answered with a
	// server error or a request to slow down, or did not answer within
	// the Store's call timeout (CallTimeout). A retry may succeed later.
	ErrUnavailable = wire.ErrUnavailable
	// ErrInsufficientStorage: the bucket is full (ENOSPC or EDQUOT from a
	// local directory, 507 or an insufficient-storage error code from an
	// S3-protocol server).
	ErrInsufficientStorage = wire.ErrInsufficientStorage
)

// wrap returns the error of a failed bucket operation, "storage: "+what
// and err, wrapping ErrUnavailable or ErrInsufficientStorage when err is
// an outage or a full bucket (see outage).
func wrap(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if kind := outage(err); kind != nil {
		return fmt.Errorf("storage: %s: %w: %w", msg, kind, err)
	}
	return fmt.Errorf("storage: %s: %w", msg, err)
}

// httpStatus is the status of an S3-protocol server's answer
// (aws-sdk-go-v2's awshttp.ResponseError), and apiCode its error code
// (smithy-go's APIError): interfaces, so that this package does not
// depend on the driver's SDK.
type (
	httpStatus interface{ HTTPStatusCode() int }
	apiCode    interface{ ErrorCode() string }
)

// outage returns ErrInsufficientStorage for an error that says the bucket
// is full, ErrUnavailable for one that says it cannot be reached or is
// overloaded, and nil for any other, the caller's cancellation included.
func outage(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, ErrInsufficientStorage) {
		return nil // already said
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return ErrInsufficientStorage
	}
	var ac apiCode
	if errors.As(err, &ac) {
		switch ac.ErrorCode() {
		case "InsufficientStorage", "XMinioStorageFull", "StorageFull", "NotEnoughSpace":
			return ErrInsufficientStorage
		case "SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout",
			"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests":
			return ErrUnavailable
		}
	}
	var hs httpStatus
	if errors.As(err, &hs) {
		switch hs.HTTPStatusCode() {
		case http.StatusInsufficientStorage:
			return ErrInsufficientStorage
		case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable,
			http.StatusGatewayTimeout, http.StatusTooManyRequests:
			return ErrUnavailable
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil // the caller's context ended; callTimeout says when it was ours
	}
	// A network error of the connection (not net.Error, which
	// syscall.Errno implements too: a local file's EXDEV is no outage).
	var oe *net.OpError
	var de *net.DNSError
	switch {
	case errors.As(err, &oe),
		errors.As(err, &de),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.ErrUnexpectedEOF):
		return ErrUnavailable
	}
	if gcerrors.Code(err) == gcerrors.ResourceExhausted {
		return ErrUnavailable // a rate limit (GCS's 429)
	}
	return nil
}
