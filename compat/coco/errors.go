package coco

import (
	"net/http"

	"github.com/attachkit/attachment"
)

// errorBody is the body of every error answer: the shape of
// Elasticsearch's errors, which Coco's server (built on INFINI's
// framework) also uses, {"error":{"reason":...},"status":N}. Type holds
// the native API's stable problem code. A 404 about one attachment also
// carries the "_id" and "found": false of Coco's answer for a missing
// document.
type errorBody struct {
	ID     string      `json:"_id,omitempty"`
	Found  *bool       `json:"found,omitempty"`
	Error  errorDetail `json:"error"`
	Status int         `json:"status"`
}

// errorDetail is the "error" object of an errorBody.
type errorDetail struct {
	RootCause []errorCause `json:"root_cause"`
	Type      string       `json:"type"`
	Reason    string       `json:"reason"`
}

// errorCause is one entry of errorDetail.RootCause: the error itself, as
// Elasticsearch lists it.
type errorCause struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// newErrorBody returns the body of an error answer.
func newErrorBody(status int, code, reason string) *errorBody {
	if reason == "" {
		reason = http.StatusText(status)
	}
	return &errorBody{
		Error: errorDetail{
			RootCause: []errorCause{{Type: code, Reason: reason}},
			Type:      code,
			Reason:    reason,
		},
		Status: status,
	}
}

// writeError answers an error the package finds itself (an unknown
// route, a method a route does not have).
func writeError(w http.ResponseWriter, r *http.Request, status int, code, reason string) {
	writeJSON(w, r, status, newErrorBody(status, code, reason))
}

// writeProblem is the ProblemWriter of the package's view of the host's
// Handler: every error the Handler's operations answer (access, limits,
// missing attachments, ranges, outages) comes out in Coco's error body.
// prefix is the Handler's Options.Prefix, to find the ID a 404 is about.
func writeProblem(w http.ResponseWriter, r *http.Request, prefix string, p *attachment.Problem) {
	// These describe content that is not being sent.
	w.Header().Del("Filename")
	w.Header().Del("Created")
	body := newErrorBody(p.Status, p.Code, p.Detail)
	if p.Status == http.StatusNotFound {
		_, rel := attachment.SplitPath(r, prefix)
		if rt, id := parseRoute(rel); rt == routeItem || rt == routeItemStatus {
			found := false
			body.ID, body.Found = id, &found
		}
	}
	writeJSON(w, r, p.Status, body)
}

// writeJSON answers v as JSON with the status; a HEAD request gets the
// headers alone.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	if err := attachment.WriteJSON(w, r, status, v); err != nil {
		// Only the package's own types are encoded here.
		panic(err)
	}
}
