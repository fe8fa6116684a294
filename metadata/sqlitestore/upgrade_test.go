package sqlitestore

import (
	"database/sql"
	"net/url"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

// A database made by release 1 (schema 0001 only) upgrades on Open: its
// records, labels and label index come through unchanged, with zero
// dimensions and no jobs, and the new columns and the queue work on them.
func TestUpgradeFromSchema1(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "v1.db")
	ms, err := migrations()
	require.NoError(t, err)
	require.Greater(t, len(ms), 1)

	// The file as release 1 left it: migration 0001, and records written
	// with its columns.
	db, err := sql.Open("sqlite", dsn(path, url.Values{"_txlock": {"immediate"}, "_pragma": {"foreign_keys(1)"}}))
	require.NoError(t, err)
	db.SetMaxOpenConns(1)
	require.NoError(t, migrate(ctx, db, ms[:1]))
	created := time.Date(2025, 12, 1, 8, 30, 0, 123_456_000, time.UTC)
	updated := created.Add(time.Hour)
	want := []*metadata.Record{{
		ID: "0190a0b0-0000-7000-8000-000000000001", Tenant: "t1", Filename: "Photo.JPG", ContentType: "image/jpeg",
		Size: 12345, SHA256: "ab", Owner: "doc:1", Labels: map[string]string{"k": "v"}, Refs: []string{"doc:1"},
		CreatedBy: "user:1", CreatedAt: created, UpdatedAt: updated,
	}, {
		ID: "0190a0b0-0000-7000-8000-000000000002", Tenant: "t2", Filename: "b.txt", ContentType: "text/plain",
		CreatedAt: created, UpdatedAt: created,
	}}
	for _, r := range want {
		labels, err := labelsJSON(r.Labels)
		require.NoError(t, err)
		refs, err := refsJSON(r.Refs)
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, `INSERT INTO attachments
			(id, tenant, filename, filename_lower, content_type, size, sha256, owner, labels, refs, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.Tenant, r.Filename, lower(r.Filename), r.ContentType, r.Size, r.SHA256, r.Owner, labels, refs,
			r.CreatedBy, toMicros(r.CreatedAt), toMicros(r.UpdatedAt))
		require.NoError(t, err)
		for k, v := range r.Labels {
			_, err = db.ExecContext(ctx, insertLabel, r.ID, r.Tenant, k, v)
			require.NoError(t, err)
		}
	}
	var version int
	require.NoError(t, db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version))
	require.Equal(t, 1, version)
	require.NoError(t, db.Close())

	s, err := Open(ctx, path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	require.NoError(t, s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version))
	require.Equal(t, len(ms), version)

	for _, r := range want {
		got, err := s.Get(ctx, r.Tenant, r.ID)
		require.NoError(t, err)
		require.Equal(t, r, got)
	}
	page, err := s.List(ctx, metadata.Query{Tenant: "t1", Labels: map[string]string{"k": "v"}, FilenameContains: "photo", Limit: 10})
	require.NoError(t, err)
	require.Equal(t, want[:1], page)

	// The new columns and tables work on the old records.
	got, err := s.Update(ctx, "t1", want[0].ID, metadata.Update{Width: new(4000), Height: new(3000), UpdatedAt: updated})
	require.NoError(t, err)
	require.Equal(t, [2]int{4000, 3000}, [2]int{got.Width, got.Height})
	fresh := &metadata.Record{ID: "0190a0b0-0000-7000-8000-000000000003", Tenant: "t1",
		Processing: map[string]string{"thumbnail": ""}, CreatedAt: created, UpdatedAt: created}
	require.NoError(t, s.Create(ctx, []*metadata.Record{fresh}))
	// Records stored before the upgrade have an unknown history: they
	// count as referenced, so no sweep takes them for abandoned uploads;
	// records created since do not.
	never, err := s.Scan(ctx, metadata.ScanQuery{NeverReferenced: true, Limit: 10})
	require.NoError(t, err)
	require.Len(t, never, 1)
	require.Equal(t, fresh.ID, never[0].ID)
	jobs, err := s.Claim(ctx, created, time.Minute, 10)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	require.Equal(t, fresh.ID, jobs[0].AttachmentID)
	// The names stored before the upgrade are in the gram index, as the
	// store itself would have indexed them, under their record's tenant
	// (0005), and follow renames.
	var misfiled int
	require.NoError(t, s.r.QueryRowContext(ctx, `SELECT count(*) FROM attachment_grams g
		JOIN attachment_names n ON n.seq = g.seq JOIN attachments a ON a.id = n.id WHERE g.tenant <> a.tenant`).Scan(&misfiled))
	require.Zero(t, misfiled, "grams under another tenant")
	for _, r := range want {
		rows, err := s.r.QueryContext(ctx, `SELECT g.gram FROM attachment_grams g JOIN attachment_names n ON n.seq = g.seq
			WHERE n.id = ? AND g.tenant = ? ORDER BY g.gram`, r.ID, r.Tenant)
		require.NoError(t, err)
		var got []string
		for rows.Next() {
			var g string
			require.NoError(t, rows.Scan(&g))
			got = append(got, g)
		}
		require.NoError(t, rows.Err())
		wantGrams := grams(lower(r.Filename))
		slices.Sort(wantGrams)
		require.Equal(t, wantGrams, got, "grams of %q", r.Filename)
	}
	_, err = s.Update(ctx, "t1", want[0].ID, metadata.Update{Filename: new("Holiday.JPG"), UpdatedAt: updated})
	require.NoError(t, err)
	for text, n := range map[string]int{"photo": 0, "holiday": 1, "b.txt": 0} {
		page, err := s.List(ctx, metadata.Query{Tenant: "t1", FilenameContains: text, Limit: 10})
		require.NoError(t, err)
		require.Len(t, page, n, "search %q", text)
	}
	// Upload sessions (0006) work on the upgraded file: an old record's ID
	// is taken, and a new upload completes into a record.
	_, err = s.CreateUpload(ctx, &metadata.Upload{ID: want[1].ID, Tenant: "t2", Length: -1})
	require.ErrorIs(t, err, metadata.ErrExists)
	up, err := s.CreateUpload(ctx, &metadata.Upload{ID: "0190a0b0-0000-7000-8000-000000000004", Tenant: "t1",
		Length: 3, Offset: 3, Hash: []byte{1}, ExpiresAt: updated, CreatedAt: created, UpdatedAt: created})
	require.NoError(t, err)
	expired, err := s.ExpiredUploads(ctx, updated.Add(time.Second), metadata.UploadCursor{}, 10)
	require.NoError(t, err)
	require.Equal(t, []*metadata.Upload{up}, expired)
	require.NoError(t, s.CompleteUpload(ctx, up, &metadata.Record{ID: up.ID, Tenant: "t1", Size: 3, CreatedAt: created, UpdatedAt: created}))
	_, err = s.LookupUpload(ctx, up.ID)
	require.ErrorIs(t, err, metadata.ErrNotFound)
	_, err = s.Get(ctx, "t1", up.ID)
	require.NoError(t, err)

	require.NoError(t, s.Delete(ctx, "t1", want[0].ID, true))
	require.NoError(t, s.Delete(ctx, "t1", fresh.ID, true))
	require.ErrorIs(t, s.Finish(ctx, jobs[0], metadata.Outcome{State: metadata.JobCompleted, Now: created}), metadata.ErrLeaseLost)
}
