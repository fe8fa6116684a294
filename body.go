package attachment

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
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

// idleMinBytes is the data a request body must send within each
// UploadIdleTimeout for its read deadline to move: a client trickling a
// byte at a time does not hold its request.
const idleMinBytes = 1 << 10

// idleReader reads a request body under a rolling read deadline on the
// connection: once idleMinBytes have come since the deadline last moved,
// it moves to idle from now (at most every 32nd of idle). A Read that
// stalls past it fails (and net/http cancels the request's context). At
// the end of the body the deadline is lifted, for the request's work
// after it and for net/http's own reads of the connection.
type idleReader struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
	// since counts the bytes read since the deadline last moved, which
	// it did at moved. Only Read uses them.
	since int
	moved time.Time
	// deadline is the deadline in force (Unix nanoseconds; 0 for none),
	// read by expired from the handler's goroutine.
	deadline atomic.Int64
	// stopped is set by interrupt: the deadline no longer moves.
	stopped atomic.Bool
}

// newIdleReader returns r read under a rolling deadline of idle on the
// connection of w, or nil when w cannot set read deadlines (an
// httptest.ResponseRecorder, a wrapper without Unwrap) or setting one
// failed: then the body is read without one.
func newIdleReader(w http.ResponseWriter, r io.Reader, idle time.Duration) *idleReader {
	ir := &idleReader{r: r, rc: http.NewResponseController(w), idle: idle}
	if ir.extend(time.Now()) != nil {
		return nil
	}
	return ir
}

func (ir *idleReader) extend(now time.Time) error {
	if ir.stopped.Load() {
		return nil
	}
	d := now.Add(ir.idle)
	if err := ir.rc.SetReadDeadline(d); err != nil {
		return err
	}
	ir.deadline.Store(d.UnixNano())
	ir.since, ir.moved = 0, now
	return nil
}

func (ir *idleReader) Read(p []byte) (int, error) {
	n, err := ir.r.Read(p)
	ir.since += n
	switch {
	case err == io.EOF:
		ir.lift()
	case err == nil && ir.since >= idleMinBytes:
		// Moved at most every 32nd of idle: a fast upload does not pay
		// for a new deadline on every Read.
		if now := time.Now(); now.Sub(ir.moved) >= ir.idle/32 {
			_ = ir.extend(now)
		}
	}
	return n, err
}

// interrupt ends the read: a Read blocked on the connection fails now,
// and the deadline no longer moves.
func (ir *idleReader) interrupt() {
	ir.stopped.Store(true)
	_ = ir.rc.SetReadDeadline(time.Now())
}

// lift removes the read deadline.
func (ir *idleReader) lift() {
	if ir.stopped.Load() {
		return
	}
	if ir.rc.SetReadDeadline(time.Time{}) == nil {
		ir.deadline.Store(0)
	}
}

// expired reports whether the body stalled: the read deadline has
// passed. A Read cut by it may fail with the deadline's error, or the
// request may end first with its context canceled (net/http cancels it
// when the read fails); either way the deadline is past.
func (ir *idleReader) expired() bool {
	d := ir.deadline.Load()
	return d != 0 && !time.Now().Before(time.Unix(0, d))
}

// errStalled marks a request body that stalled: no data for
// HandlerOptions.UploadIdleTimeout. writeError answers it 408 bad_request
// and closes the connection.
var errStalled = errors.New("the request body stalled")

// readBody reads a request's body with read, which is given body (the
// request's body, or a reader over it such as an http.MaxBytesReader) to
// read under HandlerOptions.UploadIdleTimeout: a rolling read deadline on
// the connection (idleReader). Every route that reads a body reads it
// through here. When read fails because the body stalled, the error wraps
// errStalled; otherwise it is read's. After a successful read the
// deadline is lifted for the rest of the request.
func (h *Handler) readBody(w http.ResponseWriter, body io.Reader, read func(body io.Reader) error) error {
	var idle *idleReader
	if d := h.opts.UploadIdleTimeout; d > 0 {
		if idle = newIdleReader(w, body, d); idle != nil {
			body = idle
		}
	}
	err := read(body)
	if err != nil && idle != nil && idle.expired() {
		// The body stalled: the deadline stays past, so that net/http
		// does not wait for the rest either, and the connection closes.
		return fmt.Errorf("%w: %w", errStalled, err)
	}
	if err != nil {
		// The deadline stays: net/http may read what is left of the body
		// before it answers, and a client must not hold it there either.
		return err
	}
	if idle != nil {
		idle.lift() // a body read may end before net/http's reader does
	}
	return nil
}

// ReadBody reads the whole body of r, for a layer's small JSON or form
// bodies: at most max bytes (and never more than
// HandlerOptions.MaxRequestSize), under HandlerOptions.UploadIdleTimeout
// as every body the Handler reads. A longer body is an error that
// WriteError answers 413 too_large, one that stalls an error it answers
// 408 (closing the connection), and a failed read one it answers 400.
func (h *Handler) ReadBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	if m := h.opts.MaxRequestSize; m > 0 && (max <= 0 || m < max) {
		max = m
	}
	var b []byte
	err := h.readBody(w, http.MaxBytesReader(w, r.Body, max), func(body io.Reader) (err error) {
		b, err = io.ReadAll(clientReader{body})
		return err
	})
	return b, err
}

// ReadStream reads the body of r as a stream, for a layer whose requests
// carry content to store (a resumable upload's append): read is given the
// body to read, under HandlerOptions.UploadIdleTimeout as every body the
// Handler reads, and with every read error but io.EOF marked as the
// client's. At most max bytes are read (a negative max: no bound of its
// own), never more than HandlerOptions.MaxRequestSize; a Content-Length
// over that is refused before any byte is read. The error is read's, for
// WriteError to answer: 413 too_large for a body over the bound, 408 for
// one that stalled (closing the connection), 400 for one that failed.
func (h *Handler) ReadStream(w http.ResponseWriter, r *http.Request, max int64, read func(io.Reader) error) error {
	if m := h.opts.MaxRequestSize; m > 0 && (max < 0 || m < max) {
		max = m
	}
	var body io.Reader = r.Body
	if body == nil {
		body = http.NoBody
	}
	if max >= 0 {
		if r.ContentLength > max {
			return inputErr(ErrTooLarge, "the request body is larger than %d bytes", max)
		}
		body = http.MaxBytesReader(w, io.NopCloser(body), max)
	}
	return h.readBody(w, body, func(body io.Reader) error {
		sr := &streamReader{clientReader: clientReader{body}, w: w}
		sr.idle, _ = body.(*idleReader)
		return read(sr)
	})
}

// streamReader is the body ReadStream hands over. Its Interrupt ends
// the read from another goroutine, even a Read blocked on a connection
// that went silent: Service.AppendUpload uses it when another request
// asks for the upload (Service.GetUpload).
type streamReader struct {
	clientReader
	w    http.ResponseWriter
	idle *idleReader
}

// Interrupt makes the Read in progress, and every later one, fail: the
// connection's read deadline is set to now and no longer moves.
func (s *streamReader) Interrupt() {
	if s.idle != nil {
		s.idle.interrupt()
		return
	}
	_ = http.NewResponseController(s.w).SetReadDeadline(time.Now())
}
