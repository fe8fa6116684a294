package metadatatest

import (
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/attachkit/attachment/metadata"
)

// BenchmarkConcurrent measures the calls a busy server makes most, each
// made by that many goroutines at once on s: Create of one record with two
// processing jobs (one upload), Get of a random record (one download) and
// Update of a random record (a ref added). It fills tenant "c1" with 1000
// records first, for Get and Update. Each sub-benchmark reports calls/s;
// ns/op is the wall time per call across all goroutines. A store whose
// work is done by another process (a database server) is measured for its
// throughput only, so the figures depend on that server's machine.
func BenchmarkConcurrent(b *testing.B, s metadata.Store, goroutines int) {
	ids := Fill(b, s, "c1", 1000, 10)
	ctx := b.Context()
	run := func(name string, call func() error) {
		b.Run(name, func(b *testing.B) {
			var failed atomic.Value
			b.SetParallelism(max(1, goroutines/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := call(); err != nil {
						failed.CompareAndSwap(nil, err)
						return
					}
				}
			})
			if err, _ := failed.Load().(error); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
		})
	}
	run("Create", func() error {
		r := newRecord(b, "c2", func(r *metadata.Record) {
			r.Processing = map[string]string{"analyze": "", "thumbnail": ""}
		})
		return s.Create(ctx, []*metadata.Record{r})
	})
	run("Get", func() error {
		_, err := s.Get(ctx, "c1", ids[rand.IntN(len(ids))])
		return err
	})
	run("Update", func() error {
		_, err := s.Update(ctx, "c1", ids[rand.IntN(len(ids))], metadata.Update{AddRefs: []string{"doc:1"}, UpdatedAt: later()})
		return err
	})
}
