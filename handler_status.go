package attachment

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/attachkit/attachment/wire"
)

// Status handles GET /{id}/status: {"id", "state", "processing"}. With
// ?wait=DURATION (a Go duration such as 10s, or seconds; at most
// MaxStatusWait) it answers as soon as every processor has finished, or
// when the wait is over; when HandlerOptions.MaxStatusWaits requests wait
// already, it answers 503 unavailable with a Retry-After header.
func (h *Handler) Status(w http.ResponseWriter, r *http.Request, id string) {
	var wait time.Duration
	if v := r.URL.Query().Get("wait"); v != "" {
		d, err := parseWait(v)
		if err != nil {
			h.problem(w, r, http.StatusBadRequest, wire.CodeBadRequest, "wait must be a duration such as 10s (at most 30s)")
			return
		}
		wait = d
	}
	_, svc, _, err := h.authorize(r, OpStatus, id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if wait > 0 {
		n := h.waits.Add(1)
		defer h.waits.Add(-1)
		if max := h.opts.MaxStatusWaits; max > 0 && n > int64(max) {
			w.Header().Set("Retry-After", statusWaitRetryAfter)
			h.problem(w, r, http.StatusServiceUnavailable, wire.CodeUnavailable,
				"too many status requests are waiting; try again later, or without wait")
			return
		}
	}
	st, err := svc.WaitStatus(r.Context(), id, wait)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, "application/json", st)
}

// statusWaitRetryAfter is the Retry-After, in seconds, of a status wait
// refused because too many wait.
const statusWaitRetryAfter = "5"

// parseWait reads a wait duration: a Go duration ("10s", "1500ms") or
// whole seconds ("10"). Over MaxStatusWait is cut to it.
func parseWait(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		d, err = time.ParseDuration(v + "s")
	}
	if err != nil || d < 0 {
		return 0, errors.New("bad wait")
	}
	return min(d, MaxStatusWait), nil
}

// statusManyRequest is the body of POST /_status.
type statusManyRequest struct {
	Attachments []string `json:"attachments"`
}

// maxStatusMany bounds the IDs of one POST /_status.
const maxStatusMany = 1000

// statusEntry is one value of the POST /_status answer: a status, or an
// error for an ID that does not exist or that the caller may not see.
type statusEntry struct {
	*Status
	Error string `json:"error,omitempty"`
}

// StatusMany handles POST /_status with {"attachments": ["id", ...]}: 200
// and a map from each ID to its status, or to {"error": "not_found"} for
// an ID that does not exist or that the caller may not see.
func (h *Handler) StatusMany(w http.ResponseWriter, r *http.Request) {
	// A caller the access hook hides everything from (Identify answers
	// ErrNotFound) gets what a caller asking only for missing IDs gets.
	c, svc, err := h.Identify(r)
	hideAll := errors.Is(err, ErrNotFound)
	if err != nil && !hideAll {
		h.writeError(w, r, err)
		return
	}
	var req statusManyRequest
	if !h.readSmallBody(w, r, func(body io.Reader) error {
		return decodeJSON(r, body, &req)
	}) {
		return
	}
	if len(req.Attachments) > maxStatusMany {
		h.problem(w, r, http.StatusBadRequest, wire.CodeBadRequest, "at most 1000 attachments per request")
		return
	}
	out := make(map[string]statusEntry, len(req.Attachments))
	for _, id := range req.Attachments {
		if hideAll {
			out[id] = statusEntry{Error: wire.CodeNotFound}
			continue
		}
		a, err := svc.Get(r.Context(), id)
		if err == nil && h.Allowed(r, c, OpStatus, a) != nil {
			err = ErrNotFound // what the caller may not see does not exist
		}
		switch {
		case err == nil:
			out[id] = statusEntry{Status: statusOf(a)}
		case errors.Is(err, ErrNotFound):
			out[id] = statusEntry{Error: wire.CodeNotFound}
		default:
			h.writeError(w, r, err)
			return
		}
	}
	writeJSON(w, r, http.StatusOK, "application/json", out)
}
