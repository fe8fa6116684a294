package wire

import (
	"errors"
	"net/http"
)

// The stable, machine-readable problem codes of the API (Problem.Code).
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

	CodeUnavailable         = "unavailable"
	CodeInsufficientStorage = "insufficient_storage"

	// Codes of resumable uploads.
	CodeOffsetMismatch = "offset_mismatch"
	CodeLocked         = "locked"
	CodeGone           = "gone"
)

// Kind is one problem code of the API with the HTTP status it is sent
// with and the sentinel error it stands for.
type Kind struct {
	// Code is the problem code.
	Code string
	// Status is the HTTP status of an answer with the code.
	Status int
	// Err is the sentinel error of the code; nil for CodeInternal, which
	// stands for every error that is not the caller's.
	Err error
}

// kinds is the one table of the API's codes. KindOfError searches it in
// order, so a more general sentinel (ErrInvalid) comes after the
// specific ones, and CodeInternal, which has no sentinel, comes last.
var kinds = [...]Kind{
	{CodeNotFound, http.StatusNotFound, ErrNotFound},
	{CodeTooLarge, http.StatusRequestEntityTooLarge, ErrTooLarge},
	{CodeTooManyFiles, http.StatusBadRequest, ErrTooManyFiles},
	{CodeUnsupportedType, http.StatusUnsupportedMediaType, ErrUnsupportedType},
	{CodeChecksumMismatch, http.StatusBadRequest, ErrChecksumMismatch},
	{CodeInvalidFilename, http.StatusBadRequest, ErrInvalidFilename},
	{CodeInvalidSize, http.StatusBadRequest, ErrInvalidSize},
	{CodeReferenced, http.StatusConflict, ErrReferenced},
	{CodeConflict, http.StatusConflict, ErrConflict},
	{CodeOffsetMismatch, http.StatusConflict, ErrOffsetMismatch},
	{CodeLocked, http.StatusLocked, ErrLocked},
	{CodeGone, http.StatusGone, ErrGone},
	{CodeUnauthorized, http.StatusUnauthorized, ErrUnauthorized},
	{CodeForbidden, http.StatusForbidden, ErrForbidden},
	{CodeBadRequest, http.StatusBadRequest, ErrInvalid},
	{CodeUnavailable, http.StatusServiceUnavailable, ErrUnavailable},
	{CodeInsufficientStorage, http.StatusInsufficientStorage, ErrInsufficientStorage},
	{CodeInternal, http.StatusInternalServerError, nil},
}

// Kinds returns every problem code of the API with its status and
// sentinel error, in the order KindOfError tries them. The slice is the
// caller's to change.
func Kinds() []Kind { return append([]Kind(nil), kinds[:]...) }

// KindOfError returns the kind of the first sentinel, in the order of
// Kinds, that err is or wraps (errors.Is), and false when it wraps none:
// a server answers such an error as CodeInternal.
func KindOfError(err error) (Kind, bool) {
	if err == nil {
		return Kind{}, false
	}
	for _, k := range kinds {
		if k.Err != nil && errors.Is(err, k.Err) {
			return k, true
		}
	}
	return Kind{}, false
}

// KindOfCode returns the kind of a problem code, and false for a code the
// API does not have.
func KindOfCode(code string) (Kind, bool) {
	for _, k := range kinds {
		if k.Code == code {
			return k, true
		}
	}
	return Kind{}, false
}

// KindOfStatus returns the kind of an HTTP status the API answers with
// one code only (401, 403, 404, 410, 413, 415, 423, 500, 503 and 507), for an answer that
// carries no problem body (a HEAD, or an error page of a proxy); false
// for a status with several codes (400, 409) or none.
func KindOfStatus(status int) (Kind, bool) {
	var found Kind
	n := 0
	for _, k := range kinds {
		if k.Status == status {
			found = k
			n++
		}
	}
	if n != 1 {
		return Kind{}, false
	}
	return found, true
}

// ErrorOf returns the sentinel error of a problem code (ErrNotFound for
// "not_found", ErrInvalid for "bad_request", ...), or nil for
// CodeInternal and codes the API does not have.
func ErrorOf(code string) error {
	k, _ := KindOfCode(code)
	return k.Err
}
