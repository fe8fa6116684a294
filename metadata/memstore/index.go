package memstore

import (
	"slices"

	"github.com/attachkit/attachment/metadata"
)

// tenantIndex keeps one tenant's IDs in ascending order: all of them, and
// those of each owner. IDs are UUIDv7 strings and arrive nearly in order, so
// an insertion is almost always an append.
type tenantIndex struct {
	all    []string
	owners map[string][]string
}

func (t *tenantIndex) add(r *metadata.Record) {
	t.all = insertSorted(t.all, r.ID)
	t.owners[r.Owner] = insertSorted(t.owners[r.Owner], r.ID)
}

func (t *tenantIndex) remove(r *metadata.Record) {
	t.all = removeSorted(t.all, r.ID)
	ids := removeSorted(t.owners[r.Owner], r.ID)
	if len(ids) == 0 {
		delete(t.owners, r.Owner)
	} else {
		t.owners[r.Owner] = ids
	}
}

func (t *tenantIndex) empty() bool { return len(t.all) == 0 }

// insertSorted inserts id into the ascending slice ids.
func insertSorted(ids []string, id string) []string {
	if n := len(ids); n == 0 || ids[n-1] < id {
		return append(ids, id)
	}
	i, _ := slices.BinarySearch(ids, id)
	return slices.Insert(ids, i, id)
}

// removeSorted removes id from the ascending slice ids, if it is there.
func removeSorted(ids []string, id string) []string {
	i, found := slices.BinarySearch(ids, id)
	if !found {
		return ids
	}
	return slices.Delete(ids, i, i+1)
}
