package pgstore_test

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/metadatatest"
	"github.com/attachkit/attachment/metadata/pgstore"
)

var rowsFlag = flag.String("rows", "10000,100000", "comma-separated tenant sizes for BenchmarkList")

// benchSizes parses -rows.
func benchSizes(b *testing.B) []int {
	var out []int
	for f := range strings.SplitSeq(*rowsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			b.Fatalf("-rows %q: want comma-separated positive sizes", *rowsFlag)
		}
		out = append(out, n)
	}
	return out
}

// BenchmarkList lists a tenant of n records (and another tenant of as
// many) on a real server: one owner's newest page of 20, filename searches
// that match often and almost never, label filters, and more; see
// metadatatest.Benchmark. -rows sets the sizes; it is the test binary's
// flag, so the package comes before it (go test hands an unknown flag and
// everything after it to the test binary of the current directory):
//
//	go test ./metadata/pgstore -run '^$' -bench BenchmarkList -rows 10000,1000000
func BenchmarkList(b *testing.B) {
	for _, n := range benchSizes(b) {
		b.Run(fmt.Sprint("n=", n), func(b *testing.B) {
			metadatatest.Benchmark(b, n, func(b *testing.B) metadata.Store {
				_, connString := pgstore.FreshSchema(b)
				s, err := pgstore.Open(b.Context(), connString, nil)
				require.NoError(b, err)
				pool, err := pgxpool.New(b.Context(), connString)
				require.NoError(b, err)
				b.Cleanup(pool.Close)
				return &analyzeAfterFill{Store: s, pool: pool, records: 2 * n}
			})
		})
	}
}

// analyzeAfterFill is the store of a benchmark, which runs VACUUM
// (ANALYZE) once the benchmark's two tenants are filled (before it
// measures anything), as autovacuum does on its own within a minute or so
// of a bulk load (PostgreSQL 13+ vacuums after inserts too). The planner's
// choice between walking an index in ID order and searching the trigram
// index depends on the table's statistics, which ANALYZE gathers, and on
// the trigram index's, which VACUUM updates as it merges the index's
// pending list (the entries inserted since, which every search reads).
type analyzeAfterFill struct {
	*pgstore.Store
	pool    *pgxpool.Pool
	records int // ANALYZE when this many were created
}

func (s *analyzeAfterFill) Create(ctx context.Context, recs []*metadata.Record) error {
	if err := s.Store.Create(ctx, recs); err != nil {
		return err
	}
	s.records -= len(recs)
	if s.records == 0 {
		_, err := s.pool.Exec(ctx, `VACUUM (ANALYZE) attachments, attachment_labels, attachment_jobs`)
		return err
	}
	return nil
}

// BenchmarkSearchCost measures, on a real server, whether a search's time
// depends on other tenants' names, and what a long crafted search costs
// (see metadatatest.BenchmarkSearchCost). The tables are vacuumed and
// analyzed once filled. For the figures in BENCHMARKS.md:
//
//	go test ./metadata/pgstore -run '^$' -bench BenchmarkSearchCost -benchtime 200x -count 5
func BenchmarkSearchCost(b *testing.B) {
	metadatatest.BenchmarkSearchCost(b, func(b *testing.B) metadata.Store {
		_, connString := pgstore.FreshSchema(b)
		s, err := pgstore.Open(b.Context(), connString, nil)
		require.NoError(b, err)
		pool, err := pgxpool.New(b.Context(), connString)
		require.NoError(b, err)
		b.Cleanup(pool.Close)
		return &analyzeAfterFill{Store: s, pool: pool, records: metadatatest.SearchCostRecords}
	})
}

// BenchmarkConcurrent measures Create, Get and Update from 16 goroutines
// at once (metadatatest.BenchmarkConcurrent) on a real server, for pools of
// 2 to 32 connections (the URL's pool_max_conns; pgxpool's default is the
// greater of 4 and the client's CPUs), each in a fresh schema:
//
//	go test ./metadata/pgstore -run '^$' -bench BenchmarkConcurrent -benchtime 3000x -count 2
func BenchmarkConcurrent(b *testing.B) {
	for _, conns := range []int{2, 4, 8, 16, 32} {
		b.Run(fmt.Sprint("pool=", conns), func(b *testing.B) {
			_, connString := pgstore.FreshSchema(b)
			sep := "?"
			if strings.Contains(connString, "?") {
				sep = "&"
			}
			s, err := pgstore.Open(b.Context(), connString+sep+"pool_max_conns="+strconv.Itoa(conns), nil)
			require.NoError(b, err)
			b.Cleanup(func() { _ = s.Close() })
			metadatatest.BenchmarkConcurrent(b, s, 16)
		})
	}
}
