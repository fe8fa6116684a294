package attachment

import "net/http"

// Operation names what a request does, for the access hook.
type Operation string

// The operations the Handler asks the access hook about.
const (
	OpUpload    Operation = "upload"    // POST /
	OpList      Operation = "list"      // GET /
	OpDownload  Operation = "download"  // GET and HEAD /{id}; POST /{id}/signed-url
	OpRead      Operation = "read"      // GET /{id}/metadata
	OpUpdate    Operation = "update"    // PATCH and PUT /{id}
	OpDelete    Operation = "delete"    // DELETE /{id}
	OpRef       Operation = "ref"       // POST /{id}/refs, DELETE /{id}/refs/{ref}
	OpThumbnail Operation = "thumbnail" // GET and HEAD /{id}/thumbnail
	OpStatus    Operation = "status"    // GET /{id}/status, POST /_status (per attachment)
)

// Caller is who makes a request, as the host's access hook names them.
type Caller struct {
	// Tenant is the tenant the caller acts in. Attachments of other
	// tenants do not exist for the caller: every route answers 404 for
	// them, as for a missing ID.
	Tenant string
	// Name is recorded as created_by on the caller's uploads; may be empty.
	Name string
}

// Access is the host's access hook. The library authenticates no one: the
// host says who each request comes from and what they may do.
//
// For every request the Handler calls Identify first. For routes about one
// attachment it then loads the attachment in the caller's tenant (a 404 if
// there is none) and calls Allow with it; for uploads and listings it calls
// Allow with a nil attachment.
type Access interface {
	// Identify names the caller of r and its tenant. An error answers 401
	// unauthorized, or 403 forbidden if it wraps ErrForbidden.
	Identify(r *http.Request) (Caller, error)
	// Allow decides whether c may perform op on a (nil for OpUpload and
	// OpList). Return nil to allow; an error wrapping ErrNotFound answers
	// 404 (hiding that the attachment exists), one wrapping
	// ErrUnauthorized 401, and any other error 403 forbidden.
	Allow(r *http.Request, c Caller, op Operation, a *Attachment) error
}

// AccessFuncs builds an Access from functions. A nil Identify names every
// caller Caller{} (the default tenant, no name); a nil Allow allows
// everything.
type AccessFuncs struct {
	IdentifyFunc func(r *http.Request) (Caller, error)
	AllowFunc    func(r *http.Request, c Caller, op Operation, a *Attachment) error
}

// Identify calls f.IdentifyFunc, if set.
func (f AccessFuncs) Identify(r *http.Request) (Caller, error) {
	if f.IdentifyFunc == nil {
		return Caller{}, nil
	}
	return f.IdentifyFunc(r)
}

// Allow calls f.AllowFunc, if set.
func (f AccessFuncs) Allow(r *http.Request, c Caller, op Operation, a *Attachment) error {
	if f.AllowFunc == nil {
		return nil
	}
	return f.AllowFunc(r, c, op, a)
}
