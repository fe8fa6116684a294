package documents

import (
	"context"
	"net/http"
	"net/url"

	"github.com/google/uuid"

	"github.com/attachkit/attachment"
)

// upload handles POST /upload: one file (the part named file) with the
// text fields workspaceId and documentId, both UUIDs, before or after it.
func (d *Handler) upload(w http.ResponseWriter, r *http.Request, base string) {
	c, svc, _, err := d.h.Authorize(r, attachment.OpUpload, "")
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	var f fields
	atts, err := d.h.ReadUpload(w, r, svc.WithCommitCheck(oneFile()), c, &attachment.UploadRequest{
		FileFields: []string{"file"},
		Fields:     f.apply,
	})
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	if err := f.complete(); err != nil {
		// The file came first and a required field never followed it.
		// ReadUpload asks for the fields before a file and again only
		// when more came after it, so this upload is committed: undo it.
		ctx := context.WithoutCancel(r.Context())
		for _, a := range atts {
			if derr := svc.Delete(ctx, a.ID, &attachment.DeleteOptions{Force: true}); derr != nil {
				d.h.WriteError(w, r, derr)
				return
			}
		}
		d.h.WriteError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusCreated, envelope{Success: true, Data: newItem(base, atts[0])})
}

// fields are the upload's text fields, as the last call of apply found
// them: canonical UUIDs, or "" when absent so far.
type fields struct {
	workspace, document string
}

// apply is the UploadRequest.Fields of an upload: it checks the fields
// sent so far and puts them on the record as labels (and the document as
// the owner). A field not sent yet is no error here, as it may come after
// the file; complete checks the final set.
func (f *fields) apply(v url.Values, o *attachment.UploadOptions) error {
	var err error
	if f.workspace, err = uuidField(v, labelWorkspace); err != nil {
		return err
	}
	if f.document, err = uuidField(v, labelDocument); err != nil {
		return err
	}
	o.Labels = map[string]string{}
	if f.workspace != "" {
		o.Labels[labelWorkspace] = f.workspace
	}
	if f.document != "" {
		o.Labels[labelDocument] = f.document
		o.Owner = ownerPrefix + f.document
	}
	return nil
}

// complete reports a required field that was never sent.
func (f *fields) complete() error {
	for _, m := range []struct{ name, v string }{{labelWorkspace, f.workspace}, {labelDocument, f.document}} {
		if m.v == "" {
			return invalid(m.name + " is required")
		}
	}
	return nil
}

// uuidField returns the canonical form (lower case) of the UUID field
// name of v, "" when v lacks it, and an error when it is sent more than
// once or is not a UUID in the 8-4-4-4-12 form.
func uuidField(v url.Values, name string) (string, error) {
	vs := v[name]
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", invalid(name + " is given more than once")
	}
	id, ok := canonicalUUID(vs[0])
	if !ok {
		return "", invalid(name + " must be a UUID (such as 550e8400-e29b-41d4-a716-446655440000)")
	}
	return id, nil
}

// canonicalUUID returns s in lower case when it is a UUID written as
// 8-4-4-4-12 hexadecimal digits (either case), the only form the document
// shows; braces, a urn:uuid: prefix and the form without hyphens are not
// UUIDs here.
func canonicalUUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return u.String(), true
}

// oneFile is a commit check that refuses a second file in one upload: the
// document's upload answers with one attachment. Refused, the upload
// stores nothing.
func oneFile() attachment.CommitCheck {
	var first string
	return func(_ context.Context, op attachment.Operation, before, after *attachment.Attachment) error {
		if op != attachment.OpUpload || before != nil || after == nil {
			return nil
		}
		if first == "" {
			first = after.ID
		}
		if after.ID != first {
			return &attachment.Error{Kind: attachment.ErrTooManyFiles, Detail: "an upload takes one file, in the field file"}
		}
		return nil
	}
}

// invalid is a 400 bad_request with the detail.
func invalid(detail string) error {
	return &attachment.Error{Kind: attachment.ErrInvalid, Detail: detail}
}
