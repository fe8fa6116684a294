package pgstore

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/internal/pgtest"
)

// The tests run against a real server, named by ATTACHMENT_TEST_POSTGRES_URL,
// and are skipped without it (see internal/pgtest).
var (
	serverURL      = pgtest.URL
	freshSchema    = pgtest.Schema
	withSearchPath = pgtest.WithSearchPath
)

// openFresh opens a store on a fresh schema, closed when the test ends.
func openFresh(tb testing.TB) *Store {
	tb.Helper()
	_, connString := freshSchema(tb)
	s, err := Open(tb.Context(), connString, nil)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = s.Close() })
	return s
}
