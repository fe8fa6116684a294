package metadatatest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

// uploadTest is one check of the metadata.Uploads contract. It runs only
// on a store that implements metadata.Uploads, and is skipped on others.
type uploadTest struct {
	name string
	fn   func(t *testing.T, s metadata.Store, up metadata.Uploads)
}

// uploadTests returns the checks of the Uploads contract as tests of Run.
func uploadTests() []test {
	uts := []uploadTest{
		{"CreateGetLookup", testUploadCreateGet},
		{"OtherTenantIsNotFound", testUploadTenants},
		{"CreateExistingIsErrExists", testUploadExists},
		{"BytesRoundTrip", testUploadBytes},
		{"Times", testUploadTimes},
		{"UpdateBumpsVersion", testUploadUpdate},
		{"ConcurrentUpdatesOneWins", testUploadUpdateRace},
		{"ImmutableFields", testUploadImmutable},
		{"DeleteChecksVersion", testUploadDelete},
		{"CompleteCreatesRecord", testUploadComplete},
		{"CompleteFailsChangingNothing", testUploadCompleteFails},
		{"ExpiredOrderCursorLimit", testUploadExpired},
		{"ContextCanceled", testUploadContext},
		{"CallsAfterCloseAreErrClosed", testUploadClose},
	}
	out := make([]test, len(uts))
	for i, ut := range uts {
		out[i] = test{ut.name, func(t *testing.T, s metadata.Store) {
			up, ok := s.(metadata.Uploads)
			if !ok {
				t.Skipf("%T is not a metadata.Uploads", s)
			}
			ut.fn(t, s, up)
		}}
	}
	return out
}

// newUpload returns an upload in tenant with every field set; mods change
// it before it is returned.
func newUpload(tb testing.TB, tenant string, mods ...func(*metadata.Upload)) *metadata.Upload {
	tb.Helper()
	u := &metadata.Upload{
		ID:          newID(tb),
		Tenant:      tenant,
		CreatedBy:   "user:1",
		Length:      1 << 20,
		Offset:      4096,
		Concat:      metadata.ConcatNone,
		Info:        []byte(`{"filename":"a.bin"}`),
		Hash:        []byte{0, 1, 2, 0xfe, 0xff},
		Head:        []byte("head bytes"),
		Storage:     []byte(`{"mode":"file"}`),
		LockOwner:   "instance-a/1",
		LockedUntil: baseTime().Add(10 * time.Second),
		ExpiresAt:   baseTime().Add(24 * time.Hour),
		CreatedAt:   baseTime(),
		UpdatedAt:   baseTime(),
		Version:     99, // ignored by CreateUpload
	}
	for _, m := range mods {
		m(u)
	}
	return u
}

// mustCreateUpload stores u and returns it as stored, checking that it
// came back as given, with Version 1.
func mustCreateUpload(t *testing.T, up metadata.Uploads, u *metadata.Upload) *metadata.Upload {
	t.Helper()
	got, err := up.CreateUpload(t.Context(), u)
	require.NoError(t, err, "CreateUpload %s", u.ID)
	require.Equal(t, int64(1), got.Version, "Version after CreateUpload")
	requireUpload(t, u, got, 1)
	return got
}

// mustGetUpload returns the tenant's upload, failing the test on error.
func mustGetUpload(t *testing.T, up metadata.Uploads, tenant, id string) *metadata.Upload {
	t.Helper()
	got, err := up.GetUpload(t.Context(), tenant, id)
	require.NoError(t, err, "GetUpload(%q, %q)", tenant, id)
	require.NotNil(t, got)
	return got
}

// requireUploadGone checks that neither GetUpload nor LookupUpload finds
// the upload.
func requireUploadGone(t *testing.T, up metadata.Uploads, tenant, id string) {
	t.Helper()
	got, err := up.GetUpload(t.Context(), tenant, id)
	require.ErrorIs(t, err, metadata.ErrNotFound, "GetUpload(%q, %q)", tenant, id)
	require.Nil(t, got)
	got, err = up.LookupUpload(t.Context(), id)
	require.ErrorIs(t, err, metadata.ErrNotFound, "LookupUpload(%q)", id)
	require.Nil(t, got)
}

