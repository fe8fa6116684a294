package pgstore_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/pgstore"
)

func TestSchemesRegistered(t *testing.T) {
	schemes := metadata.DefaultURLMux().Schemes()
	require.Contains(t, schemes, "postgres")
	require.Contains(t, schemes, "postgresql")
}

// Both schemes open a store from the server's URL as it is, with pgx's
// own parameters and a search_path.
func TestOpenURL(t *testing.T) {
	_, connString := pgstore.FreshSchema(t)
	for _, scheme := range []string{"postgres", "postgresql", "PostgreSQL"} {
		t.Run(scheme, func(t *testing.T) {
			u, err := url.Parse(connString)
			require.NoError(t, err)
			u.Scheme = scheme
			q := u.Query()
			q.Set("pool_max_conns", "2")
			q.Set("application_name", "pgstore-test")
			u.RawQuery = q.Encode()
			s, err := metadata.OpenStore(t.Context(), u.String())
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.Close() })
			require.IsType(t, &pgstore.Store{}, s)
			r := record("t1")
			require.NoError(t, s.Create(t.Context(), []*metadata.Record{r}))
			_, err = s.Get(t.Context(), "t1", r.ID)
			require.NoError(t, err)
		})
	}
}

// A URL that cannot be opened gives an error that says why, and never the
// password.
func TestOpenURLErrors(t *testing.T) {
	const pw = "s3cret-Pa55"
	for _, tc := range []struct {
		url, wantErr string
	}{
		{"postgres://app:" + pw + "@127.0.0.1:1/db?sslmode=bogus", "sslmode"},
		{"postgres://app:" + pw + "@127.0.0.1:1/db?pool_max_conns=many", "pool_max_conns"},
		{"postgres://app:" + pw + "@127.0.0.1:1/db?connect_timeout=5", "127.0.0.1"}, // nothing listens on port 1
		{"postgres://app@127.0.0.1:1/db?password=" + pw + "&connect_timeout=5", "127.0.0.1"},
		{"postgresql:app:" + pw + "@db", "want postgresql://"},
		{"postgres://app:" + pw + "@db/x#frag", "fragment"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			s, err := metadata.OpenStore(t.Context(), tc.url)
			require.ErrorContains(t, err, tc.wantErr)
			require.Nil(t, s)
			require.NotContains(t, err.Error(), pw)
			require.Contains(t, err.Error(), "pgstore: open postgres")
		})
	}
}

// A query parameter that neither pgx nor the server knows fails the Open.
func TestOpenURLUnknownParameter(t *testing.T) {
	_, connString := pgstore.FreshSchema(t)
	u, err := url.Parse(connString)
	require.NoError(t, err)
	q := u.Query()
	q.Set("no_such_parameter", "1")
	u.RawQuery = q.Encode()
	_, err = metadata.OpenStore(t.Context(), u.String())
	require.ErrorContains(t, err, "no_such_parameter")
}
