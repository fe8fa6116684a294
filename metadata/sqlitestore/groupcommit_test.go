package sqlitestore

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

func groupRecord(tenant string) *metadata.Record {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	return &metadata.Record{
		ID:          uuid.Must(uuid.NewV7()).String(),
		Tenant:      tenant,
		Filename:    "photo-" + fmt.Sprint(at.UnixNano()) + ".jpg",
		ContentType: "image/jpeg",
		Size:        42,
		Owner:       "document:1",
		Labels:      map[string]string{"k": "v"},
		Processing:  map[string]string{"thumbnail": ""},
		CreatedAt:   at,
		UpdatedAt:   at,
	}
}

// queued returns how many Create calls wait in s's group commit, and
// whether one leads.
func queued(s *Store) (int, bool) {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return len(s.group.queue), s.group.leading
}

// Create calls that queue behind a commit are committed together, and each
// is told its own outcome: a call that fails (a taken ID, or a duplicate
// within its own records) stores none of its records and gets its error,
// while the others in the same group are stored.
func TestGroupCommitFailingCallDoesNotFailOthers(t *testing.T) {
	s, taken := openWithTaken(t)
	ctx := t.Context()

	// Hold the writer's one connection, so that the next Create leads but
	// cannot begin, and the calls after it queue.
	conn, err := s.w.Conn(ctx)
	require.NoError(t, err)
	first := groupRecord("t1")
	firstErr := make(chan error, 1)
	go func() { firstErr <- s.Create(ctx, []*metadata.Record{first}) }()
	require.Eventually(t, func() bool { n, leading := queued(s); return leading && n == 0 }, 5*time.Second, time.Millisecond)

	fresh := groupRecord("t1")
	dup := *taken
	again := groupRecord("t1")
	calls := [][]*metadata.Record{
		{groupRecord("t1"), groupRecord("t1")},
		{fresh, &dup},       // fails: dup's ID is taken, so fresh is not stored either
		{groupRecord("t1")}, // after a failed call
		{again, again},      // fails: a duplicate within the call
		{groupRecord("t2")}, // another tenant
		{},                  // nothing to store
		{groupRecord("t1")}, // last
	}
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, recs := range calls {
		wg.Go(func() { errs[i] = s.Create(ctx, recs) })
		// One at a time, so that the group is in this order.
		require.Eventually(t, func() bool { n, _ := queued(s); return n == i+1 }, 5*time.Second, time.Millisecond)
	}
	require.NoError(t, conn.Close()) // let the first commit; the rest go in one group
	wg.Wait()
	require.NoError(t, <-firstErr)

	for i, recs := range calls {
		switch i {
		case 1, 3:
			require.ErrorIs(t, errs[i], metadata.ErrExists, "call %d", i)
		default:
			require.NoError(t, errs[i], "call %d", i)
			for _, r := range recs {
				got, err := s.Get(ctx, r.Tenant, r.ID)
				require.NoError(t, err, "call %d", i)
				assert.Equal(t, r.Filename, got.Filename)
				assert.Equal(t, map[string]string{"thumbnail": metadata.JobPending}, got.Processing)
			}
		}
	}
	for _, id := range []string{fresh.ID, again.ID} {
		_, err := s.Get(ctx, "t1", id)
		require.ErrorIs(t, err, metadata.ErrNotFound, "a failed call's record is stored")
	}
	got, err := s.Get(ctx, "t1", taken.ID)
	require.NoError(t, err)
	assert.Equal(t, taken.Filename, got.Filename)
	// The labels and grams of the failed calls were rolled back too.
	var labels, names int
	require.NoError(t, s.r.QueryRowContext(ctx, `SELECT count(*) FROM attachment_labels`).Scan(&labels))
	require.NoError(t, s.r.QueryRowContext(ctx, `SELECT count(*) FROM attachment_names`).Scan(&names))
	assert.Equal(t, 7, labels, "one label per stored record")
	assert.Equal(t, 7, names, "one name per stored record")
	// taken, first, then the seven calls in one group.
	assert.Equal(t, int64(3), s.group.commits.Load(), "commits")
	assert.Equal(t, int64(0), s.group.fallbacks.Load(), "groups run again call by call")
}

