package memstore

import (
	"slices"
	"strings"
)

// tenantIndex keeps one tenant's entries in ascending ID order: all of
// them, those of each owner, and those with each label. IDs are UUIDv7
// strings and arrive nearly in order, so an insertion is almost always an
// append.
type tenantIndex struct {
	all    []*entry
	owners map[string][]*entry
	labels map[label][]*entry
}

// label is one key/value pair.
type label struct{ key, value string }

func newTenantIndex() *tenantIndex {
	return &tenantIndex{owners: make(map[string][]*entry), labels: make(map[label][]*entry)}
}

// add indexes e under its current owner and labels.
func (t *tenantIndex) add(e *entry) {
	t.all = insertSorted(t.all, e)
	t.owners[e.rec.Owner] = insertSorted(t.owners[e.rec.Owner], e)
	for k, v := range e.rec.Labels {
		l := label{k, v}
		t.labels[l] = insertSorted(t.labels[l], e)
	}
}

// remove drops e from the lists of its current owner and labels.
func (t *tenantIndex) remove(e *entry) {
	t.all = removeSorted(t.all, e)
	removeFrom(t.owners, e.rec.Owner, e)
	for k, v := range e.rec.Labels {
		removeFrom(t.labels, label{k, v}, e)
	}
}

func (t *tenantIndex) empty() bool { return len(t.all) == 0 }

// removeFrom removes e from m[k], dropping the key once its list is empty.
func removeFrom[K comparable](m map[K][]*entry, k K, e *entry) {
	if list := removeSorted(m[k], e); len(list) > 0 {
		m[k] = list
	} else {
		delete(m, k)
	}
}

func cmpID(e *entry, id string) int { return strings.Compare(e.rec.ID, id) }

// search returns where id is, or would be, in list.
func search(list []*entry, id string) (int, bool) {
	return slices.BinarySearchFunc(list, id, cmpID)
}

// insertSorted inserts e into list, which is in ascending ID order.
func insertSorted(list []*entry, e *entry) []*entry {
	if n := len(list); n == 0 || list[n-1].rec.ID < e.rec.ID {
		return append(list, e)
	}
	i, _ := search(list, e.rec.ID)
	return slices.Insert(list, i, e)
}

// removeSorted removes e from list, which is in ascending ID order, if it
// is there.
func removeSorted(list []*entry, e *entry) []*entry {
	i, found := search(list, e.rec.ID)
	if !found {
		return list
	}
	return slices.Delete(list, i, i+1)
}
