package pgstore

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

// A schema at version 2, with records of two tenants, upgrades on Open to
// the filename indexes keyed by tenant (0003): the old ones are gone, the
// new ones hold the records stored before, each under its own tenant, and
// List finds them.
func TestUpgradeToTenantGrams(t *testing.T) {
	ctx := t.Context()
	schema, connString := freshSchema(t)
	pool, err := pgxpool.New(ctx, connString)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	ms, err := migrations()
	require.NoError(t, err)
	require.Greater(t, len(ms), 2)
	require.NoError(t, migrate(ctx, pool, ms[:2]))
	for _, r := range [][3]string{
		{"t1", "00000001", "Photo-Holiday.JPG"}, {"t2", "00000002", "photo-holiday.jpg"}, {"t1", "00000003", "abc.txt"},
	} {
		_, err := pool.Exec(ctx, `INSERT INTO attachments
			(tenant, id, filename, filename_lower, content_type, size, sha256, owner, created_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, 'image/jpeg', 1, '', '', '', now(), now())`, r[0], r[1], r[2], lower(r[2]))
		require.NoError(t, err)
	}

	s, err := Open(ctx, connString, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	require.Equal(t, 1, versions(t, pool)[len(ms)])
	rows, err := pool.Query(ctx, `SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND (indexname LIKE 'attachments_%gram%' OR indexname = 'attachments_filename_trgm') ORDER BY 1`, schema)
	require.NoError(t, err)
	indexes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"attachments_tenant_grams3", "attachments_tenant_grams5"}, indexes)

	// The indexes alone (no table scan) find the records stored before,
	// under their own tenant.
	for _, tc := range []struct{ tenant, sub, want string }{
		{"t1", "holiday", "00000001"}, {"t2", "holiday", "00000002"}, {"t1", "abc", "00000003"}, {"t2", "abc", ""},
		{"t1", "hol", "00000001"},
	} {
		tx, err := pool.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, `SET LOCAL enable_seqscan = off`)
		require.NoError(t, err)
		var args []any
		arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
		query := "SELECT a.id FROM attachments a WHERE " + searchCondition(tc.sub, tc.tenant, arg)
		rows, err := tx.Query(ctx, "EXPLAIN "+query, args...)
		require.NoError(t, err)
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		require.Contains(t, strings.Join(plan, "\n"), "Bitmap Index Scan on attachments_tenant_grams", "plan: %q", plan)
		rows, err = tx.Query(ctx, query, args...)
		require.NoError(t, err)
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		require.NoError(t, tx.Rollback(ctx))
		want := []string{}
		if tc.want != "" {
			want = []string{tc.want}
		}
		require.Equal(t, want, append([]string{}, got...), "%q in %s", tc.sub, tc.tenant)
	}
	page, err := s.List(ctx, metadata.Query{Tenant: "t1", FilenameContains: "HOLIDAY", Limit: 10})
	require.NoError(t, err)
	require.Len(t, page, 1)
	require.Equal(t, "00000001", page[0].ID)
}

// A schema at version 3, with a record, upgrades on Open to upload
// sessions (0004): the record's ID is refused to a new upload, and an
// upload is created, listed as expired and completed into a record.
func TestUpgradeToUploads(t *testing.T) {
	ctx := t.Context()
	_, connString := freshSchema(t)
	pool, err := pgxpool.New(ctx, connString)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	ms, err := migrations()
	require.NoError(t, err)
	require.Greater(t, len(ms), 3)
	require.NoError(t, migrate(ctx, pool, ms[:3]))
	_, err = pool.Exec(ctx, `INSERT INTO attachments
		(tenant, id, filename, filename_lower, content_type, size, sha256, owner, created_by, created_at, updated_at)
		VALUES ('t1', '00000001', 'a.txt', 'a.txt', 'text/plain', 1, '', '', '', now(), now())`)
	require.NoError(t, err)

	s, err := Open(ctx, connString, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	require.Equal(t, 1, versions(t, pool)[len(ms)])

	_, err = s.CreateUpload(ctx, &metadata.Upload{ID: "00000001", Tenant: "t2", Length: -1})
	require.ErrorIs(t, err, metadata.ErrExists)
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	up, err := s.CreateUpload(ctx, &metadata.Upload{ID: "00000002", Tenant: "t1", Length: 3, Offset: 3,
		ExpiresAt: at, CreatedAt: at, UpdatedAt: at})
	require.NoError(t, err)
	expired, err := s.ExpiredUploads(ctx, at.Add(time.Second), metadata.UploadCursor{}, 10)
	require.NoError(t, err)
	require.Len(t, expired, 1)
	require.Equal(t, up.ID, expired[0].ID)
	require.NoError(t, s.CompleteUpload(ctx, up, &metadata.Record{ID: up.ID, Tenant: "t1", Size: 3, CreatedAt: at, UpdatedAt: at}))
	_, err = s.LookupUpload(ctx, up.ID)
	require.ErrorIs(t, err, metadata.ErrNotFound)
	_, err = s.Get(ctx, "t1", up.ID)
	require.NoError(t, err)
}
