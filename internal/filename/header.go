package filename

import (
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
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
// filename* (RFC 8187) is preferred over filename. Its charset may be UTF-8,
// US-ASCII or ISO-8859-1 (decoded, as browsers and the WHATWG Encoding
// Standard do, as windows-1252, its superset); a filename* that cannot be
// decoded (another charset, bad percent-encoding) is ignored in favour of
// filename. RFC 2231 continuations (filename*0*, filename*1, …) are joined.
//
// It returns ("", nil) when the header is empty or has no file name, and an
// error when the header is malformed. The result is NOT cleaned: pass it to
// [Clean].
func FromContentDisposition(header string) (string, error) {
	if strings.TrimSpace(header) == "" {
		return "", nil
	}
	// mime.ParseMediaType is the arbiter of well-formedness, so this package
	// agrees with net/http and mime/multipart on what is malformed. It cannot
	// be the only parser: it silently drops a filename* in ISO-8859-1.
	if _, _, err := mime.ParseMediaType(header); err != nil {
		return "", fmt.Errorf("filename: malformed Content-Disposition: %w", err)
	}
	params, err := rawParams(header)
	if err != nil {
		return "", err
	}
	if v, ok := params["filename*"]; ok {
		if name, ok := decodeExtValue(v); ok && name != "" {
			return name, nil
		}
	} else if name, ok := continuation(params); ok && name != "" {
		return name, nil
	}
	return params["filename"], nil
}

// continuation joins RFC 2231 continuation parameters filename*0, filename*1…
// (each optionally with a trailing '*' for an encoded part), and reports
// whether there were any that could be decoded.
func continuation(params map[string]string) (string, bool) {
	var raw strings.Builder // percent-encoded bytes, in the charset of part 0
	charset := ""
	for n := 0; ; n++ {
		key := "filename*" + strconv.Itoa(n)
		if v, ok := params[key]; ok {
			raw.WriteString(percentEscape(v))
			continue
		}
		v, ok := params[key+"*"]
		if !ok {
			if n == 0 {
				return "", false
			}
			break
		}
		if n == 0 {
			var rest string
			charset, rest, ok = splitExtValue(v)
			if !ok {
				return "", false
			}
			v = rest
		}
		raw.WriteString(v)
	}
	if charset == "" {
		charset = "us-ascii" // no encoded part 0: plain US-ASCII parts
	}
	return decode(charset, raw.String())
}

// percentEscape percent-encodes '%' so that s survives percentUnescape.
func percentEscape(s string) string { return strings.ReplaceAll(s, "%", "%25") }

// decodeExtValue decodes an RFC 8187 ext-value: charset'[language]'value-chars.
func decodeExtValue(v string) (string, bool) {
	charset, rest, ok := splitExtValue(v)
	if !ok {
		return "", false
	}
	return decode(charset, rest)
}

// splitExtValue splits an ext-value into its charset and its encoded value,
// dropping the language tag.
func splitExtValue(v string) (charset, rest string, ok bool) {
	charset, rest, ok = strings.Cut(v, "'")
	if !ok {
		return "", "", false
	}
	_, rest, ok = strings.Cut(rest, "'")
	return charset, rest, ok
}

// decode percent-decodes s and converts the bytes from charset to UTF-8.
func decode(charset, s string) (string, bool) {
	b, ok := percentUnescape(s)
	if !ok {
		return "", false
	}
	switch strings.ToLower(charset) {
	case "utf-8", "us-ascii":
		// Returned as sent, invalid bytes included: Clean replaces them.
		return string(b), true
	case "iso-8859-1", "latin1", "windows-1252":
		return decodeWindows1252(b), true
	}
	return "", false
}

// percentUnescape decodes %XX escapes; it fails on a malformed escape.
func percentUnescape(s string) ([]byte, bool) {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return nil, false
			}
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		}
		b = append(b, c)
	}
	return b, true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// cp1252 maps bytes 0x80 to 0x9F of windows-1252; the five undefined ones map
// to the C1 control of the same value, as in the WHATWG Encoding Standard.
var cp1252 = [32]rune{
	'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8D, 'Ž', 0x8F,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9D, 'ž', 'Ÿ',
}

// decodeWindows1252 converts windows-1252 (the superset of ISO-8859-1 that
// browsers use for that label) to UTF-8.
func decodeWindows1252(b []byte) string {
	var s strings.Builder
	s.Grow(len(b) * 2)
	for _, c := range b {
		if c >= 0x80 && c <= 0x9F {
			s.WriteRune(cp1252[c-0x80])
		} else {
			s.WriteRune(rune(c))
		}
	}
	return s.String()
}

var errMalformed = errors.New("filename: malformed Content-Disposition parameters")

// rawParams returns the parameters of a Content-Disposition header, keys in
// lower case, values unquoted but not otherwise decoded. It follows the
// grammar of mime.ParseMediaType, which has already accepted the header.
func rawParams(header string) (map[string]string, error) {
	params := make(map[string]string)
	_, v, _ := strings.Cut(header, ";")
	for {
		v = strings.TrimLeftFunc(v, unicode.IsSpace)
		if v == "" {
			return params, nil
		}
		if v[0] == ';' { // empty parameter; mime tolerates only a trailing one
			v = v[1:]
			continue
		}
		var key, value string
		key, v = consumeToken(v)
		v = strings.TrimLeftFunc(v, unicode.IsSpace)
		if key == "" || !strings.HasPrefix(v, "=") {
			return nil, errMalformed
		}
		v = strings.TrimLeftFunc(v[1:], unicode.IsSpace)
		var ok bool
		if value, v, ok = consumeValue(v); !ok {
			return nil, errMalformed
		}
		params[strings.ToLower(key)] = value
		v = strings.TrimLeftFunc(v, unicode.IsSpace)
		if v != "" {
			if v[0] != ';' {
				return nil, errMalformed
			}
			v = v[1:]
		}
	}
}

// isTSpecial reports whether c is an RFC 2045 tspecial.
func isTSpecial(c byte) bool { return strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 }

// isTokenChar reports whether c may appear in an RFC 2045 token.
func isTokenChar(c byte) bool { return c > 0x20 && c < 0x7F && !isTSpecial(c) }

// consumeToken splits v after its leading token.
func consumeToken(v string) (token, rest string) {
	i := 0
	for i < len(v) && isTokenChar(v[i]) {
		i++
	}
	return v[:i], v[i:]
}

// consumeValue splits v after its leading token or quoted-string, unquoting
// the latter as mime.ParseMediaType does: a backslash escapes only a tspecial
// (so an unescaped Windows path survives).
func consumeValue(v string) (value, rest string, ok bool) {
	if v == "" {
		return "", v, false
	}
	if v[0] != '"' {
		value, rest = consumeToken(v)
		return value, rest, value != ""
	}
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"':
			return b.String(), v[i+1:], true
		case c == '\\' && i+1 < len(v) && isTSpecial(v[i+1]):
			b.WriteByte(v[i+1])
			i++
		case c == '\r' || c == '\n':
			return "", v, false
		default:
			b.WriteByte(c)
		}
	}
	return "", v, false
}
