package protocol

import (
	"net/http"

	"github.com/attachkit/attachment"
)

// errorBody is every error answer of the dialect, in the shape of the
// Stripe-like API the Protocol document describes:
// {"error": {"type": "invalid_request_error", "code": "not_found", "message": "..."}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

// errorDetail is the object under "error".
type errorDetail struct {
	// Type is the class of the error: see errorType.
	Type string `json:"type"`
	// Code is the native API's stable problem code (not_found,
	// too_large, ...), or method_not_allowed.
	Code string `json:"code"`
	// Message says what was wrong, for a person.
	Message string `json:"message"`
}

// Error types, by status.
const (
	typeInvalidRequest = "invalid_request_error" // other 4xx
	typeAuthentication = "authentication_error"  // 401
	typePermission     = "permission_error"      // 403
	typeAPI            = "api_error"             // 5xx
)

// codeMethodNotAllowed is the code of a 405, which the native codes lack.
const codeMethodNotAllowed = "method_not_allowed"

// errorType classifies an error answer by its status.
func errorType(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return typeAuthentication
	case status == http.StatusForbidden:
		return typePermission
	case status >= 500:
		return typeAPI
	default:
		return typeInvalidRequest
	}
}

// writeProblem is the dialect's attachment.ProblemWriter: p in the
// dialect's error body.
func writeProblem(w http.ResponseWriter, r *http.Request, p *attachment.Problem) {
	msg := p.Detail
	if msg == "" {
		msg = http.StatusText(p.Status)
	}
	writeJSON(w, r, p.Status, errorBody{Error: errorDetail{
		Type:    errorType(p.Status),
		Code:    p.Code,
		Message: msg,
	}})
}

// notFound answers a path under the prefix that names no route.
func notFound(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, &attachment.Problem{
		Status: http.StatusNotFound,
		Code:   "not_found",
		Detail: "no such route: " + r.URL.EscapedPath(),
	})
}

// methodNotAllowed answers a method the route does not take.
func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeProblem(w, r, &attachment.Problem{
		Status: http.StatusMethodNotAllowed,
		Code:   codeMethodNotAllowed,
		Detail: "method " + r.Method + " is not allowed here; allowed: " + allow,
	})
}

// writeJSON answers v as JSON with the status; a HEAD request gets the
// headers alone.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	if err := attachment.WriteJSON(w, r, status, v); err != nil {
		// Only the package's own types are encoded here.
		panic(err)
	}
}
