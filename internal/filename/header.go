package filename

import (
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// ContentDisposition returns a Content-Disposition header value per RFC 6266
// for a response carrying the file name.
//
// dispType is "inline" or "attachment"; anything else (compared without regard
// to case) is written as "attachment", the safe choice. An empty name gives
// the bare disposition type.
//
// The name is written twice, as RFC 6266 §4.3 and Appendix D recommend: first
// as an ASCII fallback for clients that know nothing else, then, unless the
// name is plain printable ASCII without '"', '\' and '%', in UTF-8 with RFC
// 8187 percent-encoding, which every current browser and Go's mime package
// prefer:
//
//	attachment; filename="Uber_ cafe.pdf"; filename*=UTF-8''%C3%9Cber%F0%9F%98%80%20caf%C3%A9.pdf
//
// The fallback stays human-readable: common Latin letters lose their accents
// (é becomes e), typographic quotes and dashes become ASCII ones, a double
// quote becomes a single one, and any other non-ASCII character, control
// character, '\' or '%' (which some clients percent-decode) becomes '_'.
//
// The result never contains control characters (so no CR or LF), for any
// name, and mime.ParseMediaType always accepts it. For a name returned by
// [Clean], the "filename" parameter that mime.ParseMediaType reports is the
// name exactly. The name is not cleaned here: pass a cleaned one.
func ContentDisposition(dispType, name string) string {
	t := "attachment"
	if strings.EqualFold(dispType, "inline") {
		t = "inline"
	}
	if name == "" {
		return t
	}
	fallback, exact := asciiFallback(name)
	var b strings.Builder
	b.Grow(len(t) + len(fallback) + 3*len(name) + 32)
	b.WriteString(t)
	b.WriteString(`; filename="`)
	b.WriteString(fallback)
	b.WriteByte('"')
	if !exact {
		b.WriteString("; filename*=UTF-8''")
		for i := 0; i < len(name); i++ {
			c := name[i]
			if isAttrChar(c) {
				b.WriteByte(c)
			} else {
				const hex = "0123456789ABCDEF"
				b.WriteByte('%')
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0x0F])
			}
		}
	}
	return b.String()
}

// isAttrChar reports whether c is an RFC 8187 attr-char, which appears
// unencoded in an ext-value.
func isAttrChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}

// asciiFallback returns the quoted-string content for the filename parameter,
// and whether it is exactly name (then filename* is not needed). The content
// is printable ASCII without '"', '\' and '%', so it needs no escaping.
func asciiFallback(name string) (fallback string, exact bool) {
	var b strings.Builder
	exact = true
	for len(name) > 0 {
		r, size := utf8.DecodeRuneInString(name)
		name = name[size:]
		switch {
		case r == utf8.RuneError && size <= 1: // invalid UTF-8
			b.WriteByte('_')
			exact = false
		case r >= 0x20 && r < 0x7F && r != '"' && r != '\\' && r != '%':
			b.WriteRune(r)
		default:
			b.WriteString(foldASCII(r))
			exact = false
		}
	}
	return b.String(), exact
}

// latin1 folds U+00C0 to U+00FF, one entry of up to two letters per rune
// separated by spaces; "_" where nothing fits (× and ÷).
var latin1 = strings.Fields(
	"A A A A A A AE C E E E E I I I I D N O O O O O _ O U U U U Y TH ss " +
		"a a a a a a ae c e e e e i i i i d n o o o o o _ o u u u u y th y")

// latinExtA folds U+0100 to U+017F in the same way.
var latinExtA = strings.Fields(
	"A a A a A a C c C c C c C c D d D d E e E e E e E e E e G g G g G g G g " +
		"H h H h I i I i I i I i I i IJ ij J j K k k L l L l L l L l L l N n N n " +
		"N n n N n O o O o O o OE oe R r R r R r S s S s S s S s T t T t T t " +
		"U u U u U u U u U u U u W w Y y Y Z z Z z Z z s")

// foldASCII returns a printable ASCII stand-in for a character the fallback
// cannot carry: an unaccented Latin letter, an ASCII quote, dash or space,
// or "_".
func foldASCII(r rune) string {
	switch {
	case r >= 0xC0 && r <= 0xFF:
		return latin1[r-0xC0]
	case r >= 0x100 && r <= 0x17F:
		return latinExtA[r-0x100]
	case r == '"', r == '\u2018', r == '\u2019', r == '\u201A', r == '\u201B',
		r == '\u201C', r == '\u201D', r == '\u201E', r == '\u201F', r == '\u00AB', r == '\u00BB':
		return "'"
	case r >= '\u2010' && r <= '\u2015', r == '\u2212':
		return "-"
	case r == '\u2026':
		return "..."
	case r == '\u00A0', r == '\u202F', r >= '\u2000' && r <= '\u200A', r == '\u3000':
		return " "
	}
	return "_"
}

