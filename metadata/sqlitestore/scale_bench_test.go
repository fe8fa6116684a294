//go:build linux

package sqlitestore_test

import (
	"database/sql"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/metadatatest"
	"github.com/attachkit/attachment/metadata/sqlitestore"
)

var (
	scaleDB   = flag.String("scaledb", "", "BenchmarkRandomAccess: a database file to fill once and reuse across runs (default: a new one in a temporary directory)")
	scaleRows = flag.Int("scalerows", 10000, "BenchmarkRandomAccess: records per tenant when the file is filled")
	scaleMmap = flag.Int64("scalemmap", 0, "BenchmarkRandomAccess: Options.MmapBytes of the measured store (0: none, the default)")
	scaleNew  = flag.Int("scalenew", 0, "BenchmarkRandomAccess: records to add to a third tenant right before measuring, as BenchmarkList measures right after its fill")
)

// BenchmarkRandomAccess measures Get and Update of random records in a
// file of -scalerows records per tenant (two tenants, filled as
// BenchmarkList fills them). With -scaledb the file is kept and reused, so
// that the 1,000,000-record case is filled only once. Besides ns/op, which
// a busy machine skews, it reports what load does not change much: the
// read system calls per op (pages read from the file rather than from the
// page cache), page faults and CPU time per op. The store has no record
// cache (Options.NoRecordCache): this measures the database.
//
//	go test ./metadata/sqlitestore -run '^$' -bench BenchmarkRandomAccess -benchtime 300x -scalerows 1000000 -scaledb /tmp/meta-1m.db
func BenchmarkRandomAccess(b *testing.B) {
	path := *scaleDB
	if path == "" {
		path = filepath.Join(b.TempDir(), "meta.db")
	}
	if _, err := os.Stat(path); os.IsNotExist(err) {
		s, err := sqlitestore.Open(b.Context(), path, nil)
		require.NoError(b, err)
		start := time.Now()
		metadatatest.Fill(b, s, "t1", *scaleRows, 100)
		metadatatest.Fill(b, s, "t2", *scaleRows, 100)
		b.Logf("filled %d records per tenant in %v", *scaleRows, time.Since(start))
		require.NoError(b, s.Close())
	}
	ids := scaleIDs(b, path)
	s, err := sqlitestore.Open(b.Context(), path, &sqlitestore.Options{MmapBytes: *scaleMmap, NoRecordCache: true})
	require.NoError(b, err)
	b.Cleanup(func() { _ = s.Close() })
	ctx := b.Context()
	if *scaleNew > 0 {
		metadatatest.Fill(b, s, fmt.Sprint("new-", time.Now().UnixNano()), *scaleNew, 100)
	}
	// Each run starts at a random record, so that it reads records that
	// no earlier run has read (and cached).
	b.Run(fmt.Sprint("n=", len(ids), "/Get"), func(b *testing.B) {
		i := rand.IntN(len(ids))
		reads, ru := readSyscalls(b), rusage(b)
		for b.Loop() {
			if _, err := s.Get(ctx, "t1", ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
			i += 7919
		}
		b.ReportMetric(float64(readSyscalls(b)-reads)/float64(b.N), "reads/op")
		reportRusage(b, ru)
	})
	b.Run(fmt.Sprint("n=", len(ids), "/Update"), func(b *testing.B) {
		i := rand.IntN(len(ids))
		when := time.Date(2026, 11, 23, 15, 30, 0, 0, time.UTC)
		reads, ru := readSyscalls(b), rusage(b)
		for b.Loop() {
			if _, err := s.Update(ctx, "t1", ids[i%len(ids)], metadata.Update{AddRefs: []string{"doc:1"}, UpdatedAt: when}); err != nil {
				b.Fatal(err)
			}
			i += 7919
		}
		b.ReportMetric(float64(readSyscalls(b)-reads)/float64(b.N), "reads/op")
		reportRusage(b, ru)
	})
}

// scaleIDs returns the IDs of tenant t1 in the file at path.
func scaleIDs(b *testing.B, path string) []string {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	require.NoError(b, err)
	defer db.Close()
	rows, err := db.QueryContext(b.Context(), `SELECT id FROM attachments WHERE tenant = 't1' ORDER BY id`)
	require.NoError(b, err)
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		require.NoError(b, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(b, rows.Err())
	require.NotEmpty(b, ids)
	return ids
}

// readSyscalls returns how many read system calls (read, pread) the
// process has made, from /proc/self/io, or 0 where there is none.
func readSyscalls(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "syscr: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			require.NoError(b, err)
			return n
		}
	}
	return 0
}

func rusage(b *testing.B) syscall.Rusage {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return ru
}

// reportRusage reports the CPU time and page faults per op since before.
func reportRusage(b *testing.B, before syscall.Rusage) {
	after := rusage(b)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(after.Minflt-before.Minflt)/float64(b.N), "minflt/op")
	b.ReportMetric(float64(after.Majflt-before.Majflt)/float64(b.N), "majflt/op")
}
