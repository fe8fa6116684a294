package sqlitestore_test

import (
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/metadatatest"
	"github.com/attachkit/attachment/metadata/sqlitestore"
)

var benchRows = flag.String("rows", "10000,100000", "comma-separated tenant sizes for BenchmarkList (each is filled twice: two tenants)")

// BenchmarkList lists a tenant of n records (and another tenant of as
// many) in a real file: one owner's newest page of 20, filename searches
// that match often and almost never, label filters, and more; see
// metadatatest.Benchmark. For the 1,000,000-row figures in BENCHMARKS.md:
//
//	go test ./metadata/sqlitestore -run '^$' -bench BenchmarkList -benchtime 200x -rows 10000,1000000
func BenchmarkList(b *testing.B) {
	for _, f := range strings.Split(*benchRows, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		require.NoError(b, err, "-rows")
		b.Run(fmt.Sprint("n=", n), func(b *testing.B) {
			metadatatest.Benchmark(b, n, func(b *testing.B) metadata.Store {
				s, err := sqlitestore.Open(b.Context(), filepath.Join(b.TempDir(), "meta.db"), nil)
				require.NoError(b, err)
				return s
			})
		})
	}
}

// BenchmarkSearchCost measures, in a real file, whether a search's time
// depends on other tenants' names, and what a long crafted search costs
// (see metadatatest.BenchmarkSearchCost). For the figures in BENCHMARKS.md:
//
//	go test ./metadata/sqlitestore -run '^$' -bench BenchmarkSearchCost -benchtime 200x -count 5
func BenchmarkSearchCost(b *testing.B) {
	metadatatest.BenchmarkSearchCost(b, func(b *testing.B) metadata.Store {
		s, err := sqlitestore.Open(b.Context(), filepath.Join(b.TempDir(), "meta.db"), nil)
		require.NoError(b, err)
		return s
	})
}

// BenchmarkConcurrent measures Create, Get and Update from 16 goroutines
// at once (metadatatest.BenchmarkConcurrent) on a real file with the
// default options:
//
//	go test ./metadata/sqlitestore -run '^$' -bench BenchmarkConcurrent -benchtime 3000x -count 2
func BenchmarkConcurrent(b *testing.B) {
	s, err := sqlitestore.Open(b.Context(), filepath.Join(b.TempDir(), "meta.db"), nil)
	require.NoError(b, err)
	b.Cleanup(func() { _ = s.Close() })
	metadatatest.BenchmarkConcurrent(b, s, 16)
}
