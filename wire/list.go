package wire

// Listing limits.
const (
	// DefaultListLimit is the page size of a listing that asks for none.
	DefaultListLimit = 20
	// MaxListLimit is the largest page size.
	MaxListLimit = 1000
)

// ListOptions selects and pages attachments. The zero value (or nil) lists
// the newest DefaultListLimit attachments of the tenant.
type ListOptions struct {
	// Owner, when set, must equal the attachment's owner.
	Owner string
	// Labels: the attachment must have every pair.
	Labels map[string]string
	// Query, when set, is a case-insensitive substring of the filename.
	Query string
	// TypePrefix, when set, is a prefix of the content type ("image/").
	TypePrefix string
	// Limit is the page size: zero means DefaultListLimit, at most
	// MaxListLimit.
	Limit int
	// Cursor continues a listing: the NextCursor of the previous page.
	Cursor string
	// Ascending lists oldest first; the default is newest first.
	Ascending bool
}

// Page is one page of a listing.
type Page struct {
	// Attachments on this page, in the listing's order.
	Attachments []*Attachment
	// HasMore reports whether another page follows.
	HasMore bool
	// NextCursor, when HasMore, continues the listing in ListOptions.Cursor.
	NextCursor string
}
