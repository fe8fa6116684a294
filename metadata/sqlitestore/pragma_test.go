package sqlitestore

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The pragmas are set by the DSN, so every pooled connection has them, not
// just the first.
func TestEveryConnectionHasThePragmas(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "meta.db"), &Options{BusyTimeout: 1500 * time.Millisecond, MaxReaders: 3})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })

	pragma := func(c *sql.Conn, name string) string {
		var v string
		require.NoError(t, c.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v))
		return v
	}
	var conns []*sql.Conn
	for range 3 { // hold them all at once, so each is a different connection
		c, err := s.r.Conn(t.Context())
		require.NoError(t, err)
		conns = append(conns, c)
	}
	for i, c := range conns {
		require.Equal(t, "wal", pragma(c, "journal_mode"), "reader %d", i)
		require.Equal(t, "1500", pragma(c, "busy_timeout"), "reader %d", i)
		require.Equal(t, "1", pragma(c, "query_only"), "reader %d", i)
		require.Equal(t, "-16384", pragma(c, "cache_size"), "reader %d: 16 MiB", i)
		require.Equal(t, "0", pragma(c, "mmap_size"), "reader %d: no map by default", i)
		_, err := c.ExecContext(t.Context(), "DELETE FROM attachments")
		require.Error(t, err, "reader %d can write", i)
		require.NoError(t, c.Close())
	}

	w, err := s.w.Conn(t.Context())
	require.NoError(t, err)
	defer w.Close()
	require.Equal(t, "wal", pragma(w, "journal_mode"))
	require.Equal(t, "1500", pragma(w, "busy_timeout"))
	require.Equal(t, "1", pragma(w, "foreign_keys"))
	require.Equal(t, "1", pragma(w, "synchronous"), "synchronous=NORMAL")
	require.Equal(t, "0", pragma(w, "query_only"))
	require.Equal(t, "-65536", pragma(w, "cache_size"), "64 MiB")
	require.Equal(t, "0", pragma(w, "mmap_size"))
}

// No map by default; a size is passed as it is, up to MaxMmapBytes.
func TestMmapOption(t *testing.T) {
	for _, tc := range []struct {
		bytes int64
		want  string
	}{{0, "0"}, {1 << 20, "1048576"}, {MaxMmapBytes, "2147418112"}, {1 << 40, "2147418112"}} {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "meta.db"), &Options{MmapBytes: tc.bytes})
		require.NoError(t, err)
		for _, db := range []*sql.DB{s.w, s.r} {
			var v string
			require.NoError(t, db.QueryRowContext(t.Context(), "PRAGMA mmap_size").Scan(&v))
			require.Equal(t, tc.want, v, "MmapBytes %d", tc.bytes)
		}
		require.NoError(t, s.Close())
	}
	_, err := Open(t.Context(), filepath.Join(t.TempDir(), "meta.db"), &Options{MmapBytes: -1})
	require.Error(t, err)
}
