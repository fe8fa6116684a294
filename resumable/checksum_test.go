package resumable_test

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/resumable"
	"github.com/attachkit/attachment/wire"
)

func checksumHeader(algo string, b []byte) string {
	var sum []byte
	switch algo {
	case "sha1":
		s := sha1.Sum(b)
		sum = s[:]
	case "md5":
		s := md5.Sum(b)
		sum = s[:]
	default:
		s := sha256.Sum256(b)
		sum = s[:]
	}
	return algo + " " + base64.StdEncoding.EncodeToString(sum)
}

// A PATCH with an Upload-Checksum of each algorithm is kept when its bytes
// match; when they do not, it is answered 460, its bytes are discarded
// and the offset stays where it was, and the same bytes sent again with
// the right checksum go on from there. The committed file is byte-exact.
func TestTusChecksum(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *env) {
		opt := e.do("OPTIONS", prefix+"/uploads/", nil)
		require.Equal(t, http.StatusNoContent, opt.Code)
		assert.Contains(t, opt.Header().Get("Tus-Extension"), "checksum")
		assert.Equal(t, "sha1,md5,sha256", opt.Header().Get("Tus-Checksum-Algorithm"))

		for _, algo := range []string{"sha1", "md5", "sha256"} {
			t.Run(algo, func(t *testing.T) {
				data := content(200_000)
				url := e.create("Upload-Length", itoa(len(data)), "Upload-Metadata", "filename "+b64(algo+".bin"))
				rec := e.patch(url, 0, data[:80_000], "Upload-Checksum", checksumHeader(algo, data[:80_000]))
				require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
				require.Equal(t, "80000", rec.Header().Get("Upload-Offset"))

				// A corrupted chunk: 460, nothing kept.
				bad := append([]byte(nil), data[80_000:150_000]...)
				bad[100] ^= 0xff
				rec = e.patch(url, 80_000, bad, "Upload-Checksum", checksumHeader(algo, data[80_000:150_000]))
				require.Equal(t, resumable.StatusChecksumMismatch, rec.Code, rec.Body.String())
				var p wire.Problem
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
				assert.Equal(t, wire.CodeChecksumMismatch, p.Code)
				assert.Equal(t, "Checksum Mismatch", p.Title)
				assert.Equal(t, resumable.Version, rec.Header().Get("Tus-Resumable"))
				head := e.do("HEAD", url, nil)
				require.Equal(t, http.StatusNoContent, head.Code)
				assert.Equal(t, "80000", head.Header().Get("Upload-Offset"), "the offset is unchanged")

				rec = e.patch(url, 80_000, data[80_000:150_000], "Upload-Checksum", checksumHeader(algo, data[80_000:150_000]))
				require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
				// The last chunk, with a wrong checksum, does not commit.
				rec = e.patch(url, 150_000, data[150_000:], "Upload-Checksum", checksumHeader(algo, data[:10]))
				require.Equal(t, resumable.StatusChecksumMismatch, rec.Code, rec.Body.String())
				assert.Equal(t, http.StatusNotFound, e.do("GET", prefix+"/"+idOf(url), nil).Code)
				rec = e.patch(url, 150_000, data[150_000:], "Upload-Checksum", checksumHeader(algo, data[150_000:]))
				require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
				require.Equal(t, prefix+"/"+idOf(url), rec.Header().Get("Location"))

				got, a := e.download(idOf(url))
				assert.Equal(t, sha(data), sha(got))
				assert.Equal(t, sha(data), a.SHA256)
			})
		}
	})
}

// A creation that carries its first bytes checks them against its
// Upload-Checksum too: a mismatch leaves the upload created, at offset 0.
func TestTusChecksumOnCreation(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *env) {
		data := content(50_000)
		rec := e.do("POST", prefix+"/uploads/", data, "Upload-Length", itoa(len(data)),
			"Upload-Checksum", checksumHeader("sha256", data[1:]))
		require.Equal(t, resumable.StatusChecksumMismatch, rec.Code, rec.Body.String())
		url := rec.Header().Get("Location")
		require.NotEmpty(t, url)
		head := e.do("HEAD", url, nil)
		require.Equal(t, http.StatusNoContent, head.Code)
		assert.Equal(t, "0", head.Header().Get("Upload-Offset"))

		rec = e.do("POST", prefix+"/uploads/", data, "Upload-Length", itoa(len(data)),
			"Upload-Checksum", checksumHeader("md5", data))
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		got, _ := e.download(idOf(rec.Header().Get("Location")))
		assert.Equal(t, sha(data), sha(got))
	})
}

// An Upload-Checksum that names an unknown algorithm, or whose digest is
// not one of the algorithm's, is a 400 and appends nothing.
func TestTusChecksumMalformed(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *env) {
		data := content(1000)
		url := e.create("Upload-Length", itoa(len(data)))
		for _, v := range []string{
			"crc32 AAAAAA==",
			"sha256",
			"sha256 " + base64.StdEncoding.EncodeToString([]byte("short")),
			"sha1 !!!notbase64",
			"SHA256 " + checksumHeader("sha256", data)[7:],
		} {
			rec := e.patch(url, 0, data, "Upload-Checksum", v)
			assert.Equal(t, http.StatusBadRequest, rec.Code, "%q: %s", v, rec.Body.String())
		}
		head := e.do("HEAD", url, nil)
		assert.Equal(t, "0", head.Header().Get("Upload-Offset"))
	})
}