// requireUpload checks that got is want as a store must return it at
// version: byte fields equal (nil and empty alike), times in UTC and equal
// to the millisecond, the zero time zero.
func requireUpload(t *testing.T, want, got *metadata.Upload, version int64) {
	t.Helper()
	require.NotNil(t, got)
	w, g := want.Clone(), got.Clone()
	for _, f := range []struct {
		name string
		w, g *[]byte
	}{{"Info", &w.Info, &g.Info}, {"Hash", &w.Hash, &g.Hash}, {"Head", &w.Head, &g.Head}, {"Storage", &w.Storage, &g.Storage}} {
		require.True(t, bytes.Equal(*f.w, *f.g), "%s of %s: stored %d bytes, got %d different ones", f.name, want.ID, len(*f.w), len(*f.g))
		*f.w, *f.g = nil, nil
	}
	for _, f := range []struct {
		name string
		w, g *time.Time
	}{{"LockedUntil", &w.LockedUntil, &g.LockedUntil}, {"ExpiresAt", &w.ExpiresAt, &g.ExpiresAt},
		{"CreatedAt", &w.CreatedAt, &g.CreatedAt}, {"UpdatedAt", &w.UpdatedAt, &g.UpdatedAt}} {
		if f.w.IsZero() {
			require.True(t, f.g.IsZero(), "%s of %s: stored the zero time, got %v", f.name, want.ID, *f.g)
		} else {
			requireTime(t, f.name, *f.w, *f.g)
		}
		*f.w, *f.g = time.Time{}, time.Time{}
	}
	w.Version = version
	require.Equal(t, w, g, "upload %s", want.ID)
}

func testUploadCreateGet(t *testing.T, s metadata.Store, up metadata.Uploads) {
	a := newUpload(t, "t1")
	b := newUpload(t, "", func(u *metadata.Upload) {
		u.Length, u.Offset, u.Concat = -1, 0, metadata.ConcatPartial
		u.LockOwner, u.LockedUntil, u.Interrupt, u.Finishing = "", time.Time{}, true, true
	})
	mustCreateUpload(t, up, a)
	mustCreateUpload(t, up, b)
	for _, want := range []*metadata.Upload{a, b} {
		requireUpload(t, want, mustGetUpload(t, up, want.Tenant, want.ID), 1)
		got, err := up.LookupUpload(t.Context(), want.ID)
		require.NoError(t, err)
		requireUpload(t, want, got, 1)
	}
	requireUploadGone(t, up, "t1", newID(t))

	// Uploads returned are copies, and the one given is not kept.
	got := mustGetUpload(t, up, "t1", a.ID)
	got.Hash[0], got.Offset = 0x42, 7
	requireUpload(t, a, mustGetUpload(t, up, "t1", a.ID), 1)
	given := newUpload(t, "t1")
	mustCreateUpload(t, up, given)
	want := given.Clone()
	given.Head[0] = 'X'
	requireUpload(t, want, mustGetUpload(t, up, "t1", given.ID), 1)

	// An upload is no record.
	requireNotFound(t, s, "t1", a.ID)
}

// Every call with another tenant's upload is ErrNotFound and changes
// nothing; LookupUpload finds it.
func testUploadTenants(t *testing.T, s metadata.Store, up metadata.Uploads) {
	u := mustCreateUpload(t, up, newUpload(t, "t1"))
	ctx := t.Context()
	for _, other := range []string{"t2", "", "T1"} {
		got, err := up.GetUpload(ctx, other, u.ID)
		require.ErrorIs(t, err, metadata.ErrNotFound, "GetUpload in %q", other)
		require.Nil(t, got)
		o := u.Clone()
		o.Tenant, o.Offset = other, 1
		got, err = up.UpdateUpload(ctx, o)
		require.ErrorIs(t, err, metadata.ErrNotFound, "UpdateUpload in %q", other)
		require.Nil(t, got)
		require.ErrorIs(t, up.DeleteUpload(ctx, other, u.ID, 1), metadata.ErrNotFound, "DeleteUpload in %q", other)
		rec := newRecord(t, other, func(r *metadata.Record) { r.ID = u.ID })
		require.ErrorIs(t, up.CompleteUpload(ctx, o, rec), metadata.ErrNotFound, "CompleteUpload in %q", other)
		requireNotFound(t, s, other, u.ID)
	}
	requireUpload(t, u, mustGetUpload(t, up, "t1", u.ID), 1)
	got, err := up.LookupUpload(ctx, u.ID)
	require.NoError(t, err)
	requireUpload(t, u, got, 1)
}

