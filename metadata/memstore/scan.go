package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/attachkit/attachment/metadata"
)

var _ metadata.Scanner = (*Store)(nil)

// Lookup implements metadata.Scanner.
func (s *Store) Lookup(ctx context.Context, id string) (*metadata.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: lookup: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, fmt.Errorf("memstore: lookup: %w", metadata.ErrClosed)
	}
	e, ok := s.records[id]
	if !ok {
		return nil, fmt.Errorf("memstore: lookup %q: %w", id, metadata.ErrNotFound)
	}
	return s.output(e), nil
}

// Scan implements metadata.Scanner. It visits every record, so a scan of
// the whole store costs O(n log n) per page: fine for the tests and small
// stores memstore is for.
func (s *Store) Scan(ctx context.Context, q metadata.ScanQuery) ([]*metadata.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: scan: %w", err)
	}
	if q.Limit <= 0 {
		return nil, fmt.Errorf("memstore: scan: limit %d: %w", q.Limit, errBadLimit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, fmt.Errorf("memstore: scan: %w", metadata.ErrClosed)
	}
	var match []*entry
	for id, e := range s.records {
		if id <= q.After || (q.Before != "" && id >= q.Before) || (q.NeverReferenced && e.referenced) {
			continue
		}
		match = append(match, e)
	}
	slices.SortFunc(match, func(a, b *entry) int { return strings.Compare(a.rec.ID, b.rec.ID) })
	out := make([]*metadata.Record, 0, min(len(match), q.Limit))
	for _, e := range match[:min(len(match), q.Limit)] {
		out = append(out, s.output(e))
	}
	return out, nil
}
