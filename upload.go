package attachment

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"sync"
	"time"

	"github.com/gabriel-vasile/mimetype"
	"github.com/google/uuid"

	"github.com/attachkit/attachment/internal/filename"
	"github.com/attachkit/attachment/internal/iox"
	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/storage"
	"github.com/attachkit/attachment/thumbnail"
)

// sniffLen is how many leading bytes type detection reads (mimetype's
// default limit).
const sniffLen = 3072

var headPool = sync.Pool{New: func() any { b := make([]byte, sniffLen); return &b }}

// File is one file to upload.
type File struct {
	// Name is the filename as the client gave it; it is cleaned (path
	// components, control and bidirectional characters removed, length
	// bounded) and a name that cleans to nothing is ErrInvalidFilename.
	Name string
	// Content is read to its end (or until a limit is passed).
	Content io.Reader
	// ContentType is the client's claim. It is used only where detection
	// from the bytes finds nothing better than application/octet-stream or
	// text/plain, and never for the AllowedTypes check.
	ContentType string
	// SHA256 and MD5, when set, are the digests the client expects the
	// content to have; a mismatch is ErrChecksumMismatch and nothing is
	// stored.
	SHA256 []byte
	MD5    []byte
}

// UploadOptions apply to every file of one upload. The zero value uploads
// with no owner, no labels and no uploader named.
type UploadOptions struct {
	// Owner is an opaque grouping key, such as "document:550e8400".
	Owner string
	// Labels are opaque key/value pairs, filterable in List.
	Labels map[string]string
	// CreatedBy names the uploader; the Handler sets it from the access
	// hook's Caller, never from client input.
	CreatedBy string
}

// Upload stores files as new attachments, all or nothing: on any error,
// none of them remains, neither record nor content. The records are
// committed only after every file's content is stored. Files are read one
// after another; use a Batch when the next file is known only once the
// previous one has been read (as in a multipart stream).
func (s *Service) Upload(ctx context.Context, opts *UploadOptions, files ...File) ([]*Attachment, error) {
	b, err := s.NewBatch(opts)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := b.Add(ctx, f); err != nil {
			b.Abort(ctx)
			return nil, err
		}
	}
	return b.Commit(ctx)
}

// Batch is an upload in progress: files are added one at a time, each
// streamed into the content store as it is added, and Commit makes them all
// visible at once. A Batch that is not committed must be aborted, which
// removes the content stored so far. A Batch is not safe for concurrent
// use.
type Batch struct {
	s    *Service
	opts UploadOptions
	recs []*metadata.Record
	done bool
	// started is when the batch began, before any of its content was
	// written (see Options.Maintenance.OrphanGrace).
	started time.Time
}

// NewBatch starts an upload. It validates opts (owner and labels) up front,
// so that a bad request is refused before any content is read.
func (s *Service) NewBatch(opts *UploadOptions) (*Batch, error) {
	o, err := s.core.uploadOptions(opts)
	if err != nil {
		return nil, err
	}
	return &Batch{s: s, opts: o, started: s.core.now()}, nil
}

// uploadOptions validates opts (owner and labels) as every upload does
// and returns a copy of them that shares no memory with them (no labels
// are nil).
func (c *core) uploadOptions(opts *UploadOptions) (UploadOptions, error) {
	var o UploadOptions
	if opts != nil {
		o = *opts
	}
	if err := c.checkOwner(o.Owner); err != nil {
		return UploadOptions{}, err
	}
	if err := c.checkLabels(o.Labels); err != nil {
		return UploadOptions{}, err
	}
	if len(o.Labels) == 0 {
		o.Labels = nil
	} else {
		o.Labels = cloneLabels(o.Labels)
	}
	return o, nil
}

var errBatchDone = errors.New("attachment: batch already committed or aborted")

// SetOptions replaces the batch's options (owner, labels and uploader)
// for every file added so far and to come, for an upload whose options
// are known only once some of its content has been read (a form whose
// fields follow its files). They are validated as NewBatch validates
// them, and the commit checks of the Service that made the batch
// (WithCommitCheck) are asked again about each file's record as it now
// will be; on a refusal the error is returned as the checks return it
// and nothing changes, and the caller should Abort the batch.
func (b *Batch) SetOptions(ctx context.Context, opts *UploadOptions) error {
	if b.done {
		return errBatchDone
	}
	o, err := b.s.core.uploadOptions(opts)
	if err != nil {
		return err
	}
	recs := make([]*metadata.Record, len(b.recs))
	for i, r := range b.recs {
		c := *r
		c.Owner, c.Labels, c.CreatedBy = o.Owner, cloneLabels(o.Labels), o.CreatedBy
		if err := b.s.check(ctx, OpUpload, nil, fromRecord(&c)); err != nil {
			return err
		}
		recs[i] = &c
	}
	b.opts, b.recs = o, recs
	return nil
}

// Len returns the number of files added so far.
func (b *Batch) Len() int { return len(b.recs) }