// An ID that an upload or a record has, in any tenant, cannot be used for
// a new upload.
func testUploadExists(t *testing.T, s metadata.Store, up metadata.Uploads) {
	u := mustCreateUpload(t, up, newUpload(t, "t1"))
	for _, tenant := range []string{"t1", "t2"} {
		again := newUpload(t, tenant, func(x *metadata.Upload) { x.ID, x.Offset = u.ID, 0 })
		got, err := up.CreateUpload(t.Context(), again)
		require.ErrorIs(t, err, metadata.ErrExists, "upload ID again in %q", tenant)
		require.Nil(t, got)
	}
	requireUpload(t, u, mustGetUpload(t, up, "t1", u.ID), 1)

	r := newRecord(t, "t1")
	mustCreate(t, s, r)
	for _, tenant := range []string{"t1", "t2"} {
		got, err := up.CreateUpload(t.Context(), newUpload(t, tenant, func(x *metadata.Upload) { x.ID = r.ID }))
		require.ErrorIs(t, err, metadata.ErrExists, "record's ID in %q", tenant)
		require.Nil(t, got)
		requireUploadGone(t, up, tenant, r.ID)
	}
	requireRecord(t, r, mustGet(t, s, "t1", r.ID))
}

// Byte fields come back exactly: nil, empty, every byte value, and a
// storage state of 1 MiB; through CreateUpload and UpdateUpload.
func testUploadBytes(t *testing.T, _ metadata.Store, up metadata.Uploads) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i*7 + i>>8)
	}
	ffs := bytes.Repeat([]byte{0xff}, 64)
	cases := [][4][]byte{
		{nil, nil, nil, nil},
		{{}, {}, {}, {}},
		{all, ffs, {0}, big},
		{[]byte("{}"), all, ffs[:3072%64+1], {0xff, 0, 0xff}},
	}
	var prev *metadata.Upload
	for i, c := range cases {
		u := newUpload(t, "t1", func(u *metadata.Upload) { u.Info, u.Hash, u.Head, u.Storage = c[0], c[1], c[2], c[3] })
		mustCreateUpload(t, up, u)
		requireUpload(t, u, mustGetUpload(t, up, "t1", u.ID), 1)
		if prev != nil {
			// The same bytes through an update of another upload.
			p := mustGetUpload(t, up, "t1", prev.ID)
			p.Info, p.Hash, p.Head, p.Storage = c[0], c[1], c[2], c[3]
			got, err := up.UpdateUpload(t.Context(), p)
			require.NoError(t, err, "case %d", i)
			requireUpload(t, p, got, 2)
			requireUpload(t, p, mustGetUpload(t, up, "t1", p.ID), 2)
		}
		prev = u
	}
}

// Times come back in UTC, at least to the millisecond, from any location;
// the zero time stays zero.
func testUploadTimes(t *testing.T, _ metadata.Store, up metadata.Uploads) {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	u := newUpload(t, "t1", func(u *metadata.Upload) {
		u.CreatedAt = baseTime().In(zone)
		u.UpdatedAt = baseTime().Add(1500 * time.Microsecond).In(zone)
		u.ExpiresAt = time.Date(2300, 1, 1, 0, 0, 0, 7_000_000, zone)
		u.LockedUntil = time.Time{}
	})
	mustCreateUpload(t, up, u)
	got := mustGetUpload(t, up, "t1", u.ID)
	requireUpload(t, u, got, 1)
	require.True(t, got.LockedUntil.IsZero())

	got.LockedUntil = time.Date(2026, 12, 1, 0, 0, 0, 999_000_000, zone)
	got.ExpiresAt = time.Time{}
	next, err := up.UpdateUpload(t.Context(), got)
	require.NoError(t, err)
	requireUpload(t, got, next, 2)
	requireUpload(t, got, mustGetUpload(t, up, "t1", u.ID), 2)
}

