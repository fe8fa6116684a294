package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/attachkit/attachment/wire"
)

// Get returns the attachment's record (GET /{id}/metadata). A missing
// attachment, or one the caller may not see, is an *Error wrapping
// wire.ErrNotFound.
func (c *Client) Get(ctx context.Context, id string) (*wire.Attachment, error) {
	var a wire.Attachment
	if err := c.doJSON(ctx, http.MethodGet, c.endpoint(nil, id, "metadata"), nil, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// Update changes the attachment's filename, owner or labels (PATCH /{id})
// and returns the record after the change. Nil fields of ch stay as they
// are; a non-nil Owner of "" clears the owner; non-nil Labels replace
// every label, and an empty non-nil map removes them all.
func (c *Client) Update(ctx context.Context, id string, ch wire.Change) (*wire.Attachment, error) {
	in := map[string]any{}
	if ch.Filename != nil {
		in["filename"] = *ch.Filename
	}
	if ch.Owner != nil {
		in["owner"] = *ch.Owner
	}
	if ch.Labels != nil {
		in["labels"] = ch.Labels // an empty map is sent as {}: remove them all
	}
	var a wire.Attachment
	if err := c.doJSON(ctx, http.MethodPatch, c.endpoint(nil, id), in, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// AddRef marks the attachment referenced by ref (POST /{id}/refs) and
// returns the record; adding a reference twice is no error. A referenced
// attachment is not deleted without force, nor swept as abandoned.
func (c *Client) AddRef(ctx context.Context, id, ref string) (*wire.Attachment, error) {
	var a wire.Attachment
	if err := c.doJSON(ctx, http.MethodPost, c.endpoint(nil, id, "refs"), map[string]string{"ref": ref}, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// RemoveRef removes the reference ref (DELETE /{id}/refs/{ref}, the ref
// path-escaped here) and returns the record; removing a reference that is
// not there is no error.
func (c *Client) RemoveRef(ctx context.Context, id, ref string) (*wire.Attachment, error) {
	var a wire.Attachment
	if err := c.doJSON(ctx, http.MethodDelete, c.endpoint(nil, id, "refs", ref), nil, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// Delete deletes the attachment: its record, content and thumbnails. A
// referenced attachment is an *Error wrapping wire.ErrReferenced
// unless opts.Force. A nil opts means no force.
func (c *Client) Delete(ctx context.Context, id string, opts *wire.DeleteOptions) error {
	var q url.Values
	if opts != nil && opts.Force {
		q = url.Values{"force": {"true"}}
	}
	return c.doJSON(ctx, http.MethodDelete, c.endpoint(q, id), nil, nil)
}

// SignedURL asks the server for a URL that reads the attachment without
// credentials until it expires (POST /{id}/signed-url), for a browser or
// another program. The URL is absolute (resolved against the base URL);
// the same query string on the thumbnail URL reads thumbnails. opts.TTL is
// rounded up to whole seconds; zero (or a nil opts) means the server's
// default, and one above its maximum is cut to it. opts.Disposition may be
// "inline". A server without signed URLs answers 404
// (wire.ErrNotFound).
func (c *Client) SignedURL(ctx context.Context, id string, opts *wire.SignOptions) (*wire.SignedURL, error) {
	q := url.Values{}
	if opts != nil {
		if opts.TTL > 0 {
			secs := int64((opts.TTL + time.Second - 1) / time.Second)
			q.Set("ttl", strconv.FormatInt(secs, 10))
		}
		if opts.Disposition != "" {
			q.Set("disposition", opts.Disposition)
		}
	}
	var su wire.SignedURL
	if err := c.doJSON(ctx, http.MethodPost, c.endpoint(q, id, "signed-url"), nil, &su); err != nil {
		return nil, err
	}
	abs, err := c.ResolveURL(su.URL)
	if err != nil {
		return nil, err
	}
	su.URL = abs
	return &su, nil
}
