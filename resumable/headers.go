package resumable

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// MaxMetadataBytes is the longest Upload-Metadata header a creation may
// carry; a longer one is refused (400). It is kept verbatim with the
// upload, for HEAD.
const MaxMetadataBytes = 4 << 10

// Metadata is an Upload-Metadata header decoded: its keys and their
// values (a key sent without a value has ""), in no order.
type Metadata map[string]string

// ParseMetadata decodes an Upload-Metadata header value: pairs separated
// by commas, each a key and, after one space, its value in standard
// base64 (padded or not), or a key alone. Keys are non-empty, printable
// ASCII without spaces or commas, and appear once. An empty value is an
// empty Metadata.
func ParseMetadata(v string) (Metadata, error) {
	if len(v) > MaxMetadataBytes {
		return nil, errors.New("Upload-Metadata is longer than 4 KiB")
	}
	md := Metadata{}
	if strings.TrimSpace(v) == "" {
		return md, nil
	}
	for pair := range strings.SplitSeq(v, ",") {
		pair = strings.Trim(pair, " \t")
		key, val, hasVal := strings.Cut(pair, " ")
		if !validKey(key) {
			return nil, errors.New("Upload-Metadata has an empty or malformed key")
		}
		if _, dup := md[key]; dup {
			return nil, errors.New("Upload-Metadata has the key " + strconv.Quote(key) + " twice")
		}
		val = strings.Trim(val, " \t")
		if !hasVal || val == "" {
			md[key] = ""
			continue
		}
		b, err := decodeBase64(val)
		if err != nil {
			return nil, errors.New("Upload-Metadata has a value of " + strconv.Quote(key) + " that is not base64")
		}
		md[key] = string(b)
	}
	return md, nil
}

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c <= ' ' || c >= 0x7f || c == ',' {
			return false
		}
	}
	return true
}

func decodeBase64(s string) ([]byte, error) {
	if strings.HasSuffix(s, "=") {
		return base64.StdEncoding.Strict().DecodeString(s)
	}
	return base64.RawStdEncoding.Strict().DecodeString(s)
}

// Name is the file's name: the value of "filename", else of "name".
func (m Metadata) Name() string { return first(m, "filename", "name") }

// ContentType is the type the client claims: the value of "filetype",
// else "contentType", else "type".
func (m Metadata) ContentType() string { return first(m, "filetype", "contentType", "type") }

// Owner is the value of "owner".
func (m Metadata) Owner() string { return m["owner"] }

// Labels are the values of the keys "label.KEY", under KEY; nil when
// there are none.
func (m Metadata) Labels() map[string]string {
	var l map[string]string
	for k, v := range m {
		if key, ok := strings.CutPrefix(k, "label."); ok {
			if l == nil {
				l = map[string]string{}
			}
			l[key] = v
		}
	}
	return l
}

func first(m Metadata, keys ...string) string {
	for _, k := range keys {
		if v, ok := m[k]; ok {
			return v
		}
	}
	return ""
}

// parseSize parses a tus size header (Upload-Length, Upload-Offset): a
// non-negative decimal integer, without sign or spaces.
func parseSize(v string) (int64, bool) {
	if v == "" || len(v) > 19 {
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}
