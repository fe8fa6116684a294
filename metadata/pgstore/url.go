package pgstore

import (
	"context"
	"fmt"
	"net/url"

	"github.com/attachkit/attachment/metadata"
)

// The URL schemes pgstore registers with metadata.DefaultURLMux: the two
// that libpq and pgx accept.
const (
	Scheme     = "postgres"
	SchemeLong = "postgresql"
)

func init() {
	metadata.DefaultURLMux().Register(Scheme, &URLOpener{})
	metadata.DefaultURLMux().Register(SchemeLong, &URLOpener{})
}

// URLOpener opens "postgres://" and "postgresql://" URLs with Open. The URL
// is the connection string, passed to pgxpool.ParseConfig as it is: host,
// port, user, password and database as libpq has them, and query
// parameters such as sslmode, pool_max_conns or search_path (any parameter
// that neither libpq nor pgx knows is sent to the server as a run-time
// parameter, and one the server does not know fails the Open).
type URLOpener struct {
	// Options are passed to Open; nil means the defaults.
	Options *Options
}

// OpenStoreURL implements metadata.URLOpener. Its errors name the URL
// with its passwords masked.
func (o *URLOpener) OpenStoreURL(ctx context.Context, u *url.URL) (metadata.Store, error) {
	switch {
	case u.Opaque != "":
		// The opaque part is not quoted: it may hold a password.
		return nil, fmt.Errorf("pgstore: open %s:...: want %s://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE[?PARAMS]", u.Scheme, u.Scheme)
	case u.Fragment != "":
		return nil, fmt.Errorf("pgstore: open %s: unexpected fragment", redactURL(u))
	}
	s, err := open(ctx, u.String(), o.Options)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open %s: %w", redactURL(u), err)
	}
	return s, nil
}

// redactURL is u as text with its passwords masked: the user's, and the
// password and sslpassword query parameters.
func redactURL(u *url.URL) string {
	c := *u
	if c.User != nil {
		if _, ok := c.User.Password(); ok {
			c.User = url.UserPassword(c.User.Username(), "xxxxx")
		}
	}
	if c.RawQuery != "" {
		q, err := url.ParseQuery(c.RawQuery)
		if err != nil {
			c.RawQuery = "..." // unparsable: it may hold a password
		} else {
			for k := range q {
				if k == "password" || k == "sslpassword" {
					q.Set(k, "xxxxx")
				}
			}
			c.RawQuery = q.Encode()
		}
	}
	return c.String()
}
