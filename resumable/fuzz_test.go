package resumable_test

import (
	"encoding/base64"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/resumable"
)

// ParseMetadata never panics, and what it accepts encodes back to a
// header it decodes to the same pairs.
func FuzzParseMetadata(f *testing.F) {
	for _, s := range []string{"", "filename d29ybGQ=", "a,b", "k  dg", "filename d29ybGQ,is_confidential", "a YQ==,a YQ==", " , ", "x ===", "label.k dg=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		md, err := resumable.ParseMetadata(v)
		if err != nil {
			return
		}
		var pairs []string
		for _, k := range slices.Sorted(maps.Keys(md)) {
			pairs = append(pairs, k+" "+base64.StdEncoding.EncodeToString([]byte(md[k])))
		}
		again, err := resumable.ParseMetadata(strings.Join(pairs, ","))
		if len(strings.Join(pairs, ",")) > resumable.MaxMetadataBytes {
			return
		}
		require.NoError(t, err)
		require.Equal(t, md, again)
		_ = md.Name() + md.ContentType() + md.Owner()
		_ = md.Labels()
	})
}

// Whatever its tus headers, a creation and an append are answered with a
// status below 500 and Tus-Resumable.
func FuzzTusHeaders(f *testing.F) {
	e := newEnv(f, backends()[1], nil)
	f.Add("5", "", "filename YS50eHQ=", "0", "", "hello")
	f.Add("", "1", "", "0", "3", "abc")
	f.Add("-1", "1", "a,a", "x", "0", "")
	f.Add("99999999999999999999", "", "label.x", "18446744073709551616", "", "z")
	f.Fuzz(func(t *testing.T, length, deferLen, md, offset, setLength, body string) {
		e := &env{t: t, svc: e.svc, srv: e.srv}
		hdr := []string{"Upload-Length", length, "Upload-Defer-Length", deferLen, "Upload-Metadata", md}
		rec := e.do("POST", prefix+"/uploads/", nil, hdr...)
		require.Less(t, rec.Code, 500, rec.Body.String())
		require.Equal(t, resumable.Version, rec.Header().Get("Tus-Resumable"))
		url := rec.Header().Get("Location")
		if rec.Code != http.StatusCreated || url == "" {
			return
		}
		rec = e.do("PATCH", url, []byte(body), "Upload-Offset", offset, "Upload-Length", setLength)
		require.Less(t, rec.Code, 500, rec.Body.String())
		require.Equal(t, resumable.Version, rec.Header().Get("Tus-Resumable"))
		rec = e.do("HEAD", url, nil)
		require.Less(t, rec.Code, 500)
	})
}

// ParseChecksum never panics, and what it accepts names an algorithm of
// ChecksumAlgorithms with a digest of that algorithm's size.
func FuzzParseChecksum(f *testing.F) {
	for _, s := range []string{"sha1 2jmj7l5rSw0yVb/vlWAYkK/YBwk=", "md5 1B2M2Y8AsgTpgAmY7PhCfg==", "sha256 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "crc32 AAAA", "sha1", " ", "sha256 ="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c, err := resumable.ParseChecksum(v)
		if err != nil {
			return
		}
		algo, _, _ := strings.Cut(v, " ")
		require.Contains(t, strings.Split(resumable.ChecksumAlgorithms, ","), algo)
		require.Len(t, c.Sum, c.Hash.Size())
	})
}

// ParseConcat never panics; a final it accepts names 1 to MaxConcatParts
// URLs, none empty or with spaces.
func FuzzParseConcat(f *testing.F) {
	for _, s := range []string{"partial", "final;/a/uploads/1 /a/uploads/2", "final;", "final; ", "finalx", " partial ", "final;a  b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		partial, urls, err := resumable.ParseConcat(v)
		if err != nil || partial {
			require.Empty(t, urls)
			return
		}
		require.NotEmpty(t, urls)
		require.LessOrEqual(t, len(urls), resumable.MaxConcatParts)
		for _, u := range urls {
			require.NotEmpty(t, u)
			require.False(t, strings.ContainsAny(u, " \t"))
		}
	})
}
