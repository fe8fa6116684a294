package filename

import (
	"mime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestContentDisposition(t *testing.T) {
	tests := []struct {
		name, typ, in, want string
	}{
		{"ascii", "attachment", "report.pdf", `attachment; filename="report.pdf"`},
		{"inline", "inline", "a.png", `inline; filename="a.png"`},
		{"inline any case", "INLINE", "a.png", `inline; filename="a.png"`},
		{"unknown type is attachment", "form-data\r\nX: y", "a.png", `attachment; filename="a.png"`},
		{"empty type is attachment", "", "a.png", `attachment; filename="a.png"`},
		{"empty name", "attachment", "", `attachment`},
		{"spaces and specials stay in quotes", "attachment", "a b;c=d,(e).txt", `attachment; filename="a b;c=d,(e).txt"`},
		{"doc example", "attachment", "Über😀 café.pdf",
			`attachment; filename="Uber_ cafe.pdf"; filename*=UTF-8''%C3%9Cber%F0%9F%98%80%20caf%C3%A9.pdf`},
		{"double quote", "attachment", `say "hi".txt`,
			`attachment; filename="say 'hi'.txt"; filename*=UTF-8''say%20%22hi%22.txt`},
		{"percent", "attachment", "100%.txt",
			`attachment; filename="100_.txt"; filename*=UTF-8''100%25.txt`},
		{"backslash (uncleaned)", "attachment", `a\b`,
			`attachment; filename="a_b"; filename*=UTF-8''a%5Cb`},
		{"CRLF (uncleaned)", "attachment", "a\r\nb",
			`attachment; filename="a__b"; filename*=UTF-8''a%0D%0Ab`},
		{"invalid UTF-8 (uncleaned)", "attachment", "a\xffb",
			`attachment; filename="a_b"; filename*=UTF-8''a%FFb`},
		{"attr-chars unencoded", "attachment", "é!#$&+-.^_`|~", "attachment; filename=\"e!#$&+-.^_`|~\"; filename*=UTF-8''%C3%A9!#$&+-.^_`|~"},
		{"other specials encoded", "attachment", "é'*()<>@,;:/[]?={} ", `attachment; filename="e'*()<>@,;:/[]?={} "; filename*=UTF-8''%C3%A9%27%2A%28%29%3C%3E%40%2C%3B%3A%2F%5B%5D%3F%3D%7B%7D%20`},
		{"typography folded", "attachment", "“Notes” – draft…", `attachment; filename="'Notes' - draft..."; filename*=UTF-8''%E2%80%9CNotes%E2%80%9D%20%E2%80%93%20draft%E2%80%A6`},
		{"cjk", "attachment", "日本.txt", `attachment; filename="__.txt"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ContentDisposition(tt.typ, tt.in)
			assert.Equal(t, tt.want, got)
			typ, params, err := mime.ParseMediaType(got)
			require.NoError(t, err)
			assert.Contains(t, []string{"attachment", "inline"}, typ)
			if tt.in != "" && Clean(tt.in, 0) == tt.in {
				assert.Equal(t, tt.in, params["filename"])
			}
		})
	}
}

func TestFromContentDisposition(t *testing.T) {
	tests := []struct {
		name, header, want string
		wantErr            bool
	}{
		{"empty header", "", "", false},
		{"no filename", "attachment", "", false},
		{"no filename with params", `inline; name="x"`, "", false},
		{"quoted", `attachment; filename="a b.txt"`, "a b.txt", false},
		{"token", `attachment; filename=a.txt`, "a.txt", false},
		{"empty quoted", `attachment; filename=""`, "", false},
		{"case insensitive key", `attachment; FileName="a.txt"`, "a.txt", false},
		{"escaped quote", `attachment; filename="say \"hi\".txt"`, `say "hi".txt`, false},
		{"MSIE unescaped path", `attachment; filename="C:\dev\a.txt"`, `C:\dev\a.txt`, false},
		{"raw UTF-8 in quotes", `attachment; filename="café.txt"`, "café.txt", false},
		{"form-data", `form-data; name="file"; filename="a.txt"`, "a.txt", false},
		{"utf-8 ext", `attachment; filename*=UTF-8''%C3%A9t%C3%A9.txt`, "été.txt", false},
		{"utf-8 ext lower case charset and language", `attachment; filename*=utf-8'fr'%C3%A9t%C3%A9.txt`, "été.txt", false},
		{"ext preferred after", `attachment; filename="ete.txt"; filename*=UTF-8''%C3%A9t%C3%A9.txt`, "été.txt", false},
		{"ext preferred before", `attachment; filename*=UTF-8''%C3%A9t%C3%A9.txt; filename="ete.txt"`, "été.txt", false},
		{"iso-8859-1 ext", `attachment; filename*=iso-8859-1'en'%A3%20rates.txt`, "£ rates.txt", false},
		{"iso-8859-1 ext with fallback", `attachment; filename="EURO rates"; filename*=ISO-8859-1''%80%20rates`, "€ rates", false},
		{"iso-8859-1 ext windows-1252 range", `attachment; filename*=ISO-8859-1''%93q%94%81`, "“q”\uFFFD", false},
		{"latin1 label", `attachment; filename*=latin1''%E9`, "é", false},
		{"iso-8859-1 ext quoted", `attachment; filename*="iso-8859-1''%E9.txt"`, "é.txt", false},
		{"iso-8859-1 after a quoted semicolon", `attachment; filename="a;b.txt"; filename*=iso-8859-1''%E9`, "é", false},
		{"ext text inside a quoted string is no parameter", `attachment; filename="x\";filename*=iso-8859-1''%E9"`, `x";filename*=iso-8859-1''%E9`, false},
		{"escaped backslash before the closing quote", `attachment; filename="a\\"; filename*=iso-8859-1''%E9`, "é", false},
		{"utf-8 ext, latin-1 continuations unused", `attachment; filename*=UTF-8''%C3%A9; filename*0*=iso-8859-1''%E9x`, "é", false},
		{"latin-1 ext, utf-8 continuations unused", `attachment; filename*=iso-8859-1''%E9; filename*0*=UTF-8''%C3%A9x`, "é", false},
		{"us-ascii ext", `attachment; filename*=us-ascii''a%20b`, "a b", false},
		{"unknown charset falls back", `attachment; filename="a.txt"; filename*=koi8-r''%C1`, "a.txt", false},
		{"unknown charset without fallback", `attachment; filename*=koi8-r''%C1`, "", false},
		{"bad percent falls back", `attachment; filename="a.txt"; filename*=UTF-8''%G1`, "a.txt", false},
		{"missing quote in ext falls back", `attachment; filename="a.txt"; filename*=UTF-8'%C3%A9`, "a.txt", false},
		{"empty ext falls back", `attachment; filename="a.txt"; filename*=UTF-8''`, "a.txt", false},
		{"continuations", `attachment; filename*0="long "; filename*1="name.txt"`, "long name.txt", false},
		{"encoded continuations", `attachment; filename*0*=UTF-8''%C3%A9t; filename*1*=%C3%A9; filename*2=.txt`, "été.txt", false},
		{"latin-1 continuations", `attachment; filename*0*=iso-8859-1''%E9t; filename*1*=%E9.txt`, "été.txt", false},
		{"percent in plain continuation", `attachment; filename*0*=UTF-8''a; filename*1="100%.txt"`, "a100%.txt", false},
		{"continuation gap ignored", `attachment; filename*0="a"; filename*2="c"`, "a", false},
		{"continuation bad charset falls back", `attachment; filename="x"; filename*0*=koi8-r''%C1`, "x", false},
		{"upper-case keys", `attachment; FILENAME*0*=UTF-8''%C3%A9; FileName*1=x`, "éx", false},
		{"invalid UTF-8 returned as sent", `attachment; filename*=UTF-8''%FF.txt`, "\xff.txt", false},
		{"trailing semicolon", `attachment; filename="a.txt";`, "a.txt", false},
		{"no type", `filename="a.txt"`, "", true},
		{"unterminated quote", `attachment; filename="a.txt`, "", true},
		{"garbage param", `attachment; filename`, "", true},
		{"double semicolon", `attachment;; filename=a`, "", true},
		{"conflicting duplicates", `attachment; filename=a; filename=b`, "", true},
		{"CRLF in quotes", "attachment; filename=\"a\r\nb\"", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromContentDisposition(tt.header)
			if tt.wantErr {
				assert.Error(t, err)
				assert.Empty(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// checkAgainstMime asserts that FromContentDisposition agrees with
// mime.ParseMediaType, which it delegates to, except where it documents
// otherwise: it refuses exactly the headers mime refuses, and its name is
// mime's "filename" unless mime's is empty (filename* decoded to nothing and
// filename is used) or the header has an ISO-8859-1 charset label.
func checkAgainstMime(t *testing.T, header string) {
	t.Helper()
	got, err := FromContentDisposition(header)
	if strings.TrimSpace(header) == "" {
		require.NoError(t, err)
		require.Empty(t, got)
		return
	}
	_, params, merr := mime.ParseMediaType(header)
	if merr != nil {
		require.Error(t, err, "%q: mime refuses it (%v)", header, merr)
		require.Empty(t, got)
		return
	}
	require.NoError(t, err, "%q: mime accepts it", header)
	want := params["filename"]
	if got == want {
		return
	}
	lower := strings.ToLower(header)
	latin1 := strings.Contains(lower, "iso-8859-1'") || strings.Contains(lower, "latin1'") || strings.Contains(lower, "windows-1252'")
	require.True(t, want == "" || latin1, "%q: got %q, mime %q", header, got, want)
	if !strings.Contains(lower, "filename*") {
		require.Equal(t, want, got, "%q: no extended parameter", header)
	}
}

func TestFromContentDispositionAgainstMime(t *testing.T) {
	for _, h := range []string{
		"", " ", "attachment", `attachment; filename="a.txt"`, `attachment; filename=a.txt`,
		`attachment; filename="a;b.txt"`, `attachment; filename="a\"b"; x=1`, `attachment; filename="C:\dev\a.txt"`,
		`attachment; filename*=UTF-8''%C3%A9.txt; filename="e.txt"`, `attachment; filename*=UTF-8''; filename="e.txt"`,
		`attachment; filename*=iso-8859-1''%E9.txt; filename="e.txt"`, `attachment; filename*=koi8-r''%C1; filename="e.txt"`,
		`attachment; filename*=UTF-8''%G1; filename="e.txt"`, `attachment; filename*0="a"; filename*1="b"`,
		`attachment; filename*0*=UTF-8''%C3%A9; filename*1*=%C3%A9; filename*2=x`, `attachment; filename*0*=koi8-r''%C1; filename*1=x`,
		`attachment; filename="a"; filename="b"`, `attachment; filename="a"; filename="a"`, `attachment;; filename=a`,
		`attachment; filename="a`, `a/b; filename=x`, "attachment; filename=\"a\r\nb\"", `attachment; filename=café`,
		`attachment; filename = "spaced" ; other = 1 ;`, `form-data; name="f"; filename="x"; filename*="UTF-8''%C3%A9"`,
	} {
		checkAgainstMime(t, h)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, in := range []string{
		"a.txt", "Über café.pdf", `say "hi" 100%.txt`, "👩\u200D💻.png", "日本語.txt",
		"a'b*c.txt", "  padded  ", "x\x00y", `C:\a\b.txt`, "\u202Eevil",
	} {
		name := Clean(in, 0)
		h := ContentDisposition("attachment", name)
		got, err := FromContentDisposition(h)
		require.NoError(t, err, h)
		assert.Equal(t, name, got, h)
		_, params, err := mime.ParseMediaType(h)
		require.NoError(t, err, h)
		assert.Equal(t, name, params["filename"], h)
	}
}

// checkHeader asserts the guarantees of ContentDisposition for any name.
func checkHeader(t *testing.T, typ, name string) {
	t.Helper()
	h := ContentDisposition(typ, name)
	for i := 0; i < len(h); i++ {
		c := h[i]
		require.True(t, c >= 0x20 && c < 0x7F, "byte %#x at %d in %q", c, i, h)
	}
	mt, params, err := mime.ParseMediaType(h)
	require.NoError(t, err, "%q", h)
	require.Contains(t, []string{"attachment", "inline"}, mt)
	if name != "" && Clean(name, len(name)+1) == name {
		require.Equal(t, name, params["filename"], "%q", h)
		got, err := FromContentDisposition(h)
		require.NoError(t, err)
		require.Equal(t, name, got, "%q", h)
	}
	fallback, _, _ := strings.Cut(strings.TrimPrefix(h, mt+`; filename="`), `"`)
	require.NotContains(t, fallback, `\`)
	require.NotContains(t, fallback, "%")
}

func FuzzContentDisposition(f *testing.F) {
	for _, s := range []string{
		"", "a.txt", "Über café.pdf", `say "hi" 100%.txt`, "a\r\nb", "a\xffb", `a\b`,
		"👩\u200D💻.png", "; filename=evil", "=?utf-8?q?x?=",
	} {
		f.Add("attachment", s)
		f.Add("inline", s)
	}
	f.Fuzz(func(t *testing.T, typ, name string) {
		checkHeader(t, typ, name)
		checkHeader(t, typ, Clean(name, 0))
	})
}

func FuzzFromContentDisposition(f *testing.F) {
	for _, s := range []string{
		"", "attachment", `attachment; filename="a.txt"`,
		`attachment; filename*=UTF-8''%C3%A9t%C3%A9.txt; filename="ete.txt"`,
		`attachment; filename*=iso-8859-1'en'%A3%20rates.txt`,
		`attachment; filename*0*=UTF-8''%C3%A9t; filename*1*=%C3%A9; filename*2=.txt`,
		`attachment; filename="C:\dev\a.txt"`, `form-data; name="f"; filename="x"`,
		`attachment; filename="a`, "attachment;;", "a/b; c=d",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		checkAgainstMime(t, header)
		// The header is arbitrary; as a name it must survive the trip
		// through Clean and ContentDisposition.
		name := Clean(header, 0)
		h := ContentDisposition("attachment", name)
		back, err := FromContentDisposition(h)
		require.NoError(t, err, "%q", h)
		require.Equal(t, name, back, "%q", h)
	})
}
