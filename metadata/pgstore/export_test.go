package pgstore

// For the tests of package pgstore_test.
var (
	FreshSchema = freshSchema
	ServerURL   = serverURL
)