// UpdateUpload stores every changeable field, returns the upload as
// stored, and refuses a Version that is not the stored one.
func testUploadUpdate(t *testing.T, _ metadata.Store, up metadata.Uploads) {
	u := mustCreateUpload(t, up, newUpload(t, "t1"))
	ch := u.Clone()
	ch.Length, ch.Offset = 5<<20, 1<<20
	ch.Info, ch.Hash, ch.Head, ch.Storage = []byte(`{"x":1}`), []byte{9, 9}, []byte("GIF89a"), []byte("parts")
	ch.Finishing, ch.Interrupt = true, true
	ch.LockOwner, ch.LockedUntil = "instance-b/7", later()
	ch.ExpiresAt, ch.UpdatedAt = later().Add(time.Hour), later()
	got, err := up.UpdateUpload(t.Context(), ch)
	require.NoError(t, err)
	requireUpload(t, ch, got, 2)
	requireUpload(t, ch, mustGetUpload(t, up, "t1", u.ID), 2)

	// The lease cleared, from the new Version.
	got.LockOwner, got.LockedUntil, got.Interrupt = "", time.Time{}, false
	got3, err := up.UpdateUpload(t.Context(), got)
	require.NoError(t, err)
	requireUpload(t, got, got3, 3)

	// From an old Version, or a future one: ErrStale, nothing changed.
	for _, v := range []int64{1, 2, 4, 0} {
		stale := got3.Clone()
		stale.Version, stale.Offset = v, 1
		res, err := up.UpdateUpload(t.Context(), stale)
		require.ErrorIs(t, err, metadata.ErrStale, "Version %d", v)
		require.NotErrorIs(t, err, metadata.ErrNotFound)
		require.Nil(t, res)
	}
	requireUpload(t, got3, mustGetUpload(t, up, "t1", u.ID), 3)

	// A missing upload is ErrNotFound, not ErrStale.
	missing := newUpload(t, "t1", func(x *metadata.Upload) { x.Version = 1 })
	res, err := up.UpdateUpload(t.Context(), missing)
	require.ErrorIs(t, err, metadata.ErrNotFound)
	require.NotErrorIs(t, err, metadata.ErrStale)
	require.Nil(t, res)
	requireUploadGone(t, up, "t1", missing.ID)
}

// Of 16 updates from one Version at once, exactly one succeeds; the others
// are ErrStale, and what is stored is the winner's.
func testUploadUpdateRace(t *testing.T, _ metadata.Store, up metadata.Uploads) {
	u := mustCreateUpload(t, up, newUpload(t, "t1"))
	const n = 16
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make([]*metadata.Upload, n)
		errs    = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			c := u.Clone()
			c.Offset = int64(1000 + i)
			c.LockOwner = "worker-" + string(rune('a'+i))
			<-start
			results[i], errs[i] = up.UpdateUpload(context.WithoutCancel(t.Context()), c)
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "updates %d and %d both won", winner, i)
			winner = i
			continue
		}
		require.ErrorIs(t, err, metadata.ErrStale, "update %d", i)
		require.Nil(t, results[i])
	}
	require.NotEqual(t, -1, winner, "no update won")
	got := mustGetUpload(t, up, "t1", u.ID)
	require.Equal(t, int64(2), got.Version)
	require.Equal(t, int64(1000+winner), got.Offset)
	require.Equal(t, results[winner].LockOwner, got.LockOwner)
}

