package attachment

import (
	"context"
	"encoding/base64"
	"fmt"
	"iter"
	"strings"

	"github.com/google/uuid"

	"github.com/attachkit/attachment/metadata"
)

// List returns one page of the tenant's attachments that match opts.
// Cursors are opaque; a cursor stays valid while attachments are added and
// removed, including the one it was made from.
func (s *Service) List(ctx context.Context, opts *ListOptions) (*Page, error) {
	var o ListOptions
	if opts != nil {
		o = *opts
	}
	switch {
	case o.Limit == 0:
		o.Limit = DefaultListLimit
	case o.Limit < 0 || o.Limit > MaxListLimit:
		return nil, inputErr(ErrInvalid, "limit must be between 1 and %d", MaxListLimit)
	}
	q := metadata.Query{
		Tenant:            s.tenant,
		Owner:             o.Owner,
		Labels:            o.Labels,
		FilenameContains:  o.Query,
		ContentTypePrefix: strings.ToLower(o.TypePrefix),
		Ascending:         o.Ascending,
		Limit:             o.Limit + 1,
	}
	if o.Cursor != "" {
		after, err := decodeCursor(o.Cursor)
		if err != nil {
			return nil, err
		}
		q.After = after
	}
	for what, v := range map[string]string{"owner": o.Owner, "q": o.Query, "type": o.TypePrefix} {
		if err := s.core.checkField(what, v); err != nil {
			return nil, err
		}
	}
	if err := s.core.checkLabels(o.Labels); err != nil {
		return nil, err
	}
	recs, err := s.core.meta.List(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("attachment: list: %w", err)
	}
	p := &Page{}
	if len(recs) > o.Limit {
		recs = recs[:o.Limit]
		p.HasMore = true
		p.NextCursor = encodeCursor(recs[len(recs)-1].ID)
	}
	p.Attachments = make([]*Attachment, len(recs))
	for i, r := range recs {
		p.Attachments[i] = fromRecord(r)
	}
	return p, nil
}

// All iterates over every attachment that matches opts, page after page,
// starting at opts.Cursor. It stops at the first error, which it yields.
func (s *Service) All(ctx context.Context, opts *ListOptions) iter.Seq2[*Attachment, error] {
	return func(yield func(*Attachment, error) bool) {
		var o ListOptions
		if opts != nil {
			o = *opts
		}
		for {
			p, err := s.List(ctx, &o)
			if err != nil {
				yield(nil, err)
				return
			}
			for _, a := range p.Attachments {
				if !yield(a, nil) {
					return
				}
			}
			if !p.HasMore {
				return
			}
			o.Cursor = p.NextCursor
		}
	}
}

// A cursor is the 16 bytes of the last listed ID, base64url without
// padding: opaque to clients, and valid whatever happens to that ID.
func encodeCursor(id string) string {
	u := uuid.MustParse(id)
	return base64.RawURLEncoding.EncodeToString(u[:])
}

// CursorAfter returns the ListOptions.Cursor that continues a listing
// after the attachment with the ID, in either order (ListOptions.Ascending),
// as if it had been the last of a page: for APIs that page by an item
// ("starting_after", "ending_before" with the order reversed). The
// attachment need not exist; a string that is not an attachment ID is an
// error wrapping ErrInvalid.
func CursorAfter(id string) (string, error) {
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		return "", inputErr(ErrInvalid, "%q is not an attachment ID", truncate(id, 64))
	}
	return base64.RawURLEncoding.EncodeToString(u[:]), nil
}

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) != 16 {
		return "", inputErr(ErrInvalid, "malformed cursor")
	}
	u, _ := uuid.FromBytes(b)
	return u.String(), nil
}
