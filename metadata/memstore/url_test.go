package memstore_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/memstore"
)

func TestOpenURL(t *testing.T) {
	for _, u := range []string{"mem://", "MEM://", "mem:///"} {
		s, err := metadata.OpenStore(t.Context(), u)
		require.NoError(t, err, u)
		require.IsType(t, &memstore.Store{}, s)
		require.NoError(t, s.Close())
	}
	// Each URL opens a store of its own.
	a, err := metadata.OpenStore(t.Context(), "mem://")
	require.NoError(t, err)
	b, err := metadata.OpenStore(t.Context(), "mem://")
	require.NoError(t, err)
	require.NotSame(t, a, b)
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())
}

func TestOpenURLErrors(t *testing.T) {
	for _, tc := range []struct{ url, wantErr string }{
		{"mem://?size=10", `"size=10"`},
		{"mem://?", "takes none"},
		{"mem://host", "no host or path"},
		{"mem:///path", "no host or path"},
		{"mem://user@", "no host or path"},
		{"mem:opaque", "use mem://"},
		{"mem://#frag", "fragment"},
	} {
		s, err := metadata.OpenStore(t.Context(), tc.url)
		require.ErrorContains(t, err, tc.wantErr, tc.url)
		require.Nil(t, s, tc.url)
	}
}
