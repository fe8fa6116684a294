package attachment

import (
	"context"
	"maps"
	"slices"
)

// CommitCheck decides whether a write may be committed, seeing the
// attachment as the write will leave it. A Service view made with
// WithCommitCheck calls it once the write's input has been read and
// checked (and, for an upload, the file's content stored and verified
// against its digests), before anything is committed:
//
//   - for OpUpload, once per file, with before nil and after the
//     attachment as it will be stored: ID, tenant, cleaned filename,
//     detected content type, size, SHA-256, owner, labels, created_by,
//     times and the processing to come;
//   - for OpUpdate, with the attachment as it is now and as the change
//     would leave it.
//
// An error refuses the write: nothing is stored or changed (the content
// of a refused upload is removed, and the other files of its upload with
// it, as for any failed upload), and the Service returns the error as it
// is. The attachments are copies the check may keep; changing them changes
// nothing.
type CommitCheck func(ctx context.Context, op Operation, before, after *Attachment) error

// WithCommitCheck returns a view of the service, in the same tenant,
// whose uploads (Upload, NewBatch) and updates (Update) must be allowed by
// check before they are committed, after any checks s already has. Views
// made from it (ForTenant, WithCommitCheck) keep its checks. References
// and deletes are not checked: they change no owner, label or name.
//
// The Handler gives every request such a view, with the access hook's
// Allow as the check (see Access), so a write is authorized as the record
// will be, whatever way it comes in. A layer built on the Service (another
// upload protocol, say) that takes its Service from Handler.Authorize gets
// the same check.
func (s *Service) WithCommitCheck(check CommitCheck) *Service {
	v := *s
	v.checks = append(slices.Clip(s.checks), check)
	return &v
}

// check runs the service's commit checks, in order, on copies of before
// and after.
func (s *Service) check(ctx context.Context, op Operation, before, after *Attachment) error {
	for _, c := range s.checks {
		if err := c(ctx, op, cloneAttachment(before), cloneAttachment(after)); err != nil {
			return err
		}
	}
	return nil
}

// cloneAttachment returns a copy of a that shares no memory with it.
func cloneAttachment(a *Attachment) *Attachment {
	if a == nil {
		return nil
	}
	c := *a
	c.Labels = maps.Clone(a.Labels)
	c.Refs = slices.Clone(a.Refs)
	c.Processing = maps.Clone(a.Processing)
	return &c
}
