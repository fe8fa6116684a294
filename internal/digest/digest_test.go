package digest

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"net/textproto"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The content of RFC 9530's examples (§B.1 and others).
const hello = `{"hello": "world"}`

var (
	helloSHA256 = sha256.Sum256([]byte(hello))
	helloSHA512 = sha512.Sum512([]byte(hello))
	helloMD5    = md5.Sum([]byte(hello))
	b64         = base64.StdEncoding.EncodeToString
	sha256Field = "sha-256=:" + b64(helloSHA256[:]) + ":"
	sha512Field = "sha-512=:" + b64(helloSHA512[:]) + ":"
)

func TestRFC9530Values(t *testing.T) {
	// The values printed in RFC 9530 for {"hello": "world"}.
	assert.Equal(t, "X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", b64(helloSHA256[:]))
	assert.Equal(t, "WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==", b64(helloSHA512[:]))
}

func TestParse(t *testing.T) {
	other := sha256.Sum256([]byte("other"))
	tests := []struct {
		name, digest, md5 string
		want              Expected
	}{
		{"nothing", "", "", Expected{}},
		{"white space only", "  ", " ", Expected{}},
		{"sha-256", sha256Field, "", Expected{SHA256: helloSHA256[:]}},
		{"RFC 9530 B.1 style, sha-512 ignored", sha512Field, "", Expected{}},
		{"both, sha-512 first", sha512Field + ", " + sha256Field, "", Expected{SHA256: helloSHA256[:]}},
		{"both, no space", sha256Field + "," + sha512Field, "", Expected{SHA256: helloSHA256[:]}},
		{"OWS around comma", sha512Field + " \t, \t" + sha256Field, "", Expected{SHA256: helloSHA256[:]}},
		{"surrounding white space", "  " + sha256Field + " \t", "", Expected{SHA256: helloSHA256[:]}},
		{"parameters after value", sha256Field + `;note="x";n=1, ` + sha512Field + ";a;b=?0", "", Expected{SHA256: helloSHA256[:]}},
		{"last duplicate wins", "sha-256=:" + b64(other[:]) + ":, " + sha256Field, "", Expected{SHA256: helloSHA256[:]}},
		{"unknown algorithms of any type ignored", `foo=1, bar="s", baz=tok/en:x, qux=?1, d=1.5, e=-3, f=@1700000000, g=%"caf%c3%a9", h=(1 2 :AA==:);p, flag, ` + sha256Field, "", Expected{SHA256: helloSHA256[:]}},
		{"unknown algorithm with bad length ignored", "sha-512=:AAAA:, " + sha256Field, "", Expected{SHA256: helloSHA256[:]}},
		{"semicolon makes a parameter", sha256Field + "; " + sha512Field, "", Expected{SHA256: helloSHA256[:]}},
		{"md5 member ignored", "md5=:" + b64(helloMD5[:]) + ":", "", Expected{}},
		{"content-md5", "", b64(helloMD5[:]), Expected{MD5: helloMD5[:]}},
		{"content-md5 unpadded", "", strings.TrimRight(b64(helloMD5[:]), "="), Expected{MD5: helloMD5[:]}},
		{"content-md5 with white space", "", " " + b64(helloMD5[:]) + "\t", Expected{MD5: helloMD5[:]}},
		{"both headers", sha256Field, b64(helloMD5[:]), Expected{SHA256: helloSHA256[:], MD5: helloMD5[:]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.digest, tt.md5)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseMalformed(t *testing.T) {
	short := sha256.Sum224([]byte(hello))
	tests := []struct{ name, digest, md5 string }{
		{"sha-256 too short", "sha-256=:" + b64(short[:]) + ":", ""},
		{"sha-256 too long", "sha-256=:" + b64(helloSHA512[:]) + ":", ""},
		{"sha-256 empty", "sha-256=::", ""},
		{"sha-256 as string", `sha-256="` + b64(helloSHA256[:]) + `"`, ""},
		{"sha-256 as token", "sha-256=abc", ""},
		{"sha-256 bare (boolean)", "sha-256", ""},
		{"sha-256 inner list", "sha-256=(:" + b64(helloSHA256[:]) + ":)", ""},
		{"old Digest header syntax", "sha-256=" + b64(helloSHA256[:]), ""},
		{"uppercase key", "SHA-256=:" + b64(helloSHA256[:]) + ":", ""},
		{"hex value", "sha-256=:" + strings.Repeat("ab", 32) + ":", ""},
		{"base64url", "sha-256=:" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 32)) + ":", ""},
		{"unterminated byte sequence", "sha-256=:" + b64(helloSHA256[:]), ""},
		{"bad base64 length", "sha-256=:A:", ""},
		{"padding inside", "sha-256=:AA=A:", ""},
		// RFC 9651 §4.2.7 lets a parser that cannot be configured otherwise
		// refuse a byte sequence without its padding; httpsfv does.
		{"unpadded base64", "sha-256=:" + strings.TrimRight(b64(helloSHA256[:]), "=") + ":", ""},
		{"trailing comma", sha256Field + ",", ""},
		{"leading comma", "," + sha256Field, ""},
		{"double comma", sha256Field + ",," + sha512Field, ""},
		{"missing comma", sha256Field + " " + sha512Field, ""},
		{"garbage", "hello world", ""},
		{"garbage after value", sha256Field + "x", ""},
		{"bad unknown value", "foo=[1], " + sha256Field, ""},
		{"unterminated string", `foo="abc, ` + sha256Field, ""},
		{"bad escape", `foo="a\b", ` + sha256Field, ""},
		{"integer too long", "foo=1234567890123456", ""},
		{"decimal too precise", "foo=1.2345", ""},
		{"decimal ends with dot", "foo=1.", ""},
		{"bad boolean", "foo=?2", ""},
		{"date as decimal", "foo=@1.5", ""},
		{"display string upper hex", `foo=%"caf%C3%A9"`, ""},
		{"display string invalid UTF-8", `foo=%"%ff"`, ""},
		{"unterminated inner list", "foo=(1 2", ""},
		{"control char", "sha-256=:\x00:", ""},
		{"content-md5 not base64", "", "not base64 at all!!!!!!!"},
		{"content-md5 hex", "", strings.Repeat("ab", 16)},
		{"content-md5 of 15 bytes", "", b64(make([]byte, 15))},
		{"content-md5 of 17 bytes", "", b64(make([]byte, 17))},
		{"content-md5 with newline", "", "AAAAAAAAAAAAAAAAAAAA\nAA=="},
		{"content-md5 sha-256", "", b64(helloSHA256[:])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.digest, tt.md5)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrMalformed)
			assert.Equal(t, Expected{}, got)
		})
	}
}