// Add streams one file into the content store. On error, the file leaves
// nothing behind, but files added before it stay until Commit or Abort.
// Once the file is stored and verified, the commit checks of the Service
// that made the batch (WithCommitCheck) are asked about its record; a
// refusal is returned as the checks return it.
func (b *Batch) Add(ctx context.Context, f File) error {
	if b.done {
		return errBatchDone
	}
	c := b.s.core
	if c.opts.MaxFiles != Off && len(b.recs) >= c.opts.MaxFiles {
		return inputErr(ErrTooManyFiles, "an upload may have at most %d files", c.opts.MaxFiles)
	}
	name, err := c.cleanName(f.Name)
	if err != nil {
		return err
	}
	if f.Content == nil {
		return inputErr(ErrInvalid, "file %q has no content reader", name)
	}
	u, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("attachment: new ID: %w", err)
	}
	id := u.String()

	hp := headPool.Get().(*[]byte)
	defer headPool.Put(hp)
	head := *hp
	n, whole, err := iox.Fill(f.Content, head)
	if err != nil {
		return fmt.Errorf("attachment: read %q: %w", name, err)
	}
	head = head[:n]
	mediaType, contentType, err := c.typeOf(name, head, f.ContentType)
	if err != nil {
		return err
	}

	var content io.Reader = bytes.NewReader(head)
	if !whole {
		content = io.MultiReader(content, f.Content)
	}
	maxBytes := c.opts.MaxFileSize
	if maxBytes < 0 {
		maxBytes = 0
	}
	res, err := c.content.WriteContent(ctx, id, content, &storage.WriteOptions{
		ContentType: contentType,
		MaxBytes:    maxBytes,
		MD5:         f.MD5 != nil,
		Check: func(r storage.WriteResult) error {
			return f.checkDigests(name, r.SHA256[:], r.MD5)
		},
	})
	if err != nil {
		if errors.Is(err, storage.ErrTooLarge) {
			return inputErr(ErrTooLarge, "file %q is larger than %d bytes", name, maxBytes)
		}
		return err
	}
	width, height := c.dimensions(ctx, id, mediaType, head, whole)
	rec := c.newRecord(b.s.tenant, id, name, contentType, res.Size, res.SHA256[:], &b.opts, width, height)
	if err := b.s.check(ctx, OpUpload, nil, fromRecord(rec)); err != nil {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.CommitTimeout)
		defer cancel()
		if derr := c.content.Delete(dctx, id); derr != nil {
			c.log.Error("attachment: remove content of a refused upload", "id", id, "err", derr)
		}
		return err
	}
	b.recs = append(b.recs, rec)
	return nil
}

// checkDigests compares the digests the file's content has with those
// the client expects (File.SHA256, File.MD5): a mismatch is
// ErrChecksumMismatch.
func (f *File) checkDigests(name string, sha256, md5 []byte) error {
	if f.SHA256 != nil && subtle.ConstantTimeCompare(f.SHA256, sha256) != 1 {
		return inputErr(ErrChecksumMismatch, "file %q does not match its SHA-256 digest", name)
	}
	if f.MD5 != nil && subtle.ConstantTimeCompare(f.MD5, md5) != 1 {
		return inputErr(ErrChecksumMismatch, "file %q does not match its MD5 digest", name)
	}
	return nil
}

// cleanName cleans a client's filename as every upload does (see
// File.Name): one that cleans to nothing is ErrInvalidFilename.
func (c *core) cleanName(raw string) (string, error) {
	name := filename.Clean(raw, c.opts.MaxFilenameBytes)
	if name == "" {
		return "", inputErr(ErrInvalidFilename, "filename %q is empty once cleaned", truncate(raw, 64))
	}
	return name, nil
}

// typeOf detects the type of the file name from head, its first bytes
// (up to sniffLen), and returns the media type detected (without
// parameters) and the content type to record (chooseType with the
// client's claim). A detected type that Options.AllowedTypes does not
// allow is ErrUnsupportedType.
func (c *core) typeOf(name string, head []byte, claim string) (mediaType, contentType string, err error) {
	detected := mimetype.Detect(head).String()
	mediaType, _, _ = strings.Cut(detected, ";")
	if !c.opts.allowed(mediaType) {
		return "", "", inputErr(ErrUnsupportedType, "file %q is %s, which is not allowed here", name, mediaType)
	}
	return mediaType, chooseType(detected, claim), nil
}

