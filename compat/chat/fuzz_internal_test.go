package chat

import (
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
)

// FuzzParseRoute: any escaped path either names a route, whose parameters
// escaped again give a path of the same route, or is refused with 404 or
// 400; never a panic.
func FuzzParseRoute(f *testing.F) {
	for _, s := range []string{
		"/messages/1234567/attachments", "/attachments/3423", "/attachments/3423/Document.pdf",
		"/attachments/a%2Fb/c%20d", "/messages/%zz/attachments", "/attachments//x", "", "/", "//",
		"/messages/1/attachments/", "attachments/1", "/attachments/1/2/3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rel string) {
		rt, err := parseRoute(rel)
		if err != nil {
			var e *attachment.Error
			require.True(t, errors.As(err, &e))
			require.True(t, errors.Is(err, attachment.ErrNotFound) || errors.Is(err, attachment.ErrInvalid), err)
			return
		}
		var again string
		switch rt.kind {
		case routeUpload:
			again = "/messages/" + url.PathEscape(rt.messageID) + "/attachments"
		case routeRecord:
			again = "/attachments/" + url.PathEscape(rt.id)
		case routeDownload:
			again = "/attachments/" + url.PathEscape(rt.id) + "/" + url.PathEscape(rt.fileName)
		default:
			t.Fatalf("route kind %d", rt.kind)
		}
		rt2, err := parseRoute(again)
		require.NoError(t, err, again)
		assert.Equal(t, rt, rt2)
	})
}

// FuzzID: an ID is written as null (empty), a number (a canonical integer
// up to 2^53-1) or a string, and reads back as itself.
func FuzzID(f *testing.F) {
	for _, s := range []string{"", "0", "6", "007", "-1", "9007199254740991", "9007199254740992",
		"18446744073709551616", "1e3", "1.5", "general", "\"quoted\"", "\x00", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := json.Marshal(ID(s))
		require.NoError(t, err)
		require.True(t, json.Valid(b), string(b))
		var v any
		require.NoError(t, json.Unmarshal(b, &v))
		switch v := v.(type) {
		case nil:
			require.Empty(t, s)
		case float64:
			n, err := strconv.ParseUint(s, 10, 64)
			require.NoError(t, err)
			require.Equal(t, s, strconv.FormatUint(n, 10), "canonical")
			require.LessOrEqual(t, n, uint64(maxSafeInteger))
			require.Equal(t, float64(n), v)
		case string:
			n, err := strconv.ParseUint(s, 10, 64)
			require.False(t, err == nil && strconv.FormatUint(n, 10) == s && n <= maxSafeInteger, "%q should be a number", s)
			if utf8.ValidString(s) {
				require.Equal(t, s, v)
			}
		default:
			t.Fatalf("%s is a %T", b, v)
		}
		var back ID
		require.NoError(t, json.Unmarshal(b, &back))
		if utf8.ValidString(s) {
			require.Equal(t, ID(s), back)
		}
	})
}
