package client

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/attachkit/attachment/wire"
)

// listResponse is the body of GET /.
type listResponse struct {
	Data       []*wire.Attachment `json:"data"`
	HasMore    bool               `json:"has_more"`
	NextCursor string             `json:"next_cursor"`
}

// ListPage returns one page of the attachments that match opts (GET /):
// Owner, Labels (all must match), Query (a case-insensitive substring of
// the filename), TypePrefix ("image/"), Limit (zero: the server's default
// of 20; at most 1000), Cursor (the NextCursor of the previous page) and
// Ascending (oldest first; newest first by default). A nil opts lists the
// newest attachments.
func (c *Client) ListPage(ctx context.Context, opts *wire.ListOptions) (*wire.Page, error) {
	var o wire.ListOptions
	if opts != nil {
		o = *opts
	}
	q := url.Values{}
	if o.Owner != "" {
		q.Set("owner", o.Owner)
	}
	for k, v := range o.Labels {
		q.Set("label."+k, v)
	}
	if o.Query != "" {
		q.Set("q", o.Query)
	}
	if o.TypePrefix != "" {
		q.Set("type", o.TypePrefix)
	}
	if o.Limit != 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
	if o.Ascending {
		q.Set("order", "asc")
	}
	var resp listResponse
	if err := c.doJSON(ctx, http.MethodGet, c.endpoint(q), nil, &resp); err != nil {
		return nil, err
	}
	p := &wire.Page{Attachments: resp.Data, HasMore: resp.HasMore, NextCursor: resp.NextCursor}
	if p.Attachments == nil {
		p.Attachments = []*wire.Attachment{}
	}
	if p.HasMore && (p.NextCursor == "" || p.NextCursor == o.Cursor) {
		return nil, fmt.Errorf("attachment client: list: the server says more follows but gives no new cursor (%q)", p.NextCursor)
	}
	return p, nil
}

// List iterates over the pages of the attachments that match opts (see
// ListPage), starting at opts.Cursor: each page is fetched when the loop
// asks for it, so breaking out of the loop fetches no more. It stops
// after the last page, or at the first error, which it yields with a nil
// page. Each page's NextCursor resumes the listing later.
//
//	for page, err := range c.List(ctx, &wire.ListOptions{Owner: "doc:1", Limit: 100}) {
//		if err != nil {
//			return err
//		}
//		for _, a := range page.Attachments { ... }
//	}
func (c *Client) List(ctx context.Context, opts *wire.ListOptions) iter.Seq2[*wire.Page, error] {
	var o wire.ListOptions
	if opts != nil {
		o = *opts
	}
	return func(yield func(*wire.Page, error) bool) {
		o := o // each loop over the iterator starts afresh
		for {
			p, err := c.ListPage(ctx, &o)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(p, nil) || !p.HasMore {
				return
			}
			o.Cursor = p.NextCursor
		}
	}
}

// All iterates over every attachment that matches opts, page after page
// (see List), as attachment.Service.All does. It stops at the first error,
// which it yields with a nil attachment.
func (c *Client) All(ctx context.Context, opts *wire.ListOptions) iter.Seq2[*wire.Attachment, error] {
	return func(yield func(*wire.Attachment, error) bool) {
		for p, err := range c.List(ctx, opts) {
			if err != nil {
				yield(nil, err)
				return
			}
			for _, a := range p.Attachments {
				if !yield(a, nil) {
					return
				}
			}
		}
	}
}
