package efalia

import "strings"

// CanonicalID returns the attachment ID a {uuid} path segment names: 32
// hexadecimal digits (the form Efalia's own IDs take) or a UUID with its
// dashes, in either case, become the canonical lower-case UUID form the
// Service uses. Anything else is returned unchanged and names no
// attachment (404).
func CanonicalID(s string) string {
	var hex string
	switch len(s) {
	case 32:
		hex = s
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return s
		}
		hex = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	default:
		return s
	}
	for i := range len(hex) {
		c := hex[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return s
		}
	}
	hex = strings.ToLower(hex)
	return hex[:8] + "-" + hex[8:12] + "-" + hex[12:16] + "-" + hex[16:20] + "-" + hex[20:]
}
