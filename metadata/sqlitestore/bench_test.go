package sqlitestore_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/metadatatest"
	"github.com/attachkit/attachment/metadata/sqlitestore"
)

// BenchmarkList lists a tenant of n records (and another tenant of as
// many) in a real file: one owner's newest page of 20, filename searches
// that match often and almost never, label filters, and more; see
// metadatatest.Benchmark.
func BenchmarkList(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint("n=", n), func(b *testing.B) {
			metadatatest.Benchmark(b, n, func(b *testing.B) metadata.Store {
				s, err := sqlitestore.Open(b.Context(), filepath.Join(b.TempDir(), "meta.db"), nil)
				require.NoError(b, err)
				return s
			})
		})
	}
}
