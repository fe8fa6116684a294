package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/attachkit/attachment/wire"
)

// Error is an answer of the API with a status other than the one an
// operation expects: every 4xx and 5xx, as the server's RFC 9457 problem
// details. errors.Is(err, wire.ErrNotFound) and the like hold for the
// sentinel error its Code stands for (wire.ErrorOf), and as the root
// package's sentinels (attachment.ErrNotFound, ...) are the same values,
// code written against a Service reads errors from a Client alike.
type Error struct {
	// Problem is the answer's problem details. When the body is not a
	// problem (a proxy's error page), Status is the answer's status,
	// Title its text and Code empty.
	wire.Problem
	// Method and URL are the request's (the URL without its query string,
	// which may carry a signature).
	Method string
	URL    string
}

// Error returns "METHOD URL: STATUS CODE: DETAIL".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "attachment client: %s %s: %d", e.Method, e.URL, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	switch {
	case e.Detail != "":
		b.WriteString(": " + e.Detail)
	case e.Title != "":
		b.WriteString(": " + e.Title)
	}
	return b.String()
}

// Unwrap returns the sentinel error of the problem's code (wire.ErrorOf),
// or nil (for "internal" and codes this package does not know).
func (e *Error) Unwrap() error { return wire.ErrorOf(e.code()) }

// code is the problem's code, or for an answer that carried none (a HEAD,
// which has no body, or an error page of a proxy) the code the API uses
// for its status where that status has only one (wire.KindOfStatus).
func (e *Error) code() string {
	if e.Code != "" {
		return e.Code
	}
	k, _ := wire.KindOfStatus(e.Status)
	return k.Code
}

// The stable problem codes of the API: package wire's, under the names
// this package has always had.
const (
	CodeBadRequest       = wire.CodeBadRequest
	CodeNotFound         = wire.CodeNotFound
	CodeTooLarge         = wire.CodeTooLarge
	CodeTooManyFiles     = wire.CodeTooManyFiles
	CodeUnsupportedType  = wire.CodeUnsupportedType
	CodeChecksumMismatch = wire.CodeChecksumMismatch
	CodeInvalidFilename  = wire.CodeInvalidFilename
	CodeInvalidSize      = wire.CodeInvalidSize
	CodeReferenced       = wire.CodeReferenced
	CodeUnauthorized     = wire.CodeUnauthorized
	CodeForbidden        = wire.CodeForbidden
	CodeConflict         = wire.CodeConflict
	CodeInternal         = wire.CodeInternal

	CodeUnavailable         = wire.CodeUnavailable
	CodeInsufficientStorage = wire.CodeInsufficientStorage

	CodeOffsetMismatch = wire.CodeOffsetMismatch
	CodeLocked         = wire.CodeLocked
	CodeGone           = wire.CodeGone
)

// Sentinel returns the sentinel error of a problem code
// (wire.ErrNotFound for "not_found", wire.ErrInvalid for "bad_request",
// wire.ErrConflict for "conflict", ...), or nil for "internal" and unknown
// codes. It is wire.ErrorOf.
func Sentinel(code string) error { return wire.ErrorOf(code) }

// maxProblemBytes bounds the problem body read from an error answer.
const maxProblemBytes = 64 << 10

// errorFrom makes the *Error of a non-success answer. The caller closes
// the body.
func errorFrom(req *http.Request, resp *http.Response) *Error {
	u := *req.URL
	u.RawQuery, u.ForceQuery, u.Fragment = "", false, ""
	e := &Error{Method: req.Method, URL: u.Redacted()}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "application/problem+json" || mt == "application/json" {
		var p wire.Problem
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxProblemBytes))
		if err == nil && json.Unmarshal(b, &p) == nil {
			e.Problem = p
		}
	}
	e.Status = resp.StatusCode // the answer's, whatever the body says
	if e.Title == "" {
		e.Title = http.StatusText(resp.StatusCode)
	}
	return e
}

// IsStatus reports whether err is (or wraps) an *Error with the HTTP
// status, such as http.StatusRequestedRangeNotSatisfiable.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}
