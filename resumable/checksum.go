package resumable

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"strings"

	"github.com/attachkit/attachment"
)

// ChecksumAlgorithms is the Tus-Checksum-Algorithm header: the
// algorithms an Upload-Checksum may name.
const ChecksumAlgorithms = "sha1,md5,sha256"

// StatusChecksumMismatch is the status tus answers a PATCH whose bytes
// do not match its Upload-Checksum with (460 Checksum Mismatch).
const StatusChecksumMismatch = 460

// ParseChecksum decodes an Upload-Checksum header value: an algorithm of
// ChecksumAlgorithms, one space, and the digest in standard base64
// (padded), of the algorithm's size. It returns the checksum an append
// must match, with a new hash of the algorithm.
func ParseChecksum(v string) (*attachment.Checksum, error) {
	algo, enc, ok := strings.Cut(v, " ")
	if !ok {
		return nil, errors.New("Upload-Checksum must be an algorithm and a base64 digest")
	}
	var h hash.Hash
	switch algo {
	case "sha1":
		h = sha1.New()
	case "md5":
		h = md5.New()
	case "sha256":
		h = sha256.New()
	default:
		return nil, errors.New("Upload-Checksum names an algorithm not among " + ChecksumAlgorithms)
	}
	sum, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil || len(sum) != h.Size() {
		return nil, errors.New("Upload-Checksum's digest is not the base64 of a " + algo + " digest")
	}
	return &attachment.Checksum{Hash: h, Sum: sum}, nil
}