// TestStructuredFieldDictionaries runs Content-Digest through dictionaries
// shaped after the examples of RFC 9651 and the cases of the HTTP WG's
// structured-field-tests (dictionaries, parameters, inner lists, byte
// sequences, booleans, dates, display strings), each with a sha-256 member
// added: an accepted one must yield it, a refused one ErrMalformed.
func TestStructuredFieldDictionaries(t *testing.T) {
	sha := sha256Field
	tests := []struct {
		name  string
		lines []string // field lines; sha is prepended to the first
		ok    bool
	}{
		// RFC 9651 §3.2 and §3.1.2 examples.
		{"string and byte sequence members", []string{`en="Applepie", da=:w4ZibGV0w6ZydGUK:`}, true},
		{"boolean true without a value", []string{`a=?0, b, c; foo=bar`}, true},
		{"decimal and inner list", []string{`rating=1.5, feelings=(joy sadness)`}, true},
		{"inner lists and parameters mixed", []string{`a=(1 2), b=3, c=4;aa=bb, d=(5 6);valid`}, true},
		{"dictionary over two lines", []string{`foo=1`, `bar=2`}, true},

		// Dictionaries.
		{"empty inner list", []string{`a=()`}, true},
		{"no white space", []string{`a=1,b=2`}, true},
		{"extra spaces", []string{`a=1 ,  b=2`}, true},
		{"tabs around the comma", []string{"a=1\t,\tb=2"}, true},
		{"members without values", []string{`a, b;foo=9, c=3`}, true},
		{"explicit true with parameters", []string{`b=?1;foo=9`}, true},
		{"duplicate key", []string{`a=1,b=2,a=3`}, true},
		{"space before =", []string{`a =1`}, false},
		{"space after =", []string{`a= 1`}, false},
		{"trailing comma", []string{`a=1, b=2,`}, false},
		{"empty member", []string{`a=1,,b=2`}, false},
		{"key starting with a digit", []string{`1b=2`}, false},
		{"uppercase key", []string{`B=2`}, false},
		{"key with !", []string{`b!=2`}, false},

		// Parameters.
		{"parameters on several members", []string{`abc=123;a=1;b=2, def=456, ghi=789;q=9;r="+w"`}, true},
		{"parameter without value", []string{`a=3;c;d=5`}, true},
		{"space after ;", []string{`a=b; q=0.5`}, true},
		{"space before ;", []string{`a=b ;q=0.5`}, false},
		{"space before = in a parameter", []string{`a=b;q =0.5`}, false},
		{"space after = in a parameter", []string{`a=b;q= 0.5`}, false},

		// Byte sequences.
		{"empty byte sequence", []string{`a=::`}, true},
		{"padding first", []string{`a=:=aGVsbG8=:`}, false},
		{"padding in the middle", []string{`a=:a=GVsbG8=:`}, false},
		{"unterminated", []string{`a=:aGVsbG8=`}, false},
		{"white space inside", []string{`a=:aGVsb G8=:`}, false},
		{"base64url alphabet", []string{`a=:_-Ah:`}, false},
		{"colon only", []string{`a=:`}, false},

		// Other bare items.
		{"dates", []string{`a=@0, b=@-1659578233, c=@253402214400`}, true},
		{"date with a decimal", []string{`a=@1659578233.12`}, false},
		{"date too large", []string{`a=@1000000000000000`}, false},
		{"display string, lowercase escapes", []string{`a=%"f%c3%bc%c3%bc"`}, true},
		{"display string, uppercase escapes", []string{`a=%"f%C3%BC%C3%BC"`}, false},
		{"display string, invalid UTF-8", []string{`a=%"%c3%28"`}, false},
		{"booleans", []string{`a=?0, b=?1`}, true},
		{"unknown boolean", []string{`a=?Q`}, false},
		{"integer of 15 digits", []string{`a=999999999999999`}, true},
		{"integer of 16 digits", []string{`a=1000000000000000`}, false},
		{"decimal of 4 fraction digits", []string{`a=1.1234`}, false},
		{"string with escapes", []string{`a="x\"y\\z"`}, true},
		{"string with a bad escape", []string{`a="\a"`}, false},
		{"token with : and /", []string{`a=foo123/456:bar`}, true},
		{"inner list unterminated", []string{`a=(1 2`}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := textproto.MIMEHeader{}
			for i, l := range tt.lines {
				if i == 0 {
					l = sha + ", " + l
				}
				h.Add("Content-Digest", l)
			}
			got, err := FromHeader(h)
			if !tt.ok {
				assert.ErrorIs(t, err, ErrMalformed)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, helloSHA256[:], got.SHA256)
		})
	}
}

