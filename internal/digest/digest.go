// Package digest reads the digests a client expects an uploaded file to have,
// from the Content-Digest (RFC 9530) and Content-MD5 (RFC 1864) headers, and
// checks computed digests against them.
//
// A typical upload handler parses the headers before reading the body,
// computes SHA-256 always and MD5 only when [Expected.WantsMD5] says so, and
// calls [Expected.Check] once the body has been read in full:
//
//	exp, err := digest.Parse(strings.Join(h.Values("Content-Digest"), ", "), h.Get("Content-MD5"))
//	if err != nil { ... 400 bad_request ... }
//	...
//	if err := exp.Check(sum256, sumMD5); errors.Is(err, digest.ErrMismatch) { ... 400 checksum_mismatch ... }
package digest

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// ErrMalformed is wrapped by every error [Parse] returns: a header is not
// well-formed, or a digest it carries has the wrong length.
var ErrMalformed = errors.New("digest: malformed digest header")

// ErrMismatch is wrapped by the error [Expected.Check] returns when a computed
// digest differs from the expected one.
var ErrMismatch = errors.New("digest: content does not match the expected digest")

// Expected is what a client said a file's digests must be. Nil fields were not
// sent.
type Expected struct {
	// SHA256 is the 32-byte SHA-256 from Content-Digest's sha-256 member.
	SHA256 []byte
	// MD5 is the 16-byte MD5 from Content-MD5.
	MD5 []byte
}

// Parse reads the Content-Digest and Content-MD5 header values; either may be
// "" when the header was not sent. A Content-Digest sent on several field
// lines must be joined with ", " first, as HTTP combines them.
//
// Content-Digest is an RFC 8941 (RFC 9651) Structured Fields Dictionary and is
// parsed as one, strictly: keys are lowercase, byte sequences are :base64:,
// parameters may follow values, optional white space surrounds commas, and
// anything else is an error. Only its sha-256 member is used; other
// algorithms, whatever their values, are ignored as RFC 9530 §2 requires
// (md5 and sha among them: RFC 9530 deprecates them, and Content-MD5 is the
// header for MD5). When a key repeats, the last one counts (RFC 8941 §4.2.2).
//
// Content-MD5 is the base64 of 16 bytes, with or without its "==" padding.
//
// Every error wraps [ErrMalformed]: a header that does not parse, a sha-256
// that is not a byte sequence of 32 bytes, or a Content-MD5 that is not the
// base64 of 16 bytes.
func Parse(contentDigest, contentMD5 string) (Expected, error) {
	var e Expected
	dict, err := parseDictionary(contentDigest)
	if err != nil {
		return Expected{}, fmt.Errorf("%w: Content-Digest: %v", ErrMalformed, err)
	}
	if v, ok := dict["sha-256"]; ok {
		if v.kind != kindBytes {
			return Expected{}, fmt.Errorf("%w: Content-Digest: sha-256 is not a byte sequence", ErrMalformed)
		}
		if len(v.bytes) != 32 {
			return Expected{}, fmt.Errorf("%w: Content-Digest: sha-256 has %d bytes, not 32", ErrMalformed, len(v.bytes))
		}
		e.SHA256 = v.bytes
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
		if !isBase64Char(s[i]) {
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

// Empty reports whether nothing is expected.
func (e Expected) Empty() bool { return e.SHA256 == nil && e.MD5 == nil }

// WantsMD5 reports whether an MD5 must be computed for [Expected.Check].
func (e Expected) WantsMD5() bool { return e.MD5 != nil }

// Check compares the computed digests with the expected ones, in constant
// time. sha256 must always be given; md5 may be nil unless
// [Expected.WantsMD5]. A mismatch returns an error wrapping [ErrMismatch] that
// names the algorithm. A digest that is expected but was not computed is a
// programming error, reported by an error that does not wrap ErrMismatch.
func (e Expected) Check(sha256, md5 []byte) error {
	if e.SHA256 != nil {
		if len(sha256) != 32 {
			return fmt.Errorf("digest: computed sha-256 has %d bytes, not 32", len(sha256))
		}
		if subtle.ConstantTimeCompare(e.SHA256, sha256) != 1 {
			return fmt.Errorf("%w (sha-256)", ErrMismatch)
		}
	}
	if e.MD5 != nil {
		if len(md5) != 16 {
			return fmt.Errorf("digest: computed md5 has %d bytes, not 16", len(md5))
		}
		if subtle.ConstantTimeCompare(e.MD5, md5) != 1 {
			return fmt.Errorf("%w (md5)", ErrMismatch)
		}
	}
	return nil
}
