package memstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/attachkit/attachment/metadata"
)

// List implements metadata.Store. It walks the tenant's IDs (or, with
// q.Owner, the owner's) in the chosen order from q.After, and stops once it
// has q.Limit matches. q.Limit must be positive.
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
	ids := t.all
	if q.Owner != "" {
		ids = t.owners[q.Owner]
	}
	m := newMatcher(q)
	visit := func(id string) bool {
		if e := s.records[id]; m.match(e) {
			out = append(out, e.rec.Clone())
		}
		return len(out) < q.Limit
	}
	if q.Ascending {
		start := 0
		if q.After != "" {
			// The first ID greater than After.
			start, _ = slices.BinarySearch(ids, q.After)
			if start < len(ids) && ids[start] == q.After {
				start++
			}
		}
		for _, id := range ids[start:] {
			if !visit(id) {
				break
			}
		}
		return out, nil
	}
	end := len(ids)
	if q.After != "" {
		// Everything before the first ID not less than After.
		end, _ = slices.BinarySearch(ids, q.After)
	}
	for i := end - 1; i >= 0; i-- {
		if !visit(ids[i]) {
			break
		}
	}
	return out, nil
}

var errBadLimit = errors.New("limit must be positive")

// matcher tests entries against the filters of a query other than Tenant,
// Owner and After, which the walk itself applies.
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
