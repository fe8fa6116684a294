package metadatatest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

// Fill stores n records in tenant, in batches of up to 1000, and returns
// their IDs in creation (ascending) order. Record i has owner
// "owner:<i mod owners>", the label workspace=<i mod 4> (and pinned=yes
// when i is a multiple of 1000), and is named "Report-<i>.pdf"
// (application/pdf) when i is a multiple of 10, else "photo-<i>.jpg"
// (image/jpeg). Every record asks for the processors "analyze" and
// "thumbnail", so a metadata.Queue holds two pending jobs per record, and
// List reads them.
func Fill(tb testing.TB, s metadata.Store, tenant string, n, owners int) []string {
	tb.Helper()
	out := make([]string, 0, n)
	batch := make([]*metadata.Record, 0, 1000)
	flush := func() {
		require.NoError(tb, s.Create(tb.Context(), batch))
		batch = batch[:0]
	}
	for i := range n {
		r := newRecord(tb, tenant, func(r *metadata.Record) {
			r.Owner = fmt.Sprintf("owner:%d", i%owners)
			r.Labels = map[string]string{"workspace": fmt.Sprint(i % 4)}
			r.Processing = map[string]string{"analyze": "", "thumbnail": ""}
			if i%1000 == 0 {
				r.Labels["pinned"] = "yes"
			}
			if i%10 == 0 {
				r.Filename, r.ContentType = fmt.Sprintf("Report-%07d.pdf", i), "application/pdf"
			} else {
				r.Filename, r.ContentType = fmt.Sprintf("photo-%07d.jpg", i), "image/jpeg"
			}
		})
		out = append(out, r.ID)
		batch = append(batch, r)
		if len(batch) == cap(batch) {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	return out
}

// Benchmark measures the common calls on the store open returns, filled by
// Fill with n records over 100 owners in tenant "t1" (and as many in "t2").
// Each sub-benchmark reports ns/op for one call; ClaimFinish, run when the
// store is a metadata.Queue, claims one job and re-queues it behind the
// others (so every op claims a different job) per op.
func Benchmark(b *testing.B, n int, open func(b *testing.B) metadata.Store) {
	s := open(b)
	b.Cleanup(func() { _ = s.Close() })
	ids := Fill(b, s, "t1", n, 100)
	Fill(b, s, "t2", n, 100)
	ctx := b.Context()

	b.Run("Get", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := s.Get(ctx, "t1", ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
			i += 7919
		}
	})
	listCases := []struct {
		name string
		q    metadata.Query
	}{
		{"ListNewest", metadata.Query{}},
		{"ListMiddlePage", metadata.Query{After: ids[len(ids)/2]}},
		{"ListOwner", metadata.Query{Owner: "owner:17"}},
		{"ListLabel", metadata.Query{Labels: map[string]string{"workspace": "2"}}},
		{"ListRareLabel", metadata.Query{Labels: map[string]string{"pinned": "yes"}}},
		{"SearchCommon", metadata.Query{FilenameContains: "report"}},
		{"SearchRare", metadata.Query{FilenameContains: fmt.Sprintf("photo-%07d", n/3+1)}},
		{"ContentType", metadata.Query{ContentTypePrefix: "application/"}},
	}
	for _, lc := range listCases {
		b.Run(lc.name, func(b *testing.B) {
			q := lc.q
			q.Tenant, q.Limit = "t1", 20
			for b.Loop() {
				recs, err := s.List(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if len(recs) == 0 {
					b.Fatal("no records listed")
				}
			}
		})
	}
	if q, ok := s.(metadata.Queue); ok {
		b.Run("ClaimFinish", func(b *testing.B) {
			now := baseTime()
			for b.Loop() {
				now = now.Add(time.Microsecond)
				jobs, err := q.Claim(ctx, now, time.Minute, 1)
				if err != nil || len(jobs) != 1 {
					b.Fatalf("claimed %d jobs: %v", len(jobs), err)
				}
				err = q.Finish(ctx, jobs[0], metadata.Outcome{State: metadata.JobPending, RetryAt: now, Now: now})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("Update", func(b *testing.B) {
		i := 0
		for b.Loop() {
			_, err := s.Update(ctx, "t1", ids[i%len(ids)], metadata.Update{AddRefs: []string{"doc:1"}, UpdatedAt: later()})
			if err != nil {
				b.Fatal(err)
			}
			i += 7919
		}
	})
	b.Run("Create", func(b *testing.B) {
		for b.Loop() {
			if err := s.Create(ctx, []*metadata.Record{newRecord(b, "t3")}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
