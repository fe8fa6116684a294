package metadata

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// URLOpener opens a Store from a URL whose scheme it was registered for.
// Openers must reject query parameters they do not know.
type URLOpener interface {
	OpenStoreURL(ctx context.Context, u *url.URL) (Store, error)
}

// URLOpenerFunc adapts a function to URLOpener.
type URLOpenerFunc func(ctx context.Context, u *url.URL) (Store, error)

// OpenStoreURL calls f(ctx, u).
func (f URLOpenerFunc) OpenStoreURL(ctx context.Context, u *url.URL) (Store, error) {
	return f(ctx, u)
}

// URLMux maps URL schemes to the openers of their stores. The zero value is
// an empty mux, ready to use. It is safe for concurrent use.
type URLMux struct {
	mu      sync.RWMutex
	openers map[string]URLOpener
}

// Register makes o open URLs with the scheme (compared case-insensitively).
// It panics if the scheme is already registered, or o is nil.
func (m *URLMux) Register(scheme string, o URLOpener) {
	if o == nil {
		panic("metadata: Register with a nil opener")
	}
	scheme = strings.ToLower(scheme)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, dup := m.openers[scheme]; dup {
		panic(fmt.Sprintf("metadata: scheme %q registered twice", scheme))
	}
	if m.openers == nil {
		m.openers = make(map[string]URLOpener)
	}
	m.openers[scheme] = o
}

// Schemes returns the registered schemes, sorted.
func (m *URLMux) Schemes() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s := make([]string, 0, len(m.openers))
	for k := range m.openers {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// OpenStore parses urlstr and opens the Store registered for its scheme.
// Errors show the URL with its password masked; a URL that does not parse
// is not shown at all, since its password cannot be found.
func (m *URLMux) OpenStore(ctx context.Context, urlstr string) (Store, error) {
	u, err := url.Parse(urlstr)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL
		}
		return nil, fmt.Errorf("metadata: open: invalid URL: %w", err)
	}
	return m.OpenStoreURL(ctx, u)
}

// OpenStoreURL opens the Store registered for u's scheme.
func (m *URLMux) OpenStoreURL(ctx context.Context, u *url.URL) (Store, error) {
	scheme := strings.ToLower(u.Scheme)
	if scheme == "" {
		return nil, fmt.Errorf("metadata: open %q: no scheme in URL", u.Redacted())
	}
	m.mu.RLock()
	o := m.openers[scheme]
	m.mu.RUnlock()
	if o == nil {
		return nil, fmt.Errorf("metadata: open %q: no store registered for scheme %q (registered: %s); did you import its package, such as github.com/attachkit/attachment/metadata/sqlitestore?",
			u.Redacted(), scheme, strings.Join(m.Schemes(), ", "))
	}
	return o.OpenStoreURL(ctx, u)
}

var defaultURLMux URLMux

// DefaultURLMux returns the URLMux that OpenStore uses and that store
// packages register with when imported.
func DefaultURLMux() *URLMux { return &defaultURLMux }

// OpenStore opens a Store from a URL with DefaultURLMux, for example
// "mem://" or "sqlite://data/attachments.db".
func OpenStore(ctx context.Context, urlstr string) (Store, error) {
	return defaultURLMux.OpenStore(ctx, urlstr)
}
