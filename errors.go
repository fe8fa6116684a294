package attachment

import "fmt"

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
