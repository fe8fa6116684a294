package filename

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "report.pdf", "report.pdf"},
		{"keeps inner spaces", "my  report (final).pdf", "my  report (final).pdf"},
		{"unix traversal", "../../etc/passwd", "passwd"},
		{"windows path", `C:\Users\x\a.txt`, "a.txt"},
		{"mixed separators", `a/b\c/d.txt`, "d.txt"},
		{"trailing slash", "dir/", ""},
		{"trailing backslash", `dir\`, ""},
		{"unc path", `\\server\share\f.doc`, "f.doc"},
		{"empty", "", ""},
		{"dot", ".", ""},
		{"dotdot", "..", ""},
		{"dotdot slash", "../", ""},
		{"dots and spaces", " . .. . ", ""},
		{"only spaces", "   ", ""},
		{"dotfile kept", ".env", ".env"},
		{"trailing dots", "a.txt...", "a.txt"},
		{"trailing dots and spaces", "a.txt. . ", "a.txt"},
		{"surrounding white space", " \t a.txt \u00a0\u3000", "a.txt"},
		{"NUL", "a\x00b.txt", "ab.txt"},
		{"CR LF", "a\r\nb.txt", "ab.txt"},
		{"header injection", "a.txt\r\nSet-Cookie: x=y", "a.txtSet-Cookie: x=y"},
		{"tab", "a\tb", "ab"},
		{"DEL", "a\x7fb", "ab"},
		{"C1", "a\u0085b\u009bc", "abc"},
		{"invalid UTF-8 replaced", "a\xffb.txt", "a\uFFFDb.txt"},
		{"invalid UTF-8 run replaced once", "a\xff\xfe\xfdb", "a\uFFFDb"},
		{"truncated rune", "ab\xe2\x82", "ab\uFFFD"},
		{"RLO spoof", "invoice\u202Efdp.exe", "invoicefdp.exe"},
		{"bidi embeddings", "\u202A\u202B\u202C\u202D\u202Ea", "a"},
		{"bidi isolates", "\u2066\u2067\u2068\u2069a", "a"},
		{"LRM RLM ALM", "a\u200E\u200F\u061Cb", "ab"},
		{"zero width space", "a\u200Bb", "ab"},
		{"BOM", "\uFEFFa.txt", "a.txt"},
		{"line and paragraph separators", "a\u2028b\u2029c", "abc"},
		{"soft hyphen", "in\u00ADvoice", "invoice"},
		{"tag characters", "a\U000E0041\U000E0042b", "ab"},
		{"ZWJ between ASCII", "pay\u200Dpal", "paypal"},
		{"ZWNJ between ASCII", "pay\u200Cpal", "paypal"},
		{"ZWJ at ends", "\u200D😀\u200D", "😀"},
		{"ZWJ emoji kept", "👩\u200D💻.png", "👩\u200D💻.png"},
		{"ZWJ emoji with skin tone and VS16", "👩🏽\u200D💻 🏳\uFE0F\u200D🌈", "👩🏽\u200D💻 🏳\uFE0F\u200D🌈"},
		{"ZWNJ Persian kept", "می\u200Cخواهم.txt", "می\u200Cخواهم.txt"},
		{"joiner run keeps one", "😀\u200D\u200D😀", "😀\u200D😀"},
		{"joiner across removed char", "😀\u200D\u202E😀", "😀\u200D😀"},
		{"unicode kept", "Über café 日本語 😀.pdf", "Über café 日本語 😀.pdf"},
		{"combining marks kept", "Cafe\u0301.txt", "Cafe\u0301.txt"},
		{"control then empty", "\x00\x01\x02", ""},
		{"path hidden after controls", "a/\u202E", ""},
		{"quotes kept", `say "hi".txt`, `say "hi".txt`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Clean(tt.in, 0)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, got, Clean(got, 0), "idempotent")
		})
	}
}

func TestCleanLength(t *testing.T) {
	long := strings.Repeat("a", 300)
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"default bound", long, 0, strings.Repeat("a", 255)},
		{"negative means default", long, -1, strings.Repeat("a", 255)},
		{"short untouched", "a.pdf", 10, "a.pdf"},
		{"exact fit", "abcde.pdf", 9, "abcde.pdf"},
		{"extension kept", "abcdefghij.pdf", 10, "abcdef.pdf"},
		{"default bound keeps extension", long + ".pdf", 0, strings.Repeat("a", 251) + ".pdf"},
		{"long extension not kept", "abc." + strings.Repeat("x", 20), 10, "abc.xxxxxx"},
		{"16-byte extension kept", "abcdefgh." + strings.Repeat("x", 15), 20, "abcd." + strings.Repeat("x", 15)},
		{"rune boundary", "ééééé", 5, "éé"},
		{"rune boundary with extension", "ééééé.txt", 8, "éé.txt"},
		{"emoji not split", "😀😀😀", 7, "😀"},
		{"stem would vanish", "😀😀.txt", 7, "😀"},
		{"too small for one rune", "é", 1, ""},
		{"cut leaves trailing space", "ab cd.txt", 7, "ab.txt"},
		{"cut leaves trailing space no ext", "ab cdefgh", 3, "ab"},
		{"cut leaves trailing dot", "ab.cdefghijklmnopqrstuvwxyz", 3, "ab"},
		{"cut leaves dangling joiner", "😀\u200D💻", 7, "😀"},
		{"dotfile not kept as stem", ".abcdefgh", 4, ".abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Clean(tt.in, tt.max)
			assert.Equal(t, tt.want, got)
			bound := tt.max
			if bound <= 0 {
				bound = DefaultMaxBytes
			}
			assert.LessOrEqual(t, len(got), bound)
			assert.True(t, utf8.ValidString(got))
			assert.Equal(t, got, Clean(got, tt.max), "idempotent")
		})
	}
}

func TestFoldTables(t *testing.T) {
	require.Len(t, latin1, 0x100-0xC0)
	require.Len(t, latinExtA, 0x180-0x100)
	for r, want := range map[rune]string{
		'À': "A", 'Æ': "AE", 'ß': "ss", '×': "_", 'é': "e", 'ÿ': "y", 'Þ': "TH",
		'Ā': "A", 'č': "c", 'Đ': "D", 'ı': "i", 'Ĳ': "IJ", 'ĸ': "k", 'Ł': "L",
		'ŉ': "n", 'Ő': "O", 'œ': "oe", 'Ř': "R", 'š': "s", 'ů': "u", 'Ÿ': "Y",
		'ž': "z", 'ſ': "s", '“': "'", '—': "-", '…': "...", '日': "_",
	} {
		assert.Equal(t, want, foldASCII(r), "%c", r)
	}
}

// checkCleanProperties asserts the guarantees of Clean for any input.
func checkCleanProperties(t *testing.T, in string, maxBytes int) {
	t.Helper()
	got := Clean(in, maxBytes)
	bound := maxBytes
	if bound <= 0 {
		bound = DefaultMaxBytes
	}
	require.True(t, utf8.ValidString(got), "invalid UTF-8: %q", got)
	require.LessOrEqual(t, len(got), bound, "too long: %q", got)
	require.NotContains(t, got, "/")
	require.NotContains(t, got, `\`)
	require.Equal(t, got, Clean(got, maxBytes), "not idempotent: %q -> %q", in, got)
	require.Equal(t, got, Clean(got, 1<<20), "changed by a larger bound: %q", got)
	for i, r := range got {
		require.False(t, unicode.IsControl(r), "control %U at %d in %q", r, i, got)
		require.False(t, r == '\u2028' || r == '\u2029', "separator %U in %q", r, got)
		if unicode.Is(unicode.Cf, r) {
			require.True(t, isJoiner(r), "format char %U in %q", r, got)
			before, _ := utf8.DecodeLastRuneInString(got[:i])
			after, _ := utf8.DecodeRuneInString(got[i+utf8.RuneLen(r):])
			require.True(t, joinable(before) && joinable(after), "joiner out of context in %q", got)
		}
	}
	if got != "" {
		require.NotEqual(t, ".", got)
		require.NotEqual(t, "..", got)
		first, _ := utf8.DecodeRuneInString(got)
		last, _ := utf8.DecodeLastRuneInString(got)
		require.False(t, unicode.IsSpace(first), "leading space in %q", got)
		require.False(t, unicode.IsSpace(last) || last == '.', "trailing space or dot in %q", got)
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{
		"", ".", "..", "../../etc/passwd", `C:\Users\x\a.txt`, "dir/", "a.txt. . ",
		"invoice\u202Efdp.exe", "👩🏽\u200D💻.png", "می\u200Cخواهم.txt", "a\xffb",
		strings.Repeat("é", 200) + ".pdf", "😀\u200D\u200D😀", " \u00a0x\u3000",
		strings.Repeat("ab ", 100) + ".tar.gz",
	} {
		f.Add(s, 0)
		f.Add(s, 7)
	}
	f.Fuzz(func(t *testing.T, in string, maxBytes int) {
		// Keep small bounds common so truncation is exercised.
		maxBytes %= 300
		checkCleanProperties(t, in, maxBytes)
	})
}

// TestCleanRandom builds names from pieces that interact in Clean (joiners
// next to emoji, dots and spaces near cuts, separators, invalid bytes), which
// byte-level fuzzing reaches only slowly.
func TestCleanRandom(t *testing.T) {
	pieces := []string{
		"a", "Z", "é", "日", "😀", "💻", "🏽", "\uFE0F", "\u0301", "خ", "\u200D", "\u200C",
		"\u202E", "\u200B", "\u00AD", "\U000E0041", ".", " ", "\u00A0", "\u3000", "/", `\`,
		"\x00", "\r\n", "\x85", "\xff", "\xe2\x82", ".pdf", ".tar.gz", `"`, "%", "'",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n := 5000
	if testing.Short() {
		n = 2000
	}
	for range n {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		in := b.String()
		maxBytes := rng.IntN(24)
		checkCleanProperties(t, in, maxBytes)
		checkHeader(t, "attachment", Clean(in, maxBytes))
	}
}
