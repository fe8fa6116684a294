package client_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/client"
)

// listRequests counts the list requests (GET /) the server has seen.
func (e *env) listRequests() []url.Values {
	var out []url.Values
	for _, r := range e.requests() {
		if r.method == http.MethodGet && r.path == prefix+"/" {
			q, _ := url.ParseQuery(r.query)
			out = append(out, q)
		}
	}
	return out
}

func TestListPages(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	var ids []string // oldest first
	for i := range 7 {
		ids = append(ids, e.upload(fmt.Sprintf("f%d.txt", i), []byte("x"), &client.UploadOptions{Owner: "doc:1"}).ID)
	}
	e.upload("other.txt", []byte("x"), &client.UploadOptions{Owner: "doc:2"})
	e.reset()

	// Pages of 3, 3 and 1, newest first, fetched one by one.
	var pages [][]string
	var cursors []string
	for p, err := range e.c.List(ctx, &attachment.ListOptions{Owner: "doc:1", Limit: 3}) {
		require.NoError(t, err)
		var got []string
		for _, a := range p.Attachments {
			got = append(got, a.ID)
			assert.Equal(t, prefix+"/"+a.ID, a.URL)
		}
		pages = append(pages, got)
		cursors = append(cursors, p.NextCursor)
		assert.Equal(t, p.NextCursor != "", p.HasMore)
		assert.Len(t, e.listRequests(), len(pages), "one request per page, when the loop asks for it")
	}
	want := [][]string{{ids[6], ids[5], ids[4]}, {ids[3], ids[2], ids[1]}, {ids[0]}}
	assert.Equal(t, want, pages)
	assert.Empty(t, cursors[2])
	reqs := e.listRequests()
	require.Len(t, reqs, 3)
	assert.Equal(t, url.Values{"owner": {"doc:1"}, "limit": {"3"}}, reqs[0])
	assert.Equal(t, cursors[0], reqs[1].Get("cursor"))
	assert.Equal(t, cursors[1], reqs[2].Get("cursor"))

	// Breaking out of the loop fetches no more pages.
	e.reset()
	for p, err := range e.c.List(ctx, &attachment.ListOptions{Owner: "doc:1", Limit: 3}) {
		require.NoError(t, err)
		require.True(t, p.HasMore)
		break
	}
	assert.Len(t, e.listRequests(), 1)

	// A cursor resumes; ascending order.
	p, err := e.c.ListPage(ctx, &attachment.ListOptions{Owner: "doc:1", Limit: 3, Cursor: cursors[0]})
	require.NoError(t, err)
	assert.Equal(t, want[1], idsOf(p.Attachments))
	p, err = e.c.ListPage(ctx, &attachment.ListOptions{Owner: "doc:1", Limit: 2, Ascending: true})
	require.NoError(t, err)
	assert.Equal(t, ids[:2], idsOf(p.Attachments))

	// All: every item, across pages; breaking stops it too.
	e.reset()
	var all []string
	for a, err := range e.c.All(ctx, &attachment.ListOptions{Limit: 3, Ascending: true}) {
		require.NoError(t, err)
		all = append(all, a.ID)
	}
	assert.Len(t, all, 8)
	assert.Equal(t, ids, all[:7])
	assert.Len(t, e.listRequests(), 3)
	e.reset()
	n := 0
	for _, err := range e.c.All(ctx, &attachment.ListOptions{Limit: 3}) {
		require.NoError(t, err)
		if n++; n == 4 {
			break
		}
	}
	assert.Len(t, e.listRequests(), 2)

	// An iterator can be ranged over twice, each time from the start.
	it := e.c.List(ctx, &attachment.ListOptions{Owner: "doc:1", Limit: 5})
	for range 2 {
		count := 0
		for p, err := range it {
			require.NoError(t, err)
			count += len(p.Attachments)
		}
		assert.Equal(t, 7, count)
	}

	// Nothing matches: an empty page.
	p, err = e.c.ListPage(ctx, &attachment.ListOptions{Owner: "nobody"})
	require.NoError(t, err)
	assert.NotNil(t, p.Attachments)
	assert.Empty(t, p.Attachments)
	assert.False(t, p.HasMore)
}

func idsOf(atts []*attachment.Attachment) []string {
	out := make([]string, len(atts))
	for i, a := range atts {
		out[i] = a.ID
	}
	return out
}

func TestListFilters(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	img := e.upload("Holiday Photo.png", pngBytes(t, 10, 10), &client.UploadOptions{Owner: "doc:1", Labels: map[string]string{"ws": "1", "kind": "photo"}})
	doc := e.upload("holiday plan.txt", []byte("plan"), &client.UploadOptions{Owner: "doc:1", Labels: map[string]string{"ws": "1"}})
	other := e.upload("notes.txt", []byte("notes"), &client.UploadOptions{Owner: "doc:2", Labels: map[string]string{"ws": "2"}})

	list := func(o *attachment.ListOptions) []string {
		t.Helper()
		var ids []string
		for a, err := range e.c.All(ctx, o) {
			require.NoError(t, err)
			ids = append(ids, a.ID)
		}
		return ids
	}
	assert.Equal(t, []string{other.ID, doc.ID, img.ID}, list(nil))
	assert.Equal(t, []string{doc.ID, img.ID}, list(&attachment.ListOptions{Owner: "doc:1"}))
	assert.Equal(t, []string{img.ID}, list(&attachment.ListOptions{Labels: map[string]string{"ws": "1", "kind": "photo"}}))
	assert.Equal(t, []string{doc.ID, img.ID}, list(&attachment.ListOptions{Labels: map[string]string{"ws": "1"}}))
	assert.Equal(t, []string{doc.ID, img.ID}, list(&attachment.ListOptions{Query: "HOLIDAY"}))
	assert.Equal(t, []string{img.ID}, list(&attachment.ListOptions{TypePrefix: "image/"}))
	assert.Equal(t, []string{doc.ID}, list(&attachment.ListOptions{Query: "plan", TypePrefix: "text/", Owner: "doc:1"}))
	assert.Empty(t, list(&attachment.ListOptions{Owner: "doc:2", Labels: map[string]string{"ws": "1"}}))

	// Bad parameters are the server's to refuse, and end the iteration.
	for _, o := range []*attachment.ListOptions{{Limit: 5000}, {Limit: -1}, {Cursor: "!!"}} {
		n := 0
		var last error
		for a, err := range e.c.All(ctx, o) {
			n++
			assert.Nil(t, a)
			last = err
		}
		assert.Equal(t, 1, n)
		requireCode(t, last, http.StatusBadRequest, client.CodeBadRequest, attachment.ErrInvalid)
		_, err := e.c.ListPage(ctx, o)
		requireCode(t, err, http.StatusBadRequest, client.CodeBadRequest, attachment.ErrInvalid)
	}
}
