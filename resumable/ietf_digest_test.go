package resumable_test

import (
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// On an append, or a creation that does not hold the whole file,
// Content-Digest (or Content-MD5) covers that request's content: content
// that does not match is 400 checksum_mismatch and discarded, the offset
// stays, and the right content then goes on to a byte-exact file.
func TestIETFAppendContentDigest(t *testing.T) {
	eachIETF(t, nil, func(t *testing.T, x *ietfEnv) {
		data := content(90_000)
		offset := func(loc string) string { return x.do("HEAD", loc, nil).hdr.Get("Upload-Offset") }

		r := x.do("POST", prefix+"/uploads/", data[:30_000], "Upload-Complete", "?0", "Content-Digest", reprDigest(data[1:30_001]))
		loc := x.announced(r)
		require.Equal(t, http.StatusBadRequest, r.code, string(r.body))
		assert.Equal(t, "checksum_mismatch", problemOf(t, r)["code"])
		assert.Equal(t, "0", offset(loc), "the creation's content is discarded, the upload stays")

		r = x.appendTo(loc, 0, data[:30_000], false, "Content-Digest", reprDigest(data[:30_000]))
		require.Less(t, r.code, 300, string(r.body))
		assert.Equal(t, "30000", offset(loc))

		r = x.appendTo(loc, 30_000, data[30_000:60_000], false, "Content-Digest", reprDigest(data[:30_000]))
		require.Equal(t, http.StatusBadRequest, r.code, string(r.body))
		assert.Equal(t, "checksum_mismatch", problemOf(t, r)["code"])
		assert.Equal(t, "30000", offset(loc))
		sum := md5.Sum(data[:1])
		r = x.appendTo(loc, 30_000, data[30_000:60_000], false, "Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
		require.Equal(t, http.StatusBadRequest, r.code, string(r.body))
		assert.Equal(t, "30000", offset(loc))
		r = x.appendTo(loc, 30_000, data[30_000:60_000], false, "Content-Digest", "sha-256=:nope:")
		require.Equal(t, http.StatusBadRequest, r.code, "a malformed digest")
		assert.Equal(t, "30000", offset(loc))

		sum = md5.Sum(data[30_000:60_000])
		r = x.appendTo(loc, 30_000, data[30_000:60_000], false, "Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
		require.Less(t, r.code, 300, string(r.body))
		r = x.appendTo(loc, 60_000, data[60_000:], true, "Content-Digest", reprDigest(data[60_000:]))
		x.completion(r, idOf(loc), len(data))
		got, _ := x.download(idOf(loc))
		assert.Equal(t, sha(data), sha(got))
	})
}
