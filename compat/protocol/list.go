package protocol

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/attachkit/attachment"
)

// Page sizes of GET /.
const (
	// DefaultLimit is the page size when limit is not given, as the
	// Protocol document has it.
	DefaultLimit = 10
	// MaxLimit is the largest limit.
	MaxLimit = 100
)

// listQuery is what GET / asks for.
type listQuery struct {
	conversation string
	limit        int
	// after and before are the starting_after and ending_before IDs;
	// at most one is set.
	after, before string
}

// parseListQuery reads the query parameters of GET /. Other parameters
// are ignored.
func parseListQuery(q url.Values) (listQuery, error) {
	lq := listQuery{limit: DefaultLimit}
	single := func(name string) (string, error) {
		vs := q[name]
		for _, v := range vs[min(1, len(vs)):] {
			if v != vs[0] {
				return "", invalid(name + " is given twice with different values")
			}
		}
		if len(vs) == 0 {
			return "", nil
		}
		return vs[0], nil
	}
	var err error
	if lq.conversation, err = single("conversation_id"); err != nil {
		return lq, err
	}
	if lq.after, err = single("starting_after"); err != nil {
		return lq, err
	}
	if lq.before, err = single("ending_before"); err != nil {
		return lq, err
	}
	if lq.after != "" && lq.before != "" {
		return lq, invalid("starting_after and ending_before cannot both be given")
	}
	v, err := single("limit")
	if err != nil {
		return lq, err
	}
	if v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			return lq, invalid("limit must be a whole number from 1 to " + strconv.Itoa(MaxLimit))
		}
		lq.limit = n
	}
	return lq, nil
}

// list handles GET /: a page of attachments, newest first, in a
// conversation when conversation_id is given, after (starting_after) or
// before (ending_before) an attachment.
func (d *Handler) list(w http.ResponseWriter, r *http.Request, base string) {
	_, svc, _, err := d.h.Authorize(r, attachment.OpList, "")
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	lq, err := parseListQuery(r.URL.Query())
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	opts := &attachment.ListOptions{Limit: lq.limit}
	if lq.conversation != "" {
		opts.Labels = map[string]string{LabelConversation: lq.conversation}
	}
	param, from := "starting_after", lq.after
	if lq.before != "" {
		param, from = "ending_before", lq.before
		// The items just before X, newest first, are the oldest of those
		// newer than X: read them oldest first from X, then reverse.
		opts.Ascending = true
	}
	if from != "" {
		// The attachment must exist in the caller's tenant: a cursor
		// naming nothing is a client's mistake, not an empty page.
		a, err := svc.Get(r.Context(), from)
		if err == nil {
			opts.Cursor, err = attachment.CursorAfter(a.ID)
		}
		if errors.Is(err, attachment.ErrNotFound) {
			err = invalid(param + ": no such attachment: " + strconv.Quote(from))
		}
		if err != nil {
			d.h.WriteError(w, r, err)
			return
		}
	}
	page, err := svc.List(r.Context(), opts)
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	if opts.Ascending {
		slices.Reverse(page.Attachments)
	}
	body := listBody{HasMore: page.HasMore, Data: make([]*model, len(page.Attachments))}
	for i, a := range page.Attachments {
		body.Data[i] = toModel(base, a)
	}
	writeJSON(w, r, http.StatusOK, body)
}

// invalid is a client's mistake in the request, answered 400.
func invalid(detail string) error {
	return &attachment.Error{Kind: attachment.ErrInvalid, Detail: detail}
}