// newRecord returns the record of a file whose content is stored under
// id, with the uploader's options o and the processing jobs of every
// processor that accepts it (when there is a queue): what every upload
// commits.
func (c *core) newRecord(tenant, id, name, contentType string, size int64, sha256 []byte, o *UploadOptions, width, height int) *metadata.Record {
	now := c.timestamp()
	rec := &metadata.Record{
		ID:          id,
		Tenant:      tenant,
		Filename:    name,
		ContentType: contentType,
		Size:        size,
		SHA256:      hex.EncodeToString(sha256),
		Owner:       o.Owner,
		Labels:      cloneLabels(o.Labels),
		CreatedBy:   o.CreatedBy,
		Width:       width,
		Height:      height,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	if c.queue != nil {
		a := fromRecord(rec)
		for _, p := range c.procs {
			if p.Accept(a) {
				if rec.Processing == nil {
					rec.Processing = map[string]string{}
				}
				rec.Processing[p.Name()] = metadata.JobPending
			}
		}
	}
	return rec
}

// maxDimensionsRead bounds what an upload reads back of its stored
// content to find an image's dimensions, when its first bytes did not
// hold them (a JPEG with a large EXIF or ICC block before its frame).
const maxDimensionsRead = 4 << 20

// dimensions returns the displayed width and height of an image file as
// its header says (thumbnail.Analyze: no pixels are decoded), so that an
// upload's answer has them: from head, its first bytes, or else from the
// start of the stored content. Zero when the type has no thumbnails, the
// header cannot be read (the analyze processor tries again later) or
// Options.Processing.NoImageProcessing is set.
func (c *core) dimensions(ctx context.Context, id, mediaType string, head []byte, whole bool) (int, int) {
	if !hasThumbnail(mediaType) || c.opts.Processing.NoImageProcessing {
		return 0, 0
	}
	topts := &thumbnail.Options{MaxPixels: c.opts.Thumbnails.MaxPixels}
	info, err := thumbnail.Analyze(bytes.NewReader(head), topts)
	if err != nil && !whole && !errors.Is(err, thumbnail.ErrTooLarge) {
		obj, oerr := c.content.OpenContent(ctx, id)
		if oerr != nil {
			return 0, 0
		}
		info, err = thumbnail.Analyze(io.LimitReader(obj, maxDimensionsRead), topts)
		obj.Close()
	}
	if err != nil {
		return 0, 0
	}
	return info.Width, info.Height
}

// Commit stores the records of every file added, atomically, and returns
// the attachments. It needs at least one file. Once the content is stored
// the commit is not abandoned when ctx ends: it runs on, bounded by
// Options.CommitTimeout. On error, the batch's content is removed. A batch
// begun longer ago than half of Options.Maintenance.OrphanGrace is not
// committed: its content could already have been taken for an orphan by
// Maintain.
func (b *Batch) Commit(ctx context.Context) ([]*Attachment, error) {
	if b.done {
		return nil, errBatchDone
	}
	if len(b.recs) == 0 {
		b.done = true
		return nil, inputErr(ErrInvalid, "the upload has no files")
	}
	c := b.s.core
	if took := c.now().Sub(b.started); took > c.opts.Maintenance.OrphanGrace/2 {
		// Maintain may already take content this old for an orphan.
		b.Abort(ctx)
		return nil, fmt.Errorf("attachment: commit upload: it took %v, more than half of Options.Maintenance.OrphanGrace (%v)", took.Round(time.Millisecond), c.opts.Maintenance.OrphanGrace)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.CommitTimeout)
	defer cancel()
	if err := c.meta.Create(cctx, b.recs); err != nil {
		b.Abort(ctx)
		return nil, fmt.Errorf("attachment: commit upload: %w", err)
	}
	b.done = true
	if c.pool != nil && b.hasJobs() {
		c.pool.poke()
	}
	out := make([]*Attachment, len(b.recs))
	for i, r := range b.recs {
		out[i] = fromRecord(r)
	}
	return out, nil
}

// hasJobs reports whether a processor accepted any file of the batch.
func (b *Batch) hasJobs() bool {
	for _, r := range b.recs {
		if len(r.Processing) > 0 {
			return true
		}
	}
	return false
}

// Abort removes the content of every file added and ends the batch. It is
// a no-op on a batch already committed or aborted. The removal runs even
// when ctx is done, bounded by Options.CommitTimeout.
func (b *Batch) Abort(ctx context.Context) {
	if b.done {
		return
	}
	b.done = true
	c := b.s.core
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.CommitTimeout)
	defer cancel()
	for _, r := range b.recs {
		if err := c.content.Delete(actx, r.ID); err != nil {
			c.log.Error("attachment: remove content of an aborted upload", "id", r.ID, "err", err)
		}
	}
	b.recs = nil
}

// notFileTypes are claims that say nothing about a file: defaults of
// clients (curl --data-binary sends application/x-www-form-urlencoded) and
// framing types.
var notFileTypes = map[string]bool{
	"application/octet-stream":          true,
	"application/x-www-form-urlencoded": true,
	"binary/octet-stream":               true,
}

// chooseType returns the detected type, unless detection found nothing more
// specific than application/octet-stream or text/plain and the client
// claimed a valid type: then the claim breaks the tie.
func chooseType(detected, claimed string) string {
	mt, _, _ := strings.Cut(detected, ";")
	if mt != "application/octet-stream" && mt != "text/plain" {
		return detected
	}
	if claimed == "" {
		return detected
	}
	cmt, params, err := mime.ParseMediaType(claimed)
	if err != nil || strings.Count(cmt, "/") != 1 || notFileTypes[cmt] || strings.HasPrefix(cmt, "multipart/") {
		return detected
	}
	if mt == "text/plain" && cmt == "text/plain" {
		return detected
	}
	return mime.FormatMediaType(cmt, params)
}

func cloneLabels(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// truncate shortens s to at most n bytes for use in messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
