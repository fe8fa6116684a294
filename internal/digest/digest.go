// Package digest reads the digests a client expects an uploaded file to have,
// from the Content-Digest (RFC 9530) and Content-MD5 (RFC 1864) headers.
//
// An upload handler reads a request's or a multipart part's header with
// [FromHeader] before reading the body, and hands the expected digests to the
// storage layer, which checks them as the body streams:
//
//	exp, err := digest.FromHeader(textproto.MIMEHeader(r.Header))
//	if err != nil { ... 400 bad_request ... }
package digest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/textproto"
	"strings"

	"github.com/dunglas/httpsfv"
)

// ErrMalformed is wrapped by every error [Parse] returns: a header is not
// well-formed, or a digest it carries has the wrong length.
var ErrMalformed = errors.New("digest: malformed digest header")

// Expected is what a client said a file's digests must be. Nil fields were not
// sent.
type Expected struct {
	// SHA256 is the 32-byte SHA-256 from Content-Digest's sha-256 member.
	SHA256 []byte
	// MD5 is the 16-byte MD5 from Content-MD5.
	MD5 []byte
}

// FromHeader reads the Content-Digest and Content-MD5 fields of h, a
// request's header or a multipart part's (an http.Header converts to it).
// Every field line counts: a field sent on several lines is read as their
// values joined with ", ", as RFC 9110 §5.3 combines them, so a sha-256 on a
// second Content-Digest line is checked like one on the first (RFC 9651 §4.2
// parses the combined value), and a second Content-MD5 line, which that
// singleton field may not have, makes the header malformed. Empty lines are
// left out, as if not sent.
func FromHeader(h textproto.MIMEHeader) (Expected, error) {
	return Parse(combine(h.Values("Content-Digest")), combine(h.Values("Content-MD5")))
}

// combine joins the non-empty values of a field's lines with ", ".
func combine(lines []string) string {
	kept := make([]string, 0, len(lines))
	for _, l := range lines {
		if strings.Trim(l, " \t") != "" {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, ", ")
}

// Parse reads the Content-Digest and Content-MD5 header values; either may be
// "" when the header was not sent. A Content-Digest sent on several field
// lines must be joined with ", " first, as HTTP combines them: [FromHeader]
// does so.
//
// Content-Digest is an RFC 9651 Structured Fields Dictionary, parsed as one
// by github.com/dunglas/httpsfv, strictly: keys are lowercase, byte sequences
// are :base64: with their "=" padding, parameters may follow values, optional
// white space surrounds commas, and anything else is an error. Only its
// sha-256 member is used; other algorithms, whatever their values, are
// ignored as RFC 9530 §2 requires (md5 and sha among them: RFC 9530
// deprecates them, and Content-MD5 is the header for MD5). When a key
// repeats, the last one counts (RFC 9651 §4.2.2).
//
// Content-MD5 is the base64 of 16 bytes, with or without its "==" padding.
//
// Every error wraps [ErrMalformed]: a header that does not parse, a sha-256
// that is not a byte sequence of 32 bytes, or a Content-MD5 that is not the
// base64 of 16 bytes.
func Parse(contentDigest, contentMD5 string) (Expected, error) {
	var e Expected
	if s := strings.Trim(contentDigest, " \t"); s != "" {
		dict, err := httpsfv.UnmarshalDictionary([]string{s})
		if err != nil {
			return Expected{}, fmt.Errorf("%w: Content-Digest: %v", ErrMalformed, err)
		}
		if m, ok := dict.Get("sha-256"); ok {
			item, _ := m.(httpsfv.Item)
			sum, ok := item.Value.([]byte)
			if !ok {
				return Expected{}, fmt.Errorf("%w: Content-Digest: sha-256 is not a byte sequence", ErrMalformed)
			}
			if len(sum) != 32 {
				return Expected{}, fmt.Errorf("%w: Content-Digest: sha-256 has %d bytes, not 32", ErrMalformed, len(sum))
			}
			e.SHA256 = sum
		}
	}
	if s := strings.Trim(contentMD5, " \t"); s != "" {
		sum, err := parseMD5(s)
		if err != nil {
			return Expected{}, fmt.Errorf("%w: Content-MD5: %v", ErrMalformed, err)
		}
		e.MD5 = sum
	}
	return e, nil
}

// parseMD5 decodes the base64 of 16 bytes, padded (24 characters) or not (22).
func parseMD5(s string) ([]byte, error) {
	enc := base64.StdEncoding
	switch {
	case len(s) == 22:
		enc = base64.RawStdEncoding
	case len(s) != 24:
		return nil, fmt.Errorf("%d characters, want the base64 of 16 bytes", len(s))
	}
	for i := 0; i < len(s); i++ {
		// The decoder skips CR and LF; nothing but the alphabet may pass.
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '=') {
			return nil, fmt.Errorf("invalid base64 character %q", s[i])
		}
	}
	sum, err := enc.DecodeString(s)
	if err != nil {
		return nil, err
	}
	if len(sum) != 16 {
		return nil, fmt.Errorf("%d bytes, want 16", len(sum))
	}
	return sum, nil
}
