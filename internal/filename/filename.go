// Package filename cleans client-supplied file names and encodes them in
// Content-Disposition headers.
//
// Client names are untrusted: they may carry path components, control
// characters, invisible or display-reordering Unicode, invalid UTF-8 and
// unbounded length. [Clean] turns any input into a name that is safe to store,
// to list and to echo back in a header. [ContentDisposition] writes a name into
// a response header per RFC 6266 and RFC 8187, and [FromContentDisposition]
// reads the name a client sent in a request header.
package filename

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultMaxBytes is the length bound [Clean] applies when given maxBytes <= 0.
// It is the NAME_MAX of common file systems.
const DefaultMaxBytes = 255

// maxExtBytes is the longest extension (dot included) that truncation keeps.
const maxExtBytes = 16

// Clean returns name made safe to store and to echo in headers, or "" if
// nothing is left. The result is at most maxBytes bytes long (maxBytes <= 0
// means [DefaultMaxBytes]).
//
// Clean, in order:
//
//   - replaces each run of invalid UTF-8 bytes with U+FFFD (so a mis-encoded
//     name stays visibly mis-encoded instead of silently losing letters);
//   - drops path components, treating both '/' and '\' as separators:
//     "../../etc/passwd" becomes "passwd", `C:\Users\x\a.txt` becomes "a.txt",
//     and "dir/" becomes "";
//   - removes control characters (C0, DEL, C1), line and paragraph separators
//     (U+2028, U+2029) and every Unicode format character (category Cf): the
//     bidirectional marks, embeddings, overrides and isolates, zero-width
//     space, word joiner, BOM, soft hyphen, tag characters and the like.
//     The one exception is the zero-width joiner and non-joiner (U+200D,
//     U+200C) when they stand between two non-ASCII letters, marks or symbols,
//     where they are part of real names: emoji sequences such as 👩‍💻 and
//     Persian or Indic words. Between ASCII characters, or at either end, they
//     are removed, so they cannot make two Latin names look alike;
//   - trims white space at both ends, and dots at the end (Windows drops
//     trailing dots and spaces, so "a.txt." and "a.txt" would be the same
//     file there); "." and ".." and names made only of dots and spaces become "".
//     Leading dots are kept: ".env" is a real name;
//   - bounds the length to maxBytes bytes, cutting at a rune boundary. When the
//     name has an extension of at most 16 bytes (dot included) the extension
//     is kept and the part before it is shortened instead, so a long
//     "report….pdf" still ends in ".pdf".
//
// Clean is idempotent, Clean(Clean(x, n), n) == Clean(x, n), and its result is
// always valid UTF-8 with no control characters, no '/' and no '\'. It does not
// normalize (NFC), fold case, or rename Windows device names (CON, NUL…):
// names are stored and shown, never used as paths.
func Clean(name string, maxBytes int) string {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	s := cleanOnce(name, maxBytes)
	// Every step only removes text from valid UTF-8, so the loop shrinks s
	// until it reaches a fixed point, normally after one more pass. Repeating
	// here is what makes Clean idempotent by construction: a cut or a trim can
	// leave, say, a joiner at the end that a later pass would remove.
	for range len(s) + 1 {
		t := cleanOnce(s, maxBytes)
		if t == s {
			break
		}
		s = t
	}
	return s
}

// cleanOnce applies each step of Clean once.
func cleanOnce(s string, maxBytes int) string {
	s = strings.ToValidUTF8(s, string(utf8.RuneError))
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = filterRunes(s)
	s = trim(s)
	if len(s) > maxBytes {
		s = trim(truncate(s, maxBytes))
	}
	return s
}

// trim removes white space at both ends and dots at the end.
func trim(s string) string {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	return strings.TrimRightFunc(s, func(r rune) bool {
		return r == '.' || unicode.IsSpace(r)
	})
}

// isJoiner reports whether r is the zero-width joiner or non-joiner.
func isJoiner(r rune) bool { return r == '\u200C' || r == '\u200D' }

// removed reports whether r is always removed by Clean.
func removed(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7F && r < 0xA0: // C0, DEL, C1
		return true
	case r == '\u2028', r == '\u2029': // line and paragraph separators (Zl, Zp)
		return true
	case isJoiner(r):
		return false // decided by context, see filterRunes
	case unicode.Is(unicode.Cf, r):
		return true
	}
	return false
}

// joinable reports whether a joiner next to r is part of a real name: r is a
// non-ASCII letter, mark or symbol (emoji are symbols, skin tones modifier
// symbols, and U+FE0F a mark).
func joinable(r rune) bool {
	return r >= utf8.RuneSelf && unicode.In(r, unicode.L, unicode.M, unicode.So, unicode.Sk)
}

// filterRunes removes the characters Clean removes. A joiner is kept only
// between the last kept rune and the next rune that is neither removed nor a
// joiner, when both are joinable.
func filterRunes(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	var prev rune = -1 // last rune written, -1 if none
	for i, r := range s {
		switch {
		case removed(r):
			continue
		case isJoiner(r):
			if prev < 0 || !joinable(prev) || !joinable(nextKept(s[i+utf8.RuneLen(r):])) {
				continue
			}
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

// nextKept returns the first rune of s that is not always removed, or -1.
// A joiner counts as such a rune (and is not joinable), so of a run of
// joiners at most the last one is kept.
func nextKept(s string) rune {
	for _, r := range s {
		if !removed(r) {
			return r
		}
	}
	return -1
}

// truncate shortens s to at most limit bytes at a rune boundary, keeping a short
// extension when there is one and something is left before it.
func truncate(s string, limit int) string {
	if dot := strings.LastIndexByte(s, '.'); dot > 0 {
		ext := s[dot:]
		if len(ext) <= maxExtBytes && len(ext) < limit {
			stem := trim(cutRunes(s[:dot], limit-len(ext)))
			if stem != "" {
				return stem + ext
			}
		}
	}
	return cutRunes(s, limit)
}

// cutRunes returns the longest prefix of s that is at most limit bytes long and
// ends at a rune boundary.
func cutRunes(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	for limit > 0 && !utf8.RuneStart(s[limit]) {
		limit--
	}
	return s[:limit]
}
