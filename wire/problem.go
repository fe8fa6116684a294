package wire

// Problem is an RFC 9457 problem details object, as the API sends it with
// Content-Type application/problem+json for every error answer.
type Problem struct {
	// Type is "about:blank".
	Type string `json:"type"`
	// Title is the text of the status (http.StatusText).
	Title string `json:"title"`
	// Status is the answer's HTTP status.
	Status int `json:"status"`
	// Detail says what was wrong, for a person; it never carries the
	// server's internal detail.
	Detail string `json:"detail,omitempty"`
	// Code is stable and machine-readable: one of the Code constants.
	Code string `json:"code"`
}
