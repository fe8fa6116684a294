package documents

import (
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
	atts, err := d.h.ReadUpload(w, r, svc, c, &attachment.UploadRequest{
		FileFields: []string{"file"},
		MaxFiles:   1,
		Fields:     applyFields,
	})
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusCreated, envelope{Success: true, Data: newItem(base, atts[0])})
}

// applyFields is the UploadRequest.Fields of an upload: it checks the
// fields sent so far and puts them on the record as labels (and the
// document as the owner). A field not sent yet is no error until the
// final call, as it may come after the file.
func applyFields(v url.Values, final bool, o *attachment.UploadOptions) error {
	workspace, err := uuidField(v, labelWorkspace)
	if err != nil {
		return err
	}
	document, err := uuidField(v, labelDocument)
	if err != nil {
		return err
	}
	if final {
		for _, m := range []struct{ name, v string }{{labelWorkspace, workspace}, {labelDocument, document}} {
			if m.v == "" {
				return invalid(m.name + " is required")
			}
		}
	}
	o.Labels = map[string]string{}
	if workspace != "" {
		o.Labels[labelWorkspace] = workspace
	}
	if document != "" {
		o.Labels[labelDocument] = document
		o.Owner = ownerPrefix + document
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

// invalid is a 400 bad_request with the detail.
func invalid(detail string) error {
	return &attachment.Error{Kind: attachment.ErrInvalid, Detail: detail}
}
