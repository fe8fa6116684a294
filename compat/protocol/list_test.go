package protocol_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/compat/protocol"
	"github.com/attachkit/attachment/internal/compattest"
)

// listPage asks for a page of the listing with the query.
func listPage(t *testing.T, e *compattest.Env, q url.Values) (ids_ []string, hasMore bool) {
	t.Helper()
	rec := e.Do(http.MethodGet, protocol.BasePath+"?"+q.Encode(), nil, auth...)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	m := decode(t, rec)
	hm, ok := m["has_more"].(bool)
	require.True(t, ok, "has_more is a boolean: %#v", m["has_more"])
	return ids(t, m), hm
}

// TestListPages pages through a conversation with starting_after and back
// with ending_before, as a Stripe-style client does.
func TestListPages(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *compattest.Env) {
		var inConv, other []string
		for i := range 23 {
			m := create(t, e, protocol.BasePath, fmt.Sprintf("f%02d.txt", i), []byte("x"), "conversation_id", conversation)
			inConv = append(inConv, m["id"].(string))
			if i%5 == 0 {
				m := create(t, e, protocol.BasePath, "other.txt", []byte("y"), "conversation_id", "other")
				other = append(other, m["id"].(string))
			}
		}
		want := reversed(inConv) // newest first

		// Forward, ten at a time by default.
		var got []string
		q := url.Values{"conversation_id": {conversation}}
		for pages := 0; ; pages++ {
			require.Less(t, pages, 5)
			page, more := listPage(t, e, q)
			got = append(got, page...)
			if !more {
				require.Len(t, page, 3)
				break
			}
			require.Len(t, page, protocol.DefaultLimit)
			q.Set("starting_after", page[len(page)-1])
		}
		require.Equal(t, want, got)

		// Backward from the last page: ending_before its first item gives
		// the ten before it, newest first, and has_more while newer ones
		// remain.
		page, more := listPage(t, e, url.Values{"conversation_id": {conversation}, "ending_before": {want[20]}})
		assert.Equal(t, want[10:20], page)
		assert.True(t, more)
		page, more = listPage(t, e, url.Values{"conversation_id": {conversation}, "ending_before": {want[10]}})
		assert.Equal(t, want[0:10], page)
		assert.False(t, more)
		page, more = listPage(t, e, url.Values{"conversation_id": {conversation}, "ending_before": {want[0]}})
		assert.Empty(t, page)
		assert.False(t, more)

		// A limit, and the last page exactly full.
		page, more = listPage(t, e, url.Values{"conversation_id": {conversation}, "limit": {"3"}, "starting_after": {want[19]}})
		assert.Equal(t, want[20:23], page)
		assert.False(t, more)
		page, more = listPage(t, e, url.Values{"conversation_id": {conversation}, "limit": {"1"}, "starting_after": {want[0]}})
		assert.Equal(t, want[1:2], page)
		assert.True(t, more)
		page, _ = listPage(t, e, url.Values{"conversation_id": {conversation}, "limit": {strconv.Itoa(protocol.MaxLimit)}})
		assert.Equal(t, want, page)

		// starting_after an attachment of another conversation: the
		// conversation's attachments older than it.
		page, _ = listPage(t, e, url.Values{"conversation_id": {conversation}, "starting_after": {other[2]}})
		var older []string
		for _, id := range want {
			if id < other[2] {
				older = append(older, id)
			}
		}
		require.NotEmpty(t, older)
		assert.Equal(t, older[:min(10, len(older))], page)

		// starting_after names an attachment: a deleted one is a 400.
		rec := e.Do(http.MethodDelete, protocol.BasePath+"/"+want[9], nil, auth...)
		require.Equal(t, http.StatusNoContent, rec.Code)
		msg := requireError(t, e.Do(http.MethodGet, protocol.BasePath+"?starting_after="+want[9], nil, auth...),
			http.StatusBadRequest, "invalid_request_error", "bad_request")
		assert.Contains(t, msg, "starting_after")

		// Without conversation_id: the whole tenant, newest first.
		// (IDs are UUIDv7s, which sort in upload order.)
		all, _ := listPage(t, e, url.Values{"limit": {"100"}})
		wantAll := slices.DeleteFunc(append(slices.Clone(inConv), other...), func(id string) bool { return id == want[9] })
		slices.Sort(wantAll)
		assert.Equal(t, reversed(wantAll), all)
	})
}

// TestStartingAfterMatchesService holds the dialect's starting_after to
// the Service's own: a page that ends with an attachment continues exactly
// where starting_after that attachment starts.
func TestStartingAfterMatchesService(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *compattest.Env) {
		for i := range 5 {
			create(t, e, protocol.BasePath, fmt.Sprintf("c%d.txt", i), []byte("c"))
		}
		for _, asc := range []bool{false, true} {
			for n := 1; n < 5; n++ {
				p, err := e.Service.List(t.Context(), &attachment.ListOptions{Limit: n, Ascending: asc})
				require.NoError(t, err)
				require.True(t, p.HasMore)
				next, err := e.Service.List(t.Context(), &attachment.ListOptions{Cursor: p.NextCursor, Ascending: asc})
				require.NoError(t, err)
				var want []string
				for _, a := range next.Attachments {
					want = append(want, a.ID)
				}
				param := "starting_after"
				if asc {
					param = "ending_before"
					want = reversed(want)
				}
				got, _ := listPage(t, e, url.Values{param: {p.Attachments[n-1].ID}})
				require.Equal(t, want, got, "asc %v, n %d", asc, n)
			}
		}
	})
}