// ID, Tenant, CreatedBy, Concat and CreatedAt keep their stored values
// whatever an update says.
func testUploadImmutable(t *testing.T, _ metadata.Store, up metadata.Uploads) {
	u := mustCreateUpload(t, up, newUpload(t, "t1"))
	ch := u.Clone()
	ch.CreatedBy, ch.Concat, ch.CreatedAt = "intruder", metadata.ConcatPartial, later()
	ch.Offset = 8192
	got, err := up.UpdateUpload(t.Context(), ch)
	require.NoError(t, err)
	want := u.Clone()
	want.Offset = 8192
	requireUpload(t, want, got, 2)
	requireUpload(t, want, mustGetUpload(t, up, "t1", u.ID), 2)
}

// DeleteUpload removes the upload at its Version only.
func testUploadDelete(t *testing.T, _ metadata.Store, up metadata.Uploads) {
	u := mustCreateUpload(t, up, newUpload(t, "t1"))
	next, err := up.UpdateUpload(t.Context(), u)
	require.NoError(t, err)
	for _, v := range []int64{1, 3} {
		err := up.DeleteUpload(t.Context(), "t1", u.ID, v)
		require.ErrorIs(t, err, metadata.ErrStale, "Version %d", v)
	}
	requireUpload(t, next, mustGetUpload(t, up, "t1", u.ID), 2)
	require.NoError(t, up.DeleteUpload(t.Context(), "t1", u.ID, 2))
	requireUploadGone(t, up, "t1", u.ID)
	err = up.DeleteUpload(t.Context(), "t1", u.ID, 2)
	require.ErrorIs(t, err, metadata.ErrNotFound)
	require.NotErrorIs(t, err, metadata.ErrStale)
	// The ID may be used again once the upload is gone.
	mustCreateUpload(t, up, newUpload(t, "t1", func(x *metadata.Upload) { x.ID = u.ID }))
}

// CompleteUpload removes the upload and creates its record, with labels
// and jobs, as Create would.
func testUploadComplete(t *testing.T, s metadata.Store, up metadata.Uploads) {
	u := mustCreateUpload(t, up, newUpload(t, "t1"))
	u, err := up.UpdateUpload(t.Context(), u)
	require.NoError(t, err)
	other := mustCreateUpload(t, up, newUpload(t, "t1"))
	rec := newRecord(t, "t1", processing("analyze", "thumbnail"), func(r *metadata.Record) {
		r.ID = u.ID
		r.Labels = map[string]string{"case": "42", "kind": "scan"}
	})
	require.NoError(t, up.CompleteUpload(t.Context(), u, rec))

	requireUploadGone(t, up, "t1", u.ID)
	want := rec.Clone()
	want.Processing = wantProcessing(s, rec)
	requireRecord(t, want, mustGet(t, s, "t1", u.ID))
	require.Equal(t, []string{u.ID}, list(t, s, metadata.Query{Tenant: "t1", Labels: map[string]string{"case": "42"}}),
		"the labels are indexed as Create's are")
	if q, ok := s.(metadata.Queue); ok {
		jobs := claim(t, q, rec.CreatedAt, 10)
		require.ElementsMatch(t, []string{u.ID + "/analyze", u.ID + "/thumbnail"}, keys(jobs))
	}
	requireUpload(t, other, mustGetUpload(t, up, "t1", other.ID), 1)

	// Completing again: the upload is gone.
	err = up.CompleteUpload(t.Context(), u, newRecord(t, "t1", func(r *metadata.Record) { r.ID = u.ID }))
	require.ErrorIs(t, err, metadata.ErrNotFound)
}

