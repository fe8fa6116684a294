package metadata

import "context"

// ScanQuery selects records of every tenant for Scanner.Scan.
type ScanQuery struct {
	// After, when non-empty, is an ID: only records whose ID sorts
	// strictly after it are returned. It need not exist.
	After string
	// Before, when non-empty, is an ID: only records whose ID sorts
	// strictly before it are returned. IDs are UUIDv7, so an ID made from
	// a time bounds the records by when they were created.
	Before string
	// NeverReferenced keeps only records that have never had a ref.
	NeverReferenced bool
	// Limit is the most records to return; it must be positive.
	Limit int
}

// Scanner is an optional capability of a Store: reading records across
// tenants, for the maintenance that works on the whole store (sweeping
// abandoned uploads, reconciling content with records). Find it with a
// type assertion; the stores in this module implement it.
//
// A record is referenced from the moment Create stores it with a ref, or
// an Update adds one (AddRefs not empty), and stays referenced after its
// refs are removed: "never referenced" is a record's history, not its
// present Refs. Records a store kept before it knew this history count as
// referenced, so that they are never taken for abandoned uploads.
//
// Contract (checked by metadatatest.Run for stores that implement it):
//   - Lookup returns the record with the ID whichever tenant holds it, or
//     ErrNotFound.
//   - Scan returns up to q.Limit records of every tenant that match q, in
//     ascending ID order. Records returned by Scan may have a nil
//     Processing, whatever their jobs.
//   - Both are safe for concurrent use with every other method, and
//     return ErrClosed after Close.
type Scanner interface {
	// Lookup returns the record with the ID, in any tenant.
	Lookup(ctx context.Context, id string) (*Record, error)
	// Scan lists records of every tenant in ascending ID order.
	Scan(ctx context.Context, q ScanQuery) ([]*Record, error)
}
