package coco

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/wire"
)

// Limits of POST /_status.
const (
	// MaxStatusIDs is the most attachments one POST /_status asks about.
	MaxStatusIDs = 1000
	// MaxStatusBody is the largest POST /_status body, in bytes.
	MaxStatusBody = 256 << 10
)

// parsingStatus is the status of one attachment: the combined state of
// its processing (wire.ProcessingState), "completed" when it has none.
// Found is set, to false, only in a POST /_status answer, for an ID that
// does not exist or that the caller may not see; its state is then
// "canceled", the state the library gives the jobs of an attachment that
// went away, so that a client waiting for every state to end stops.
type parsingStatus struct {
	InitialParsing string `json:"initial_parsing"`
	Found          *bool  `json:"found,omitempty"`
}

// status handles GET /{id}/status.
func (h *Handler) status(w http.ResponseWriter, r *http.Request, id string) {
	_, _, a, err := h.h.Authorize(r, attachment.OpStatus, id)
	if err != nil {
		h.h.WriteError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, &parsingStatus{InitialParsing: wire.ProcessingState(a.Processing)})
}

// statusRequest is the body of POST /_status.
type statusRequest struct {
	Attachments *[]string `json:"attachments"`
}

// parseStatusRequest reads the body of POST /_status: a JSON object with
// an "attachments" array of at most MaxStatusIDs IDs.
func parseStatusRequest(body []byte) ([]string, error) {
	var req statusRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, invalid(`the body must be a JSON object {"attachments": ["id", ...]}`)
	}
	if req.Attachments == nil {
		return nil, invalid(`the body must have an "attachments" array`)
	}
	if len(*req.Attachments) > MaxStatusIDs {
		return nil, invalid("at most 1000 attachments per request")
	}
	return *req.Attachments, nil
}

// statusMany handles POST /_status: an object keyed by each ID asked
// about, with its status.
func (h *Handler) statusMany(w http.ResponseWriter, r *http.Request) {
	// The caller is identified before the body is read; a caller the
	// access hook hides everything from (Identify answers ErrNotFound)
	// gets what a caller asking about missing IDs gets.
	c, svc, err := h.h.Identify(r)
	hideAll := errors.Is(err, attachment.ErrNotFound)
	if err != nil && !hideAll {
		h.h.WriteError(w, r, err)
		return
	}
	body, err := h.h.ReadBody(w, r, MaxStatusBody)
	if err != nil {
		h.h.WriteError(w, r, err)
		return
	}
	ids, err := parseStatusRequest(body)
	if err != nil {
		h.h.WriteError(w, r, err)
		return
	}
	notFound := false
	missing := parsingStatus{InitialParsing: wire.JobCanceled, Found: &notFound}
	out := make(map[string]*parsingStatus, len(ids))
	for _, id := range ids {
		if hideAll {
			out[id] = &missing
			continue
		}
		a, err := svc.Get(r.Context(), id)
		if err == nil {
			err = h.h.Allowed(r, c, attachment.OpStatus, a)
		}
		switch {
		case err == nil:
			out[id] = &parsingStatus{InitialParsing: wire.ProcessingState(a.Processing)}
		case errors.Is(err, attachment.ErrNotFound), errors.Is(err, attachment.ErrForbidden),
			errors.Is(err, attachment.ErrUnauthorized):
			// What the caller may not see does not exist.
			out[id] = &missing
		default:
			h.h.WriteError(w, r, err)
			return
		}
	}
	writeJSON(w, r, http.StatusOK, out)
}