// FromContentDisposition extracts the file name a client sent in a
// Content-Disposition request header (raw-body uploads), such as
// `attachment; filename="a.txt"` or `inline; filename*=UTF-8”%C3%A9.txt`.
// Any disposition type is accepted (attachment, inline, form-data…).
//
// mime.ParseMediaType parses the header, so this package agrees with
// net/http and mime/multipart on what is malformed, and decodes it: quoted
// strings (a backslash escapes only a special character, so an unescaped
// Windows path survives), filename* (RFC 8187) in UTF-8 or US-ASCII,
// preferred over filename, and RFC 2231 continuations (filename*0*,
// filename*1, …). Two things mime does not do are added here:
//
//   - a filename* (or filename*0*) in ISO-8859-1, a charset RFC 8187 §3.2.1
//     requires recipients to support and mime drops silently, is decoded as
//     browsers and the WHATWG Encoding Standard do, as windows-1252, its
//     superset (the five bytes it leaves undefined become U+FFFD);
//   - a filename* that decodes to nothing (empty, another charset, bad
//     percent-encoding) gives way to filename, where mime would report "".
//
// Continuations are joined as mime joins them: a part it cannot decode is
// left out, the others kept.
//
// It returns ("", nil) when the header is empty or has no file name, and an
// error when the header is malformed. The result is NOT cleaned: pass it to
// [Clean].
func FromContentDisposition(header string) (string, error) {
	if strings.TrimSpace(header) == "" {
		return "", nil
	}
	if _, _, err := mime.ParseMediaType(header); err != nil {
		return "", fmt.Errorf("filename: malformed Content-Disposition: %w", err)
	}
	// The file name's parameters go to mime again, apart from the others:
	// the extended ones (filename*, filename*0…) with an ISO-8859-1 charset
	// renamed US-ASCII, which mime decodes to the raw bytes, and filename.
	ext, plain := "x", "x"
	var latin1, latin1Part0, single bool
	for _, p := range splitParams(header) {
		key, value, _ := strings.Cut(p, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		switch {
		case key == "filename":
			plain += ";" + p
		case key == "filename*", key == "filename*0*":
			var isLatin1 bool
			value, isLatin1 = asUSASCII(value)
			if key == "filename*" {
				single, latin1 = true, isLatin1
			} else {
				latin1Part0 = isLatin1
			}
			ext += "; " + key + "=" + value
		case strings.HasPrefix(key, "filename*"):
			ext += ";" + p
		}
	}
	if !single { // mime reads continuations only without filename*
		latin1 = latin1Part0
	}
	if _, params, err := mime.ParseMediaType(ext); err == nil && params["filename"] != "" {
		name := params["filename"]
		if latin1 {
			b, _ := charmap.Windows1252.NewDecoder().String(name) // never fails
			return b, nil
		}
		return name, nil
	}
	_, params, err := mime.ParseMediaType(plain)
	if err != nil {
		return "", fmt.Errorf("filename: malformed Content-Disposition: %w", err)
	}
	return params["filename"], nil
}

// asUSASCII returns an RFC 8187 ext-value (possibly quoted, as mime allows)
// with an ISO-8859-1 charset label replaced by US-ASCII, and whether it was
// replaced. mime's US-ASCII decoding only percent-decodes, so the bytes come
// out as sent, to be converted from windows-1252.
func asUSASCII(value string) (string, bool) {
	value = strings.TrimSpace(value)
	quote := ""
	if strings.HasPrefix(value, `"`) {
		quote, value = `"`, value[1:]
	}
	charset, rest, ok := strings.Cut(value, "'")
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "windows-1252":
		if ok {
			return quote + "us-ascii'" + rest, true
		}
	}
	return quote + value, false
}

// splitParams returns the parameters of a header that mime.ParseMediaType has
// accepted, as they are written: the text between the semicolons outside
// quoted strings, after the first. Inside a quoted string a backslash
// escapes the character after it only when that is special, as in mime.
func splitParams(header string) []string {
	var out []string
	start, quoted := -1, false
	for i := 0; i < len(header); i++ {
		switch c := header[i]; {
		case quoted && c == '\\' && i+1 < len(header) && strings.IndexByte(`()<>@,;:\"/[]?=`, header[i+1]) >= 0:
			i++
		case c == '"':
			quoted = !quoted
		case c == ';' && !quoted:
			if start >= 0 {
				out = append(out, header[start:i])
			}
			start = i + 1
		}
	}
	if start >= 0 {
		out = append(out, header[start:])
	}
	return out
}
