package attachment

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/attachkit/attachment/wire"
)

// listResponse is the body of GET /.
type listResponse struct {
	Data       []*Attachment `json:"data"`
	HasMore    bool          `json:"has_more"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

// List handles GET / (relative to the mount): owner, label.KEY=VALUE
// (repeatable for different keys, all must match), q (case-insensitive
// filename substring), type (content-type prefix), limit, cursor and order
// (desc, the default, or asc). A next page is also linked in a Link
// header with rel="next".
func (h *Handler) List(w http.ResponseWriter, r *http.Request) {
	_, svc, _, err := h.authorize(r, OpList, "")
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	opts := &ListOptions{
		Owner:      q.Get("owner"),
		Query:      q.Get("q"),
		TypePrefix: q.Get("type"),
		Cursor:     q.Get("cursor"),
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxListLimit {
			h.problem(w, r, http.StatusBadRequest, wire.CodeBadRequest, "limit must be a whole number from 1 to "+strconv.Itoa(MaxListLimit))
			return
		}
		opts.Limit = n
	}
	switch q.Get("order") {
	case "", "desc":
	case "asc":
		opts.Ascending = true
	default:
		h.problem(w, r, http.StatusBadRequest, wire.CodeBadRequest, "order must be asc or desc")
		return
	}
	for k, vs := range q {
		key, ok := strings.CutPrefix(k, labelPrefix)
		if !ok {
			continue
		}
		for _, v := range vs[1:] {
			if v != vs[0] {
				// Two values for one key can never both match.
				h.problem(w, r, http.StatusBadRequest, wire.CodeBadRequest, "label "+key+" is given with two different values")
				return
			}
		}
		if opts.Labels == nil {
			opts.Labels = map[string]string{}
		}
		opts.Labels[key] = vs[0]
	}
	page, err := svc.List(r.Context(), opts)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	base := h.base(r)
	for _, a := range page.Attachments {
		h.decorate(base, a)
	}
	if page.HasMore {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("cursor", page.NextCursor)
		w.Header().Set("Link", "<"+base+"/?"+next.Encode()+`>; rel="next"`)
	}
	writeJSON(w, r, http.StatusOK, "application/json", listResponse{
		Data:       page.Attachments,
		HasMore:    page.HasMore,
		NextCursor: page.NextCursor,
	})
}
