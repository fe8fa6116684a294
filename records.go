package attachment

import (
	"context"

	"github.com/attachkit/attachment/internal/filename"
	"github.com/attachkit/attachment/metadata"
)

// Update applies c to the attachment with the ID and returns it as it is
// after the change. The commit checks of the service (WithCommitCheck) are
// asked about the change first.
func (s *Service) Update(ctx context.Context, id string, c Change) (*Attachment, error) {
	core := s.core
	var u metadata.Update
	if c.Filename != nil {
		name := filename.Clean(*c.Filename, core.opts.MaxFilenameBytes)
		if name == "" {
			return nil, inputErr(ErrInvalidFilename, "filename %q is empty once cleaned", truncate(*c.Filename, 64))
		}
		u.Filename = &name
	}
	if c.Owner != nil {
		if err := core.checkOwner(*c.Owner); err != nil {
			return nil, err
		}
		owner := *c.Owner
		u.Owner = &owner
	}
	if c.Labels != nil {
		if err := core.checkLabels(c.Labels); err != nil {
			return nil, err
		}
		u.Labels = cloneLabels(c.Labels)
	}
	if err := s.checkUpdate(ctx, id, u); err != nil {
		return nil, err
	}
	return s.update(ctx, id, u)
}

// checkUpdate asks the service's commit checks about u applied to the
// attachment with the ID.
func (s *Service) checkUpdate(ctx context.Context, id string, u metadata.Update) error {
	if len(s.checks) == 0 {
		return nil
	}
	if !validID(id) {
		return notFound(id)
	}
	rec, err := s.core.meta.Get(ctx, s.tenant, id)
	if err != nil {
		return storeErr(id, "get", err)
	}
	before := fromRecord(rec.Clone())
	u.UpdatedAt = s.core.timestamp()
	u.Apply(rec)
	return s.check(ctx, OpUpdate, before, fromRecord(rec))
}

// AddRef marks the attachment as referenced by ref (such as
// "document:550e8400"). Adding a reference twice is no error.
func (s *Service) AddRef(ctx context.Context, id, ref string) (*Attachment, error) {
	if err := s.core.checkRef(ref); err != nil {
		return nil, err
	}
	return s.update(ctx, id, metadata.Update{AddRefs: []string{ref}})
}

// RemoveRef removes the reference ref. Removing one that is not there is
// no error.
func (s *Service) RemoveRef(ctx context.Context, id, ref string) (*Attachment, error) {
	if err := s.core.checkRef(ref); err != nil {
		return nil, err
	}
	return s.update(ctx, id, metadata.Update{RemoveRefs: []string{ref}})
}

func (s *Service) update(ctx context.Context, id string, u metadata.Update) (*Attachment, error) {
	if !validID(id) {
		return nil, notFound(id)
	}
	u.UpdatedAt = s.core.timestamp()
	rec, err := s.core.meta.Update(ctx, s.tenant, id, u)
	if err != nil {
		return nil, storeErr(id, "update", err)
	}
	return fromRecord(rec), nil
}

// Delete removes the attachment's record, then its content and every
// derivative. A referenced attachment is not deleted (ErrReferenced)
// unless opts.Force. Once the record is gone the attachment is gone for
// every caller. The removal of the content is tried three times; what is
// left after that is logged, removed by a later Maintain (as content
// without a record), and Delete still succeeds.
func (s *Service) Delete(ctx context.Context, id string, opts *DeleteOptions) error {
	if !validID(id) {
		return notFound(id)
	}
	force := opts != nil && opts.Force
	if err := s.core.meta.Delete(ctx, s.tenant, id, force); err != nil {
		return storeErr(id, "delete", err)
	}
	s.core.removeContent(ctx, id)
	return nil
}