// A call whose context ends while it waits in the queue gets the
// context's error and stores nothing; the others in its group commit.
func TestGroupCommitCancelledCall(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "meta.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()

	conn, err := s.w.Conn(ctx)
	require.NoError(t, err)
	firstErr := make(chan error, 1)
	go func() { firstErr <- s.Create(ctx, []*metadata.Record{groupRecord("t1")}) }()
	require.Eventually(t, func() bool { n, leading := queued(s); return leading && n == 0 }, 5*time.Second, time.Millisecond)

	cctx, cancel := context.WithCancel(ctx)
	gone, kept := groupRecord("t1"), groupRecord("t1")
	goneErr, keptErr := make(chan error, 1), make(chan error, 1)
	go func() { goneErr <- s.Create(cctx, []*metadata.Record{gone}) }()
	require.Eventually(t, func() bool { n, _ := queued(s); return n == 1 }, 5*time.Second, time.Millisecond)
	go func() { keptErr <- s.Create(ctx, []*metadata.Record{kept}) }()
	require.Eventually(t, func() bool { n, _ := queued(s); return n == 2 }, 5*time.Second, time.Millisecond)
	cancel()
	require.NoError(t, conn.Close())

	require.NoError(t, <-firstErr)
	require.ErrorIs(t, <-goneErr, context.Canceled)
	require.NoError(t, <-keptErr)
	_, err = s.Get(ctx, "t1", gone.ID)
	require.ErrorIs(t, err, metadata.ErrNotFound)
	_, err = s.Get(ctx, "t1", kept.ID)
	require.NoError(t, err)
}

// Many concurrent callers, some of them failing: every call gets the
// outcome it would have had alone (run with -race).
func TestGroupCommitConcurrent(t *testing.T) {
	s, taken := openWithTaken(t)
	ctx := t.Context()

	const workers, each = 16, 20
	var stored atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if (w+i)%5 == 0 {
					dup := *taken
					assert.ErrorIs(t, s.Create(ctx, []*metadata.Record{groupRecord("t1"), &dup}), metadata.ErrExists)
					continue
				}
				assert.NoError(t, s.Create(ctx, []*metadata.Record{groupRecord("t1")}))
				stored.Add(1)
			}
		})
	}
	wg.Wait()
	var n int64
	require.NoError(t, s.r.QueryRowContext(ctx, `SELECT count(*) FROM attachments`).Scan(&n))
	require.Equal(t, stored.Load()+1, n)
}

// BenchmarkCreateParallel measures Create of one record from 16
// goroutines at once, on a real file, with the calls grouped into shared
// commits and with every call committed alone, in the same run:
//
//	go test ./metadata/sqlitestore -run '^$' -bench BenchmarkCreateParallel -benchtime 2000x -count 3
func BenchmarkCreateParallel(b *testing.B) {
	for _, grouped := range []bool{false, true} {
		b.Run(fmt.Sprint("grouped=", grouped), func(b *testing.B) {
			s, err := Open(b.Context(), filepath.Join(b.TempDir(), "meta.db"), nil)
			require.NoError(b, err)
			b.Cleanup(func() { _ = s.Close() })
			if !grouped {
				s.group = nil
			}
			ctx := b.Context()
			b.SetParallelism(max(1, 16/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := s.Create(ctx, []*metadata.Record{groupRecord("t1")}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
			if grouped {
				b.ReportMetric(float64(b.N)/float64(s.group.commits.Load()), "calls/commit")
			}
		})
	}
}

// openWithTaken opens a store on a real file holding one record, whose ID
// later calls take again.
func openWithTaken(t *testing.T) (*Store, *metadata.Record) {
	t.Helper()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "meta.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	taken := groupRecord("t1")
	require.NoError(t, s.Create(t.Context(), []*metadata.Record{taken}))
	return s, taken
}
