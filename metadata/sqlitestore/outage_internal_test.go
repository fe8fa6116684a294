package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

func newRecord(name string) *metadata.Record {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return &metadata.Record{
		ID: uuid.Must(uuid.NewV7()).String(), Filename: name, ContentType: "text/plain",
		Labels: map[string]string{"k": strings.Repeat("v", 200)}, CreatedAt: now, UpdatedAt: now,
	}
}

// A database at its max_page_count fails a write with SQLITE_FULL, which
// the store reports as metadata.ErrInsufficientStorage; a write fits
// again once the limit is raised, on the same Store.
func TestFullDatabase(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "meta.db"), &Options{ReserveBytes: NoReserve})
	require.NoError(t, err)
	defer s.Close()
	var pages int
	require.NoError(t, s.w.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages))
	_, err = s.w.ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages))
	require.NoError(t, err)
	for i := 0; ; i++ {
		require.Less(t, i, 10000, "the database never filled up")
		err = s.Create(ctx, []*metadata.Record{newRecord(fmt.Sprintf("file-%d-%s.txt", i, strings.Repeat("x", 100)))})
		if err != nil {
			break
		}
	}
	require.ErrorIs(t, err, metadata.ErrInsufficientStorage)
	assert.NotErrorIs(t, err, metadata.ErrUnavailable)
	assert.Contains(t, err.Error(), "full", "the cause is kept")

	_, err = s.w.ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages*100))
	require.NoError(t, err)
	require.NoError(t, s.Create(ctx, []*metadata.Record{newRecord("again.txt")}))
}

// A database locked by another connection past the busy timeout is
// metadata.ErrUnavailable; it works again once the lock is gone.
func TestLockedDatabase(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(ctx, path, &Options{BusyTimeout: 50 * time.Millisecond})
	require.NoError(t, err)
	defer s.Close()
	other, err := sql.Open("sqlite", dsn(path, nil))
	require.NoError(t, err)
	defer other.Close()
	conn, err := other.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, `BEGIN IMMEDIATE`)
	require.NoError(t, err)

	err = s.Create(ctx, []*metadata.Record{newRecord("a.txt")})
	require.ErrorIs(t, err, metadata.ErrUnavailable)
	assert.NotErrorIs(t, err, metadata.ErrInsufficientStorage)

	_, err = conn.ExecContext(ctx, `ROLLBACK`)
	require.NoError(t, err)
	require.NoError(t, s.Create(ctx, []*metadata.Record{newRecord("a.txt")}))
}

// Other errors are neither.
func TestClassifyOther(t *testing.T) {
	for _, err := range []error{sql.ErrNoRows, context.Canceled, fmt.Errorf("x: %w", metadata.ErrNotFound)} {
		got := classify(err)
		assert.Equal(t, err, got)
	}
}

// On a full disk (a small tmpfs, filled up), a Delete still works: it
// gives up the store's reserve and tries again; the reserve is taken
// back by the next write that fits.
func TestDeleteOnFullDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tmpfs")
	require.NoError(t, os.Mkdir(dir, 0o755))
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	for _, reserve := range []int64{0, NoReserve} {
		t.Run(fmt.Sprintf("reserve=%d", reserve), func(t *testing.T) {
			ctx := t.Context()
			path := filepath.Join(dir, fmt.Sprintf("meta%d.db", reserve))
			s, err := Open(ctx, path, &Options{ReserveBytes: reserve})
			require.NoError(t, err)
			defer os.Remove(path + "-reserve")
			defer s.Close()
			var recs []*metadata.Record
			for i := range 50 {
				r := newRecord(fmt.Sprintf("file-%d.txt", i))
				require.NoError(t, s.Create(ctx, []*metadata.Record{r}))
				recs = append(recs, r)
			}
			// Fill the disk to the last byte.
			filler := filepath.Join(dir, "filler")
			f, err := os.Create(filler)
			require.NoError(t, err)
			buf := make([]byte, 4096)
			for {
				if _, err := f.Write(buf); err != nil {
					break
				}
			}
			for {
				if _, err := f.Write(buf[:1]); err != nil {
					break
				}
			}
			require.NoError(t, f.Close())
			defer os.Remove(filler)

			err = s.Create(ctx, []*metadata.Record{newRecord("new.txt")})
			require.ErrorIs(t, err, metadata.ErrInsufficientStorage, "the disk is full")
			err = s.Delete(ctx, "", recs[0].ID, true)
			if reserve == NoReserve {
				require.ErrorIs(t, err, metadata.ErrInsufficientStorage, "without the reserve, the delete cannot be written")
				return
			}
			require.NoError(t, err, "a delete works on a full disk")
			_, err = s.Get(ctx, "", recs[0].ID)
			require.ErrorIs(t, err, metadata.ErrNotFound)

			// Space is freed (as deleting content does); the next write
			// takes the reserve back.
			require.NoError(t, os.Remove(filler))
			require.NoError(t, s.Create(ctx, []*metadata.Record{newRecord("new.txt")}))
			fi, err := os.Stat(path + "-reserve")
			require.NoError(t, err, "the reserve is taken back")
			assert.EqualValues(t, DefaultReserveBytes, fi.Size())
		})
	}
}
