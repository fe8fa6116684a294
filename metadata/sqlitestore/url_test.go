package sqlitestore_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/sqlitestore"
)

func TestOpenURL(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	abs := filepath.Join(t.TempDir(), "abs", "meta.db")

	for _, tc := range []struct {
		url, file string
	}{
		{"sqlite://meta.db", filepath.Join(dir, "meta.db")},
		{"sqlite://data/meta.db", filepath.Join(dir, "data", "meta.db")},
		{"sqlite://./dot/meta.db", filepath.Join(dir, "dot", "meta.db")},
		{"SQLite://upper/meta.db", filepath.Join(dir, "upper", "meta.db")},
		{"sqlite://" + filepath.ToSlash(abs), abs},
	} {
		t.Run(tc.url, func(t *testing.T) {
			s, err := metadata.OpenStore(t.Context(), tc.url)
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.Close() })
			require.IsType(t, &sqlitestore.Store{}, s)
			resolved, err := filepath.EvalSymlinks(s.(*sqlitestore.Store).Path())
			require.NoError(t, err)
			want, err := filepath.EvalSymlinks(tc.file)
			require.NoError(t, err)
			require.Equal(t, want, resolved)
			_, err = os.Stat(tc.file)
			require.NoError(t, err)
		})
	}
}

func TestOpenURLErrors(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, tc := range []struct {
		url, wantErr string
	}{
		{"sqlite://meta.db?mode=ro", `"mode=ro"`},
		{"sqlite://meta.db?_pragma=journal_mode(DELETE)", "takes none"},
		{"sqlite://meta.db?", "takes none"},
		{"sqlite://", "no file path"},
		{"sqlite:///", "no file path"},
		{"sqlite:meta.db", "want sqlite://PATH"},
		{"sqlite://user@meta.db", "user"},
		{"sqlite://meta.db#frag", "fragment"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			s, err := metadata.OpenStore(t.Context(), tc.url)
			require.ErrorContains(t, err, tc.wantErr)
			require.Nil(t, s)
		})
	}
	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	require.Empty(t, entries, "a refused URL created files")
}
