// Package memstore is an in-memory metadata.Store, for tests and for
// programs whose records need not outlive the process.
//
// Importing it registers the "mem" scheme with metadata.DefaultURLMux, so
// that metadata.OpenStore(ctx, "mem://") opens a new, empty store.
//
// Records are held in a map by ID; each tenant keeps its records in slices
// sorted by ID (all of them, each owner's, and each label's), so List walks
// the shortest list that can hold its matches, from its cursor, instead of
// sorting on every call. Times are kept to the
// microsecond, in UTC, as the SQL stores keep them, so that tests written
// against this store see what the others return.
//
// Store is also a metadata.Queue: the jobs live beside the records, under
// the same lock (see queue.go), and a metadata.Uploads, whose sessions are
// kept under that lock too (see uploads.go).
package memstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/attachkit/attachment/metadata"
)

var _ metadata.Store = (*Store)(nil)

// Store is an in-memory metadata.Store. Create one with New; it is safe for
// concurrent use.
type Store struct {
	mu      sync.RWMutex
	closed  bool
	records map[string]*entry
	tenants map[string]*tenantIndex
	jobs    jobTable
	uploads map[string]*metadata.Upload // by ID; owned by the store
}

// entry is one stored record with what List needs precomputed. Updates
// replace its fields in place, under Store.mu.
type entry struct {
	rec       *metadata.Record // owned by the store, never handed out
	lowerName string           // strings.ToLower(rec.Filename)
	// referenced: the record has had a ref at some time (see
	// metadata.Scanner).
	referenced bool
}

// New returns an empty Store.
func New() *Store {
	return &Store{
		records: make(map[string]*entry),
		tenants: make(map[string]*tenantIndex),
		jobs:    newJobTable(),
		uploads: make(map[string]*metadata.Upload),
	}
}

// Create implements metadata.Store.
func (s *Store) Create(ctx context.Context, recs []*metadata.Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: create: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("memstore: create: %w", metadata.ErrClosed)
	}
	if err := s.insert(recs); err != nil {
		return fmt.Errorf("memstore: create: %w", err)
	}
	return nil
}

// insert stores recs and their jobs, or none of them if an ID is taken or
// repeated. s.mu must be held for writing.
func (s *Store) insert(recs []*metadata.Record) error {
	batch := make(map[string]bool, len(recs))
	for _, r := range recs {
		if _, taken := s.records[r.ID]; taken || batch[r.ID] {
			return fmt.Errorf("%q: %w", r.ID, metadata.ErrExists)
		}
		batch[r.ID] = true
	}
	for _, r := range recs {
		e := newEntry(r)
		s.records[r.ID] = e
		s.tenant(r.Tenant).add(e)
		s.jobs.create(r)
	}
	return nil
}

// Get implements metadata.Store.
func (s *Store) Get(ctx context.Context, tenant, id string) (*metadata.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: get: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, fmt.Errorf("memstore: get: %w", metadata.ErrClosed)
	}
	e, err := s.lookup(tenant, id)
	if err != nil {
		return nil, fmt.Errorf("memstore: get: %w", err)
	}
	return s.output(e), nil
}

// Update implements metadata.Store.
func (s *Store) Update(ctx context.Context, tenant, id string, u metadata.Update) (*metadata.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memstore: update: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("memstore: update: %w", metadata.ErrClosed)
	}
	e, err := s.lookup(tenant, id)
	if err != nil {
		return nil, fmt.Errorf("memstore: update: %w", err)
	}
	r := e.rec.Clone()
	u.Apply(r)
	r.UpdatedAt = normTime(r.UpdatedAt)
	next := newEntry(r)
	next.referenced = next.referenced || e.referenced || len(u.AddRefs) > 0
	reindex := next.rec.Owner != e.rec.Owner || u.Labels != nil
	t := s.tenants[tenant]
	if reindex {
		t.remove(e)
	}
	*e = *next
	if reindex {
		t.add(e)
	}
	return s.output(e), nil
}

// Delete implements metadata.Store.
func (s *Store) Delete(ctx context.Context, tenant, id string, force bool) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: delete: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("memstore: delete: %w", metadata.ErrClosed)
	}
	e, err := s.lookup(tenant, id)
	if err != nil {
		return fmt.Errorf("memstore: delete: %w", err)
	}
	if len(e.rec.Refs) > 0 && !force {
		return fmt.Errorf("memstore: delete %q: %w", id, metadata.ErrReferenced)
	}
	delete(s.records, id)
	s.jobs.deleteRecord(id)
	t := s.tenants[tenant]
	t.remove(e)
	if t.empty() {
		delete(s.tenants, tenant)
	}
	return nil
}

// Close implements metadata.Store. It drops every record; calls after it,
// Close included, return metadata.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("memstore: close: %w", metadata.ErrClosed)
	}
	s.closed = true
	s.records = nil
	s.tenants = nil
	s.jobs = jobTable{}
	s.uploads = nil
	return nil
}

// lookup returns the entry with the ID in the tenant. A record of another
// tenant is reported exactly like a missing one. s.mu must be held.
func (s *Store) lookup(tenant, id string) (*entry, error) {
	e, ok := s.records[id]
	if !ok || e.rec.Tenant != tenant {
		return nil, fmt.Errorf("attachment %q: %w", id, metadata.ErrNotFound)
	}
	return e, nil
}

// tenant returns the tenant's index, making it if need be. s.mu must be
// held for writing.
func (s *Store) tenant(name string) *tenantIndex {
	t := s.tenants[name]
	if t == nil {
		t = newTenantIndex()
		s.tenants[name] = t
	}
	return t
}

// output returns the copy of e's record that a call hands out, with
// Processing read from the jobs. s.mu must be held.
func (s *Store) output(e *entry) *metadata.Record {
	r := e.rec.Clone()
	r.Processing = s.jobs.states(r.ID)
	return r
}

// newEntry returns an entry holding a normalized deep copy of r: times in
// UTC to the microsecond, nil Labels and Refs where there are none, and no
// Processing (which output reads from the jobs).
func newEntry(r *metadata.Record) *entry {
	c := r.Clone()
	c.Processing = nil
	c.CreatedAt = normTime(c.CreatedAt)
	c.UpdatedAt = normTime(c.UpdatedAt)
	if len(c.Labels) == 0 {
		c.Labels = nil
	}
	if len(c.Refs) == 0 {
		c.Refs = nil
	}
	return &entry{rec: c, lowerName: strings.ToLower(c.Filename), referenced: c.Refs != nil}
}

func normTime(t time.Time) time.Time {
	return t.Truncate(time.Microsecond).UTC()
}
