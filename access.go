package attachment

import (
	"context"
	"net/http"
)

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
// Allow with a nil attachment. These calls come before the request's body
// is read.
//
// A write is then asked about again, with the attachment as it will be,
// once its body has been read (and an upload's content stored and
// verified) and before anything is committed:
//
//   - OpUpload: once per file, with the record the file will have (owner,
//     labels, filename, size, detected type, created_by, ID);
//   - OpUpdate: with the record as the change would leave it; Before(r)
//     returns it as it is.
//
// So a rule on what a record holds ("bob's files have owner doc:bob")
// covers what an upload or a change would store, without the hook doing
// anything more; Before tells the second call from the first. A refusal
// stores nothing and changes nothing. Every way in that takes its Service
// from Handler.Authorize gets the same calls (see Service.WithCommitCheck).
type Access interface {
	// Identify names the caller of r and its tenant. An error answers 401
	// unauthorized, 403 forbidden if it wraps ErrForbidden, and 404 if it
	// wraps ErrNotFound (then every attachment is hidden from the caller:
	// each route about one answers as for a missing ID).
	Identify(r *http.Request) (Caller, error)
	// Allow decides whether c may perform op on a: the attachment as it
	// is, or as the write will leave it (see above); nil for OpList and
	// the first OpUpload call. Return nil to allow; an error wrapping
	// ErrNotFound hides the attachment (the answer is byte for byte that
	// of a missing ID), one wrapping ErrUnauthorized answers 401, and any
	// other error 403 forbidden. The hook's own text never reaches the
	// client.
	Allow(r *http.Request, c Caller, op Operation, a *Attachment) error
}

// Before reports whether r is the request of an Allow call about a write's
// result (the second call for OpUpload and OpUpdate; see Access), and
// returns the attachment as it is before the write: nil for an upload.
// For any other request it returns nil and false.
func Before(r *http.Request) (*Attachment, bool) {
	w, ok := r.Context().Value(beforeKey{}).(written)
	return w.before, ok
}

// beforeKey is the context key of the written value Before reads.
type beforeKey struct{}

type written struct{ before *Attachment }

// commitCheck returns the commit check (see Service.WithCommitCheck) that
// asks the access hook about a write of caller c, made by request r.
func (h *Handler) commitCheck(r *http.Request, c Caller) CommitCheck {
	return func(ctx context.Context, op Operation, before, after *Attachment) error {
		rr := r.WithContext(context.WithValue(ctx, beforeKey{}, written{before}))
		if err := h.access.Allow(rr, c, op, after); err != nil {
			id := ""
			if before != nil {
				id = before.ID
			}
			return accessError(err, ErrForbidden, id)
		}
		return nil
	}
}

// errSignedWrite refuses a write through the Service of a signed request,
// which grants reading alone.
var errSignedWrite = &Error{Kind: ErrForbidden, Detail: "a signed URL grants reading only"}

func refuseWrites(context.Context, Operation, *Attachment, *Attachment) error {
	return errSignedWrite
}

// Authorize is the Handler's access flow, exported for layers that serve
// other protocols over the same Service (another upload protocol, say): it
// identifies the caller of r with the access hook and checks op, on the
// attachment with the ID when id is not empty (loaded in the caller's
// tenant; a missing one is an error wrapping ErrNotFound). It returns the
// caller, the Service view to act through (the caller's tenant, with the
// hook asked again about every upload and update before its commit, as
// Access describes) and the attachment. Errors are the ones the Handler
// answers with (errors.Is with ErrNotFound, ErrUnauthorized,
// ErrForbidden): an attachment the hook hides errs exactly as a missing
// one. A GET or HEAD for OpDownload or OpThumbnail with a signed-URL query
// string is judged by its signature, and its Service refuses writes.
func (h *Handler) Authorize(r *http.Request, op Operation, id string) (Caller, *Service, *Attachment, error) {
	return h.authorize(r, op, id)
}

// Identify is the first half of Authorize, for a layer that acts on many
// attachments in one request (a batch of statuses): the cross-origin check
// (HandlerOptions.CrossOrigin) and the access hook's Identify. It returns
// the caller and the Service view of the caller's tenant (checked again
// by the hook before every commit, as Authorize's). Its errors are
// Authorize's; a hook that hides everything from the caller gives one
// wrapping ErrNotFound. Allowed is the second half, for each attachment.
func (h *Handler) Identify(r *http.Request) (Caller, *Service, error) {
	return h.identify(r, "")
}

// Allowed asks the access hook whether c, as Identify returned it, may do
// op on a, an attachment loaded through Identify's Service. A refusal is
// an error Authorize would give: an attachment the hook hides errs exactly
// as a missing one (ErrNotFound, naming a's ID).
func (h *Handler) Allowed(r *http.Request, c Caller, op Operation, a *Attachment) error {
	if err := h.access.Allow(r, c, op, a); err != nil {
		id := ""
		if a != nil {
			id = a.ID
		}
		return accessError(err, ErrForbidden, id)
	}
	return nil
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
