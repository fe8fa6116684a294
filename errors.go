package attachment

import (
	"errors"
	"fmt"
)

// Error is an error the Service reports about its caller's input. Kind is
// one of the package's sentinel errors, and errors.Is(err, Kind) holds.
// Detail is written for the client: it names what was wrong with the input
// and never carries internal detail, so the Handler sends it as the
// problem's detail.
type Error struct {
	Kind   error
	Detail string
}

func (e *Error) Error() string { return e.Detail }

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }

// inputErr returns an *Error of the kind with a formatted detail.
func inputErr(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// notFound is the error for an attachment that does not exist, or that the
// caller may not see: the two read alike.
func notFound(id string) error {
	return inputErr(ErrNotFound, "attachment %s not found", truncate(id, 64))
}

// storeErr wraps an error of the metadata store about the attachment with
// the ID: a missing record becomes notFound, and anything else keeps its
// detail for the log.
func storeErr(id, op string, err error) error {
	if errors.Is(err, ErrNotFound) {
		return notFound(id)
	}
	return fmt.Errorf("attachment %s: %s: %w", id, op, err)
}
