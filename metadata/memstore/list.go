package memstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/attachkit/attachment/metadata"
)

// List implements metadata.Store. It walks the shortest list that can hold
// the matches (see candidates) in the chosen order from q.After, and stops
// once it has q.Limit of them. q.Limit must be positive.
func (s *Store) List(ctx context.Context, q metadata.Query) ([]*metadata.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: list: %w", err)
	}
	if q.Limit <= 0 {
		return nil, fmt.Errorf("memstore: list: limit %d: %w", q.Limit, errBadLimit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, fmt.Errorf("memstore: list: %w", metadata.ErrClosed)
	}
	out := []*metadata.Record{}
	t := s.tenants[q.Tenant]
	if t == nil {
		return out, nil
	}
	list, ok := t.candidates(q)
	if !ok {
		return out, nil
	}
	m := newMatcher(q)
	visit := func(e *entry) bool {
		if m.match(e) {
			out = append(out, s.output(e))
		}
		return len(out) < q.Limit
	}
	if q.Ascending {
		start := 0
		if q.After != "" {
			// The first ID greater than After.
			var found bool
			if start, found = search(list, q.After); found {
				start++
			}
		}
		for _, e := range list[start:] {
			if !visit(e) {
				break
			}
		}
		return out, nil
	}
	end := len(list)
	if q.After != "" {
		// Everything before the first ID not less than After.
		end, _ = search(list, q.After)
	}
	for i := end - 1; i >= 0; i-- {
		if !visit(list[i]) {
			break
		}
	}
	return out, nil
}

// candidates returns the shortest of the tenant's lists that holds every
// match of q: all its entries, the owner's, or one label's. ok is false when
// a list that q needs does not exist, so nothing can match.
func (t *tenantIndex) candidates(q metadata.Query) (list []*entry, ok bool) {
	list = t.all
	if q.Owner != "" {
		if list, ok = t.owners[q.Owner]; !ok {
			return nil, false
		}
	}
	for k, v := range q.Labels {
		l, ok := t.labels[label{k, v}]
		if !ok {
			return nil, false
		}
		if len(l) < len(list) {
			list = l
		}
	}
	return list, true
}

var errBadLimit = errors.New("limit must be positive")

// matcher tests entries against the filters of a query other than Tenant
// and After, which the walk itself applies.
type matcher struct {
	q         metadata.Query
	lowerName string
}

func newMatcher(q metadata.Query) matcher {
	return matcher{q: q, lowerName: strings.ToLower(q.FilenameContains)}
}

func (m matcher) match(e *entry) bool {
	r := e.rec
	if m.q.Owner != "" && r.Owner != m.q.Owner {
		return false
	}
	if m.q.ContentTypePrefix != "" && !strings.HasPrefix(r.ContentType, m.q.ContentTypePrefix) {
		return false
	}
	if m.q.FilenameContains != "" && !strings.Contains(e.lowerName, m.lowerName) {
		return false
	}
	for k, v := range m.q.Labels {
		if got, ok := r.Labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}