// A stale Version, or a record that already has the ID, fails
// CompleteUpload and changes nothing.
func testUploadCompleteFails(t *testing.T, s metadata.Store, up metadata.Uploads) {
	u := mustCreateUpload(t, up, newUpload(t, "t1"))
	cur, err := up.UpdateUpload(t.Context(), u)
	require.NoError(t, err)
	rec := newRecord(t, "t1", processing("analyze"), func(r *metadata.Record) {
		r.ID = u.ID
		r.Labels = map[string]string{"k": "v"}
	})
	err = up.CompleteUpload(t.Context(), u, rec) // u is at Version 1
	require.ErrorIs(t, err, metadata.ErrStale)
	requireNotFound(t, s, "t1", u.ID)
	requireUpload(t, cur, mustGetUpload(t, up, "t1", u.ID), 2)
	require.Empty(t, list(t, s, metadata.Query{Tenant: "t1"}))

	// A record with the ID, made meanwhile (Create does not look at
	// uploads): ErrExists, the upload kept at its Version, the record as it
	// was.
	taken := newRecord(t, "t1", func(r *metadata.Record) { r.ID = u.ID })
	mustCreate(t, s, taken)
	err = up.CompleteUpload(t.Context(), cur, rec)
	require.ErrorIs(t, err, metadata.ErrExists)
	requireUpload(t, cur, mustGetUpload(t, up, "t1", u.ID), 2)
	requireRecord(t, taken, mustGet(t, s, "t1", u.ID))
	require.Empty(t, list(t, s, metadata.Query{Tenant: "t1", Labels: map[string]string{"k": "v"}}))
	if q, ok := s.(metadata.Queue); ok {
		requireNothingDue(t, q, later())
	}

	// A record that does not match the upload is refused.
	fresh := mustCreateUpload(t, up, newUpload(t, "t1"))
	for _, bad := range []*metadata.Record{
		newRecord(t, "t1"),
		newRecord(t, "t2", func(r *metadata.Record) { r.ID = fresh.ID }),
	} {
		require.Error(t, up.CompleteUpload(t.Context(), fresh, bad))
		requireNotFound(t, s, bad.Tenant, bad.ID)
		requireUpload(t, fresh, mustGetUpload(t, up, "t1", fresh.ID), 1)
	}
}

// ExpiredUploads pages through every tenant's uploads that expire before
// the time, in (ExpiresAt, ID) order.
func testUploadExpired(t *testing.T, _ metadata.Store, up metadata.Uploads) {
	// Created out of order; two pairs share an ExpiresAt (the ID decides).
	var (
		want []string // in the order ExpiredUploads must return them
		mk   = func(tenant string, expires time.Duration) *metadata.Upload {
			return mustCreateUpload(t, up, newUpload(t, tenant, func(u *metadata.Upload) { u.ExpiresAt = at(expires) }))
		}
	)
	late := mk("t1", 3*time.Hour)
	a2 := mk("t2", 2*time.Hour)
	a1 := mk("", time.Hour)
	b2 := mk("t1", 2*time.Hour)
	b1 := mk("t2", time.Hour)
	// c1 expires after a1 and b1 in a store that keeps microseconds, at
	// the same time in one that keeps milliseconds, where its ID (the
	// newest) puts it after them too.
	c1 := mk("t3", time.Hour+500*time.Microsecond)
	mk("t1", 5*time.Hour) // not before the cutoff
	cutoff := at(4 * time.Hour)
	want = []string{a1.ID, b1.ID, c1.ID, a2.ID, b2.ID, late.ID}

	all, err := up.ExpiredUploads(t.Context(), cutoff, metadata.UploadCursor{}, 100)
	require.NoError(t, err)
	require.Equal(t, want, uploadIDs(all))
	for _, u := range all {
		require.True(t, u.ExpiresAt.Before(cutoff))
		requireUpload(t, mustGetUpload(t, up, u.Tenant, u.ID), u, 1)
	}

	// Strictly before: an upload expiring at the cutoff is not listed.
	atLate, err := up.ExpiredUploads(t.Context(), late.ExpiresAt, metadata.UploadCursor{}, 100)
	require.NoError(t, err)
	require.Equal(t, want[:5], uploadIDs(atLate))

	// Pages of 2 from the cursor of each.
	var got []string
	var cur metadata.UploadCursor
	for range 10 {
		page, err := up.ExpiredUploads(t.Context(), cutoff, cur, 2)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), 2)
		if len(page) == 0 {
			break
		}
		got = append(got, uploadIDs(page)...)
		last := page[len(page)-1]
		cur = metadata.UploadCursor{ExpiresAt: last.ExpiresAt, ID: last.ID}
	}
	require.Equal(t, want, got)

	// A cursor between uploads of one ExpiresAt continues by ID.
	page, err := up.ExpiredUploads(t.Context(), cutoff, metadata.UploadCursor{ExpiresAt: a2.ExpiresAt, ID: a2.ID}, 1)
	require.NoError(t, err)
	require.Equal(t, []string{b2.ID}, uploadIDs(page))

	// Changes are seen: an upload moved past the cutoff is not listed.
	late.ExpiresAt = at(6 * time.Hour)
	_, err = up.UpdateUpload(t.Context(), late)
	require.NoError(t, err)
	all, err = up.ExpiredUploads(t.Context(), cutoff, metadata.UploadCursor{}, 100)
	require.NoError(t, err)
	require.Equal(t, want[:5], uploadIDs(all))

	_, err = up.ExpiredUploads(t.Context(), cutoff, metadata.UploadCursor{}, 0)
	require.Error(t, err, "limit 0")
}

