package sqlitestore

import (
	"context"
	"fmt"
	"net/url"

	"github.com/attachkit/attachment/metadata"
)

// Scheme is the URL scheme sqlitestore registers with
// metadata.DefaultURLMux.
const Scheme = "sqlite"

func init() {
	metadata.DefaultURLMux().Register(Scheme, &URLOpener{})
}

// URLOpener opens "sqlite://PATH" URLs with Open. PATH is the URL's host
// and path joined: sqlite://data/meta.db and sqlite://./data/meta.db are
// relative to the working directory, sqlite:///var/lib/meta.db is
// absolute. The URL takes no query parameters.
type URLOpener struct {
	// Options are passed to Open; nil means the defaults.
	Options *Options
}

// OpenStoreURL implements metadata.URLOpener.
func (o *URLOpener) OpenStoreURL(ctx context.Context, u *url.URL) (metadata.Store, error) {
	path, err := pathFromURL(u)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %q: %w", u.Redacted(), err)
	}
	s, err := Open(ctx, path, o.Options)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// pathFromURL returns the file path of a sqlite:// URL.
func pathFromURL(u *url.URL) (string, error) {
	switch {
	case u.Opaque != "":
		return "", fmt.Errorf("want sqlite://PATH, not %s:%s", u.Scheme, u.Opaque)
	case u.User != nil:
		return "", fmt.Errorf("sqlite:// URLs take no user information")
	case u.RawQuery != "" || u.ForceQuery:
		return "", fmt.Errorf("unknown query parameters %q; sqlite:// takes none", u.RawQuery)
	case u.Fragment != "":
		return "", fmt.Errorf("unexpected fragment %q", u.Fragment)
	}
	path := u.Host + u.Path
	if path == "" || path == "/" {
		return "", fmt.Errorf("no file path; want sqlite://PATH, such as sqlite://data/meta.db")
	}
	return path, nil
}
