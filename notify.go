package attachment

import "sync"

// notifier wakes those waiting for a change to one attachment: a waiter
// subscribes to the attachment's ID, and notify wakes the subscribers of
// that ID only. It keeps an entry per ID while someone waits for it, and
// none once nobody does.
type notifier struct {
	mu    sync.Mutex
	waits map[string]*waiters
}

// waiters are the subscribers of one ID: ch is closed by notify, and n
// counts the subscriptions not yet ended.
type waiters struct {
	ch chan struct{}
	n  int
}

// subscribe returns a channel closed at the next notify of id, and a
// function that ends the subscription, which the caller must call once
// it no longer waits.
func (n *notifier) subscribe(id string) (<-chan struct{}, func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.waits == nil {
		n.waits = make(map[string]*waiters)
	}
	w := n.waits[id]
	if w == nil {
		w = &waiters{ch: make(chan struct{})}
		n.waits[id] = w
	}
	w.n++
	return w.ch, func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		w.n--
		if w.n == 0 && n.waits[id] == w {
			delete(n.waits, id)
		}
	}
}

// notify wakes the subscribers of id.
func (n *notifier) notify(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if w := n.waits[id]; w != nil {
		close(w.ch)
		delete(n.waits, id)
	}
}

// len is how many IDs are waited for, for tests.
func (n *notifier) len() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.waits)
}
