package wire

import "time"

// SignedURL is a URL that reads one attachment without credentials until
// it expires: the download URL with a signature in its query string. The
// same query string on the attachment's /thumbnail path reads its
// thumbnails (with any allowed size).
type SignedURL struct {
	// URL is the download URL, mount prefix included, path-absolute
	// (like every URL the API returns).
	URL string `json:"url"`
	// ExpiresAt is when the URL stops working (whole seconds, UTC).
	ExpiresAt time.Time `json:"expires_at"`
}

// SignOptions are the choices of a signed URL.
type SignOptions struct {
	// TTL is how long the URL works: zero means the server's default, and
	// one above its maximum is cut to it.
	TTL time.Duration
	// Disposition is "" or "attachment" (the download's default) or
	// "inline" (granted on the download only for types safe to display).
	// It is signed: a URL with another disposition is refused.
	Disposition string
}
