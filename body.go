package attachment

import (
	"errors"
	"io"
)

// errBodyRead marks an error met while reading a request body: the
// client's doing (a disconnect, a truncated or malformed body), answered
// 400 unless it is an *http.MaxBytesError (413).
var errBodyRead = errors.New("reading the request body")

// bodyError is an error from a clientReader.
type bodyError struct{ err error }

func (e *bodyError) Error() string   { return "reading the request body: " + e.err.Error() }
func (e *bodyError) Unwrap() []error { return []error{errBodyRead, e.err} }

// clientReader marks every error of r, but io.EOF, as the client's.
type clientReader struct{ r io.Reader }

func (c clientReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		err = &bodyError{err}
	}
	return n, err
}
