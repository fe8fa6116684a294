package pgstore_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/metadatatest"
	"github.com/attachkit/attachment/metadata/pgstore"
)

// Every store of the suite opens its own fresh schema.
func TestConformance(t *testing.T) {
	pgstore.ServerURL(t) // skips the whole suite without a server
	metadatatest.Run(t, func(t *testing.T) metadata.Store {
		_, connString := pgstore.FreshSchema(t)
		s, err := pgstore.Open(t.Context(), connString, nil)
		require.NoError(t, err)
		return s
	})
}

func record(tenant string) *metadata.Record {
	return &metadata.Record{
		ID:          uuid.Must(uuid.NewV7()).String(),
		Tenant:      tenant,
		Filename:    "a.txt",
		ContentType: "text/plain",
		Labels:      map[string]string{"k": "v"},
		Refs:        []string{"doc:1"},
		CreatedAt:   time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC),
		UpdatedAt:   time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC),
	}
}

// open opens a store on connString, closed when the test ends.
func open(t *testing.T, connString string) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(t.Context(), connString, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// A store made by New uses the host's pool and leaves it open on Close.
func TestNewKeepsThePool(t *testing.T) {
	_, connString := pgstore.FreshSchema(t)
	pool, err := pgxpool.New(t.Context(), connString)
	require.NoError(t, err)
	defer pool.Close()
	s, err := pgstore.New(t.Context(), pool, nil)
	require.NoError(t, err)
	r := record("t1")
	require.NoError(t, s.Create(t.Context(), []*metadata.Record{r}))
	require.NoError(t, s.Close())
	require.ErrorIs(t, s.Close(), metadata.ErrClosed)

	var n int
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT count(*) FROM attachments`).Scan(&n))
	require.Equal(t, 1, n, "the pool was closed with the store")

	_, err = pgstore.New(t.Context(), nil, nil)
	require.ErrorContains(t, err, "nil pool")
}

// Reopening finds the records, and applies no migration twice.
func TestReopenKeepsData(t *testing.T) {
	_, connString := pgstore.FreshSchema(t)
	s := open(t, connString)
	r := record("t1")
	r.Filename = "Ärger.TXT"
	require.NoError(t, s.Create(t.Context(), []*metadata.Record{r}))
	require.NoError(t, s.Close())

	s = open(t, connString)
	got, err := s.Get(t.Context(), "t1", r.ID)
	require.NoError(t, err)
	require.Equal(t, r.Filename, got.Filename)
	recs, err := s.List(t.Context(), metadata.Query{Tenant: "t1", Labels: map[string]string{"k": "v"}, FilenameContains: "äRGER.t", Limit: 10})
	require.NoError(t, err)
	require.Len(t, recs, 1)
}

func TestListLimitMustBePositive(t *testing.T) {
	_, connString := pgstore.FreshSchema(t)
	s := open(t, connString)
	_, err := s.List(t.Context(), metadata.Query{Tenant: "t1"})
	require.ErrorContains(t, err, "limit")
}

// Times keep every microsecond, across the whole range of time.Time that
// PostgreSQL holds, and come back in UTC.
func TestTimesToTheMicrosecond(t *testing.T) {
	_, connString := pgstore.FreshSchema(t)
	s := open(t, connString)
	for _, at := range []time.Time{
		{},
		time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999_999_000, time.UTC),
		time.Date(2026, 5, 6, 7, 8, 9, 123_456_000, time.FixedZone("X", -3*3600)),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_000, time.UTC),
	} {
		r := record("t1")
		r.CreatedAt, r.UpdatedAt = at, at.Add(time.Microsecond)
		require.NoError(t, s.Create(t.Context(), []*metadata.Record{r}))
		got, err := s.Get(t.Context(), "t1", r.ID)
		require.NoError(t, err)
		require.Equal(t, at.UTC(), got.CreatedAt, "%v", at)
		require.Equal(t, at.Add(time.Microsecond).UTC(), got.UpdatedAt, "%v", at)
	}
	// Below the microsecond, times are truncated as time.UnixMicro does.
	r := record("t1")
	r.CreatedAt = time.Date(2026, 1, 1, 0, 0, 0, 1999, time.UTC)
	r.UpdatedAt = time.Date(1960, 1, 1, 0, 0, 0, 1999, time.UTC)
	require.NoError(t, s.Create(t.Context(), []*metadata.Record{r}))
	got, err := s.Get(t.Context(), "t1", r.ID)
	require.NoError(t, err)
	require.Equal(t, time.UnixMicro(r.CreatedAt.UnixMicro()).UTC(), got.CreatedAt)
	require.Equal(t, time.UnixMicro(r.UpdatedAt.UnixMicro()).UTC(), got.UpdatedAt)
}

// A batch as large as metadatatest.Fill makes is one Create.
func TestCreateLargeBatch(t *testing.T) {
	_, connString := pgstore.FreshSchema(t)
	s := open(t, connString)
	ids := metadatatest.Fill(t, s, "t1", 2500, 7)
	recs, err := s.List(t.Context(), metadata.Query{Tenant: "t1", Labels: map[string]string{"pinned": "yes"}, Limit: 10})
	require.NoError(t, err)
	require.Len(t, recs, 3)
	require.Equal(t, ids[2000], recs[0].ID)
	require.Equal(t, map[string]string{"analyze": metadata.JobPending, "thumbnail": metadata.JobPending}, recs[0].Processing)
	recs, err = s.List(t.Context(), metadata.Query{Tenant: "t1", FilenameContains: "report-0001230", Limit: 10})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Equal(t, ids[1230], recs[0].ID)
}
