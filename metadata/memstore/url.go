package memstore

import (
	"context"
	"fmt"
	"net/url"

	"github.com/attachkit/attachment/metadata"
)

// Scheme is the URL scheme memstore registers with metadata.DefaultURLMux.
const Scheme = "mem"

func init() {
	metadata.DefaultURLMux().Register(Scheme, &URLOpener{})
}

// URLOpener opens "mem://" URLs: each call returns a new, empty Store. The
// URL takes no host, path or query parameters.
type URLOpener struct{}

// OpenStoreURL implements metadata.URLOpener.
func (*URLOpener) OpenStoreURL(ctx context.Context, u *url.URL) (metadata.Store, error) {
	if err := checkURL(u); err != nil {
		return nil, fmt.Errorf("memstore: open %q: %w", u.Redacted(), err)
	}
	return New(), nil
}

// checkURL accepts exactly "mem://", whatever the scheme's case.
func checkURL(u *url.URL) error {
	switch {
	case u.Opaque != "":
		return fmt.Errorf("unexpected %q after the scheme; use mem://", u.Opaque)
	case u.User != nil || u.Host != "" || (u.Path != "" && u.Path != "/"):
		return fmt.Errorf("mem:// takes no host or path; use mem://")
	case u.RawQuery != "" || u.ForceQuery:
		return fmt.Errorf("unknown query parameters %q; mem:// takes none", u.RawQuery)
	case u.Fragment != "":
		return fmt.Errorf("unexpected fragment %q; use mem://", u.Fragment)
	}
	return nil
}
