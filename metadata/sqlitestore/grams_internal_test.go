package sqlitestore

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGrams(t *testing.T) {
	for name, want := range map[string][]string{
		"":             nil,
		"abcd":         nil,
		"abcde":        {"abcde"},
		"abcdef":       {"abcde", "bcdef"},
		"aaaaaaa":      {"aaaaa"},
		"été-ünï":      {"été-ü", "té-ün", "é-ünï"},
		"ab\xffcdef":   {"ab\xffcd", "b\xffcde", "\xffcdef"},
		"photo-12.jpg": {"photo", "hoto-", "oto-1", "to-12", "o-12.", "-12.j", "12.jp", "2.jpg"},
	} {
		require.Equal(t, want, grams(name), "grams(%q)", name)
	}
	_, ok := searchGrams("abcd")
	require.False(t, ok)
	_, ok = searchGrams("abc\x00de")
	require.False(t, ok)
	_, ok = searchGrams("ab\xffcde")
	require.False(t, ok)
	gs, ok := searchGrams("report")
	require.True(t, ok)
	require.Equal(t, []string{"repor", "eport"}, gs)
}