func uploadIDs(us []*metadata.Upload) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

// A call with a context that is already canceled fails with the context's
// error and changes nothing.
func testUploadContext(t *testing.T, s metadata.Store, up metadata.Uploads) {
	u := mustCreateUpload(t, up, newUpload(t, "t1"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	fresh := newUpload(t, "t1")
	got, err := up.CreateUpload(ctx, fresh)
	require.ErrorIs(t, err, context.Canceled, "CreateUpload")
	require.Nil(t, got)
	requireUploadGone(t, up, "t1", fresh.ID)
	_, err = up.GetUpload(ctx, "t1", u.ID)
	require.ErrorIs(t, err, context.Canceled, "GetUpload")
	_, err = up.LookupUpload(ctx, u.ID)
	require.ErrorIs(t, err, context.Canceled, "LookupUpload")
	ch := u.Clone()
	ch.Offset = 1
	_, err = up.UpdateUpload(ctx, ch)
	require.ErrorIs(t, err, context.Canceled, "UpdateUpload")
	require.ErrorIs(t, up.DeleteUpload(ctx, "t1", u.ID, 1), context.Canceled, "DeleteUpload")
	rec := newRecord(t, "t1", func(r *metadata.Record) { r.ID = u.ID })
	require.ErrorIs(t, up.CompleteUpload(ctx, u, rec), context.Canceled, "CompleteUpload")
	_, err = up.ExpiredUploads(ctx, later(), metadata.UploadCursor{}, 10)
	require.ErrorIs(t, err, context.Canceled, "ExpiredUploads")

	requireUpload(t, u, mustGetUpload(t, up, "t1", u.ID), 1)
	requireNotFound(t, s, "t1", u.ID)
}

// Every call after Close returns an error wrapping ErrClosed.
func testUploadClose(t *testing.T, s metadata.Store, up metadata.Uploads) {
	u := mustCreateUpload(t, up, newUpload(t, "t1"))
	require.NoError(t, s.Close())
	ctx := t.Context()

	got, err := up.CreateUpload(ctx, newUpload(t, "t1"))
	require.ErrorIs(t, err, metadata.ErrClosed, "CreateUpload")
	require.Nil(t, got)
	got, err = up.GetUpload(ctx, "t1", u.ID)
	require.ErrorIs(t, err, metadata.ErrClosed, "GetUpload")
	require.Nil(t, got)
	got, err = up.LookupUpload(ctx, u.ID)
	require.ErrorIs(t, err, metadata.ErrClosed, "LookupUpload")
	require.Nil(t, got)
	got, err = up.UpdateUpload(ctx, u)
	require.ErrorIs(t, err, metadata.ErrClosed, "UpdateUpload")
	require.Nil(t, got)
	require.ErrorIs(t, up.DeleteUpload(ctx, "t1", u.ID, 1), metadata.ErrClosed, "DeleteUpload")
	rec := newRecord(t, "t1", func(r *metadata.Record) { r.ID = u.ID })
	require.ErrorIs(t, up.CompleteUpload(ctx, u, rec), metadata.ErrClosed, "CompleteUpload")
	list, err := up.ExpiredUploads(ctx, later(), metadata.UploadCursor{}, 10)
	require.ErrorIs(t, err, metadata.ErrClosed, "ExpiredUploads")
	require.Nil(t, list)
}
