package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/metadata"
)

// Error is an answer of the API with a status other than the one an
// operation expects: every 4xx and 5xx, as the server's RFC 9457 problem
// details. errors.Is(err, attachment.ErrNotFound) and the like hold for
// the sentinel error its Code stands for (see Sentinel), so code written
// against a Service reads errors from a Client alike.
type Error struct {
	// Problem is the answer's problem details. When the body is not a
	// problem (a proxy's error page), Status is the answer's status,
	// Title its text and Code empty.
	attachment.Problem
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

// Unwrap returns the sentinel error of the problem's code, or nil (for
// "internal" and codes this package does not know).
func (e *Error) Unwrap() error { return Sentinel(e.code()) }

// code is the problem's code, or for an answer that carried none (a HEAD,
// which has no body, or an error page of a proxy) the code the API uses
// for its status where that status has only one.
func (e *Error) code() string {
	if e.Code != "" {
		return e.Code
	}
	return statusCodes[e.Status]
}

// The stable problem codes of the API (docs/api.md, "Errors").
const (
	CodeBadRequest       = "bad_request"
	CodeNotFound         = "not_found"
	CodeTooLarge         = "too_large"
	CodeTooManyFiles     = "too_many_files"
	CodeUnsupportedType  = "unsupported_type"
	CodeChecksumMismatch = "checksum_mismatch"
	CodeInvalidFilename  = "invalid_filename"
	CodeInvalidSize      = "invalid_size"
	CodeReferenced       = "referenced"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeConflict         = "conflict"
	CodeInternal         = "internal"
)

// sentinels maps each problem code to the root package's sentinel error,
// as the Handler's table (problem.go's errorKinds) maps them the other
// way. TestSentinelTableMatchesServer keeps the two in step.
var sentinels = map[string]error{
	CodeBadRequest:       attachment.ErrInvalid,
	CodeNotFound:         attachment.ErrNotFound,
	CodeTooLarge:         attachment.ErrTooLarge,
	CodeTooManyFiles:     attachment.ErrTooManyFiles,
	CodeUnsupportedType:  attachment.ErrUnsupportedType,
	CodeChecksumMismatch: attachment.ErrChecksumMismatch,
	CodeInvalidFilename:  attachment.ErrInvalidFilename,
	CodeInvalidSize:      attachment.ErrInvalidSize,
	CodeReferenced:       attachment.ErrReferenced,
	CodeUnauthorized:     attachment.ErrUnauthorized,
	CodeForbidden:        attachment.ErrForbidden,
	CodeConflict:         metadata.ErrExists,
}

// statusCodes are the codes of statuses the API answers with one code only,
// for answers without a problem body.
var statusCodes = map[int]string{
	http.StatusUnauthorized:          CodeUnauthorized,
	http.StatusForbidden:             CodeForbidden,
	http.StatusNotFound:              CodeNotFound,
	http.StatusRequestEntityTooLarge: CodeTooLarge,
	http.StatusUnsupportedMediaType:  CodeUnsupportedType,
}

// Sentinel returns the root package's sentinel error for a problem code
// (attachment.ErrNotFound for "not_found", attachment.ErrInvalid for
// "bad_request", metadata.ErrExists for "conflict", ...), or nil for
// "internal" and unknown codes.
func Sentinel(code string) error { return sentinels[code] }

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
		var p attachment.Problem
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
