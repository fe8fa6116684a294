package resumable

import (
	"strconv"
	"strings"
	"time"
)

// uploadLimit is the Upload-Limit header value (a Structured Fields
// Dictionary) an IETF client of interop version v is told, or "" for a
// version that has none (5). maxSize is Options.MaxFileSize (attachment.Off,
// or 0, for none), maxAppend the Handler's MaxRequestSize (the
// most one request may carry; 0 or less for none) and age the time the
// upload has left (negative: not said). Interop version 6 (drafts -04 and
// -05) names the lifetime "expires", version 8 (-09 to -11) "max-age".
func uploadLimit(v int, maxSize, maxAppend int64, age time.Duration) string {
	if v < 6 {
		return ""
	}
	parts := []string{"min-size=0"}
	if maxSize > 0 {
		parts = append(parts, "max-size="+strconv.FormatInt(maxSize, 10))
	}
	if maxAppend > 0 {
		parts = append(parts, "max-append-size="+strconv.FormatInt(maxAppend, 10))
	}
	if age >= 0 {
		key := "max-age="
		if v == 6 {
			key = "expires="
		}
		// Whole seconds, rounded down: the upload lasts at least as long
		// as said.
		parts = append(parts, key+strconv.FormatInt(int64(age/time.Second), 10))
	}
	return strings.Join(parts, ", ")
}
