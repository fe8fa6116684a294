package efalia

import (
	"net/http"

	"github.com/attachkit/attachment"
)

// StatusUnexpected is the status the Efalia API answers an unexpected
// server error with (its WorkeyError response): 555, where the native API
// says 500.
const StatusUnexpected = 555

// RestMessage is the body of the Efalia API's error answers and of a
// successful delete.
type RestMessage struct {
	// Code is the answer's HTTP status.
	Code int `json:"code"`
	// Error is true for an error answer.
	Error bool `json:"error"`
	// Message says what happened, for a person. It never carries the
	// server's internal detail.
	Message string `json:"message"`
	// Cause is always null: the Efalia API puts a Java exception's class,
	// method, line and stack trace here, which this server never sends.
	Cause *ErrorCause `json:"cause"`
}

// ErrorCause is the exception an Efalia server may describe in a
// RestMessage. This package never fills one; the type documents the
// field's shape.
type ErrorCause struct {
	// ClassName is the exception's class.
	ClassName string `json:"className"`
	// Method is the method that threw it.
	Method string `json:"method"`
	// Line is the line it was thrown at.
	Line int `json:"line"`
	// StackTrace is the stack trace, an object.
	StackTrace any `json:"stackTrace"`
}

// Status returns the status the Efalia routes answer in place of the
// native API's status: StatusUnexpected for 500 (an unexpected error);
// every other status, 503 with its Retry-After and 507 among them, is
// kept.
func Status(native int) int {
	if native == http.StatusInternalServerError {
		return StatusUnexpected
	}
	return native
}

// writeProblem is the ProblemWriter of the Handler's view: every error
// the native operations answer becomes a RestMessage.
func writeProblem(w http.ResponseWriter, r *http.Request, p *attachment.Problem) {
	if p.Status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Basic realm="workey", Bearer realm="workey"`)
	}
	writeMessage(w, r, Status(p.Status), p.Detail)
}

// writeMessage writes an error RestMessage with the status.
func writeMessage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if msg == "" {
		msg = http.StatusText(status)
	}
	writeJSON(w, r, status, &RestMessage{Code: status, Error: status >= 400, Message: msg})
}

// writeJSON writes v as the JSON body of an answer with the status; a
// HEAD request gets the headers alone.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	if err := attachment.WriteJSON(w, r, status, v); err != nil {
		// Only the package's own types are encoded here.
		panic(err)
	}
}