func TestFromHeader(t *testing.T) {
	other := sha256.Sum256([]byte("other"))
	otherField := "sha-256=:" + b64(other[:]) + ":"
	md5Value := b64(helloMD5[:])
	tests := []struct {
		name        string
		digest, md5 []string // field lines, in order
		want        Expected
		malformed   bool
	}{
		{"none", nil, nil, Expected{}, false},
		{"one line each", []string{sha256Field}, []string{md5Value}, Expected{SHA256: helloSHA256[:], MD5: helloMD5[:]}, false},
		{"sha-256 on the second line", []string{sha512Field, sha256Field}, nil, Expected{SHA256: helloSHA256[:]}, false},
		{"sha-256 on the first line", []string{sha256Field, sha512Field}, nil, Expected{SHA256: helloSHA256[:]}, false},
		{"sha-256 on both lines, the last counts", []string{otherField, sha256Field}, nil, Expected{SHA256: helloSHA256[:]}, false},
		{"empty lines left out", []string{"", sha256Field, " "}, []string{"", md5Value}, Expected{SHA256: helloSHA256[:], MD5: helloMD5[:]}, false},
		{"malformed second line", []string{sha256Field, "sha-256=nope"}, nil, Expected{}, true},
		{"a dictionary split inside a member", []string{"sha-256=:" + b64(helloSHA256[:16]), b64(helloSHA256[16:]) + ":"}, nil, Expected{}, true},
		{"content-md5 twice", nil, []string{md5Value, md5Value}, Expected{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := textproto.MIMEHeader{}
			for _, v := range tt.digest {
				h.Add("Content-Digest", v)
			}
			for _, v := range tt.md5 {
				h.Add("Content-MD5", v)
			}
			got, err := FromHeader(h)
			if tt.malformed {
				assert.ErrorIs(t, err, ErrMalformed)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", sha256Field, sha512Field + ", " + sha256Field, sha256Field + `;a=1;b="x"`,
		`foo=1, bar="s", baz=tok/en:x, qux=?1, d=1.5, e=-3, f=@17, g=%"caf%c3%a9", h=(1 2 :AA==:);p, flag`,
		"sha-256=:AA=A:", "sha-256=(1 2", "a=1,", `a="\"`,
	} {
		f.Add(s, "")
		f.Add("", s)
	}
	f.Add("", b64(helloMD5[:]))
	f.Add(sha256Field, strings.TrimRight(b64(helloMD5[:]), "="))
	f.Fuzz(func(t *testing.T, digest, md5 string) {
		e, err := Parse(digest, md5)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			require.Equal(t, Expected{}, e)
			return
		}
		if e.SHA256 != nil {
			require.Len(t, e.SHA256, 32)
		}
		if e.MD5 != nil {
			require.Len(t, e.MD5, 16)
		}
	})
}
