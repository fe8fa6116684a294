package attachment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"github.com/google/uuid"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/storage"
)

// Resumable uploads: the engine under a protocol layer such as tus (issue
// 14). An upload is a session in the metadata store (metadata.Uploads)
// and bytes under storage.UploadPrefix(id); its ID is the ID its
// attachment will have. Until its last byte is appended and checked the
// ID has no record: Get, List and the routes of the Handler do not see
// it. The last append commits it through the steps every upload takes
// (name, type, AllowedTypes, digests, dimensions, processing jobs, the
// commit checks), in one store transaction with the session's removal.

// DefaultUploadExpiry is Options.UploadExpiry's default.
const DefaultUploadExpiry = 24 * time.Hour

// NewUpload describes a resumable upload to create (CreateUpload).
type NewUpload struct {
	// File is what the upload becomes: its Name (cleaned as every upload's
	// is), ContentType (the client's claim) and the digests SHA256 and MD5
	// the whole content must have, checked once the last byte is in.
	// Content is not used: the bytes come with AppendUpload.
	File File
	// Length is the upload's size in bytes, or -1 when the client defers
	// it (to an AppendRequest's SetLength or Complete).
	Length int64
	// Partial makes the upload one part of a concatenation
	// (ConcatUploads): once complete it is kept, never committed on its
	// own, until a concatenation takes it or it expires. A partial needs
	// no File.Name, and its bytes are not checked against
	// Options.AllowedTypes (the whole file's are).
	Partial bool
	// Options are the owner, labels and uploader (CreatedBy) of the
	// attachment to be; CreatedBy also names who may append to the
	// upload (the by of the other methods).
	Options UploadOptions
	// Info is the layer's own data, kept with the session and returned by
	// GetUpload and AppendUpload (a protocol's raw metadata, say).
	Info map[string]string
}

// UploadInfo is the state of a resumable upload.
type UploadInfo struct {
	// ID is the upload's ID, and its attachment's.
	ID string
	// Length is the upload's size in bytes, or -1 while deferred.
	Length int64
	// Offset is how many bytes are stored: the offset of the next append.
	Offset int64
	// ExpiresAt is when the upload expires if nothing is appended to it
	// meanwhile (Options.UploadExpiry after the last change); zero once
	// it is committed.
	ExpiresAt time.Time
	// Info is NewUpload.Info.
	Info map[string]string
	// Partial says the upload is part of a concatenation
	// (NewUpload.Partial); Complete that all its bytes are in and it
	// waits for ConcatUploads.
	Partial, Complete bool
	// Attachment is set once the upload is committed: the ID is then an
	// attachment's, and Offset is Length.
	Attachment *Attachment
}

// AppendRequest is one append to a resumable upload (AppendUpload).
type AppendRequest struct {
	// Offset is where the client believes the upload is: it must be the
	// upload's Offset, else the append fails with an *OffsetError and
	// changes nothing.
	Offset int64
	// Body is read to its end. When it fails midway (a dropped
	// connection), the bytes read before are kept and the upload's Offset
	// covers them. A request for the upload meanwhile (GetUpload) stops
	// the read through Body's Interrupt method, if it has one (as the body
	// Handler.ReadStream gives does), else by ending the append's
	// context; the append then keeps what it read and fails with
	// ErrLocked.
	Body io.Reader
	// SetLength, when positive, declares the upload's length: that of an
	// upload created with its length deferred, or else the length it has.
	// Zero (so that the zero AppendRequest declares nothing) and -1
	// declare nothing; a deferred upload of no bytes ends with Complete.
	SetLength int64
	// Complete says the upload ends with this append's last byte (the IETF
	// draft's Upload-Complete: ?1): a deferred length becomes the upload's
	// offset after it.
	Complete bool
	// Checksum, when set, is the digest this append's bytes must have (a
	// per-request checksum such as tus's Upload-Checksum). The append is
	// then all or nothing: a body that fails midway keeps nothing, and
	// bytes whose digest differs are discarded with ErrChunkMismatch,
	// the upload's offset unchanged.
	Checksum *Checksum
}

// Checksum is the digest one append's bytes must have
// (AppendRequest.Checksum).
type Checksum struct {
	// Hash is fed exactly the append's bytes, from its reset state: a new
	// sha1, md5 or sha256 hash, say.
	Hash hash.Hash
	// Sum is what Hash must sum to once the bytes are in.
	Sum []byte
}

// OffsetError is the error of an append whose offset is not the
// upload's. It wraps ErrOffsetMismatch.
type OffsetError struct {
	// Expected is the upload's offset; Provided the append's.
	Expected, Provided int64
}

// Error says both offsets.
func (e *OffsetError) Error() string {
	return fmt.Sprintf("the upload is at offset %d, not %d", e.Expected, e.Provided)
}

// Unwrap returns ErrOffsetMismatch.
func (e *OffsetError) Unwrap() error { return ErrOffsetMismatch }

// LockedError is the error of an append (or a completion) to an upload
// that another request is appending to now. It wraps ErrLocked.
type LockedError struct {
	// Until is when the other request's lease ends unless it renews it;
	// zero when not known.
	Until time.Time
}

// Error says another request appends, and until when, if known.
func (e *LockedError) Error() string {
	if e.Until.IsZero() {
		return "another request is appending to the upload"
	}
	return "another request is appending to the upload, with a lease until " + e.Until.UTC().Format(time.RFC3339)
}

// Unwrap returns ErrLocked.
func (e *LockedError) Unwrap() error { return ErrLocked }

// sessionInfo is what a session's Info holds: the attachment to be.
type sessionInfo struct {
	Name   string            `json:"name"`
	Claim  string            `json:"claim,omitempty"`
	Owner  string            `json:"owner,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	SHA256 []byte            `json:"sha256,omitempty"`
	MD5    []byte            `json:"md5,omitempty"`
	Info   map[string]string `json:"info,omitempty"`
}

// hashState is what a session's Hash holds: the running digests' states
// at its Offset (storage.AppendResult's Hash and MD5Hash).
type hashState struct {
	SHA256 []byte `json:"sha256,omitempty"`
	MD5    []byte `json:"md5,omitempty"`
}

var errNoResumable = errors.New("attachment: resumable uploads need a metadata store with upload sessions (metadata.Uploads)")

// ResumableSupported reports whether the Service can keep resumable
// uploads: whether its metadata store implements metadata.Uploads (every
// store of this module does). Without it, CreateUpload and the other
// methods of resumable uploads fail.
func (s *Service) ResumableSupported() bool {
	_, ok := s.core.meta.(metadata.Uploads)
	return ok
}

func (s *Service) uploads() (metadata.Uploads, error) {
	up, ok := s.core.meta.(metadata.Uploads)
	if !ok {
		return nil, errNoResumable
	}
	return up, nil
}

// CreateUpload starts a resumable upload in the Service's tenant and
// returns its state, at offset 0. It validates the upload as Upload does
// before reading any byte: the name (ErrInvalidFilename), the owner and
// labels, and a Length over Options.MaxFileSize (ErrTooLarge). An upload
// of Length 0 is committed at once (UploadInfo.Attachment is set), or,
// when Partial, complete at once.
func (s *Service) CreateUpload(ctx context.Context, nu *NewUpload) (*UploadInfo, error) {
	up, err := s.uploads()
	if err != nil {
		return nil, err
	}
	c := s.core
	var name string
	if !nu.Partial || nu.File.Name != "" {
		if name, err = c.cleanName(nu.File.Name); err != nil {
			return nil, err
		}
	}
	o, err := c.uploadOptions(&nu.Options)
	if err != nil {
		return nil, err
	}
	if nu.Length < -1 {
		return nil, inputErr(ErrInvalid, "upload length %d is negative", nu.Length)
	}
	if err := c.checkLength(name, nu.Length); err != nil {
		return nil, err
	}
	info, err := json.Marshal(sessionInfo{
		Name: name, Claim: nu.File.ContentType, Owner: o.Owner, Labels: o.Labels,
		SHA256: nu.File.SHA256, MD5: nu.File.MD5, Info: nu.Info,
	})
	if err != nil {
		return nil, fmt.Errorf("attachment: create upload: %w", err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("attachment: new ID: %w", err)
	}
	st, err := c.content.BeginUpload(ctx, id.String())
	if err != nil {
		return nil, fmt.Errorf("attachment: create upload: %w", err)
	}
	stb, err := st.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("attachment: create upload: %w", err)
	}
	now := c.timestamp()
	u, err := up.CreateUpload(ctx, &metadata.Upload{
		ID: id.String(), Tenant: s.tenant, CreatedBy: o.CreatedBy,
		Length: nu.Length, Info: info, Storage: stb, Concat: concatKind(nu.Partial),
		ExpiresAt: now.Add(c.opts.UploadExpiry), CreatedAt: now, UpdatedAt: now,
	})
	if err != nil {
		return nil, fmt.Errorf("attachment: create upload: %w", err)
	}
	if nu.Length == 0 {
		return s.AppendUpload(ctx, u.ID, o.CreatedBy, &AppendRequest{Body: eofReader{}, SetLength: -1})
	}
	return uploadInfo(u)
}

// eofReader is an empty body.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// checkLength refuses a declared length over Options.MaxFileSize.
func (c *core) checkLength(name string, length int64) error {
	if c.opts.MaxFileSize != Off && length > c.opts.MaxFileSize {
		return inputErr(ErrTooLarge, "file %q is larger than %d bytes", name, c.opts.MaxFileSize)
	}
	return nil
}

// GetUpload returns the state of the resumable upload with the ID, which
// by created (NewUpload.Options.CreatedBy); another's, or another
// tenant's, is ErrNotFound, as is an upload terminated or removed by
// Maintain after it expired. One that has expired but is not removed yet
// is ErrGone. The upload of an attachment already committed is returned
// with its Attachment. An upload whose bytes are all in but whose commit
// was cut off (a crash, an outage) is committed now, so that its state
// never says it is complete before it is.
//
// An upload another request is appending to is interrupted: that append
// stops reading (a body from Handler.ReadStream is woken even from a Read
// blocked on a silent connection), saves the bytes it has and lets go,
// in this instance at once and in another within seconds, so that the
// offset returned is where the next append goes; GetUpload waits for
// that up to 5 s, then returns a *LockedError (ErrLocked). A client that
// comes back after its connection died mid-append thus goes on at once.
func (s *Service) GetUpload(ctx context.Context, id, by string) (*UploadInfo, error) {
	up, err := s.uploads()
	if err != nil {
		return nil, err
	}
	u, err := s.session(ctx, up, id, by)
	if err == nil && s.core.heldByOther(u) {
		u, err = s.interruptAppend(ctx, up, u)
	}
	if errors.Is(err, ErrNotFound) {
		return s.committedUpload(ctx, id, by)
	}
	if err != nil {
		return nil, err
	}
	if u.Finishing {
		if u.Concat == metadata.ConcatPartial {
			return s.finishPartial(ctx, up, u, false)
		}
		if u, err = s.claim(ctx, up, u); err != nil {
			return nil, err
		}
		return s.commitUpload(ctx, up, u)
	}
	return uploadInfo(u)
}

// committedUpload is the state of an upload already committed: its
// attachment's, if by created it.
func (s *Service) committedUpload(ctx context.Context, id, by string) (*UploadInfo, error) {
	rec, err := s.core.meta.Get(ctx, s.tenant, id)
	if err != nil {
		return nil, storeErr(id, "get", err)
	}
	if rec.CreatedBy != by {
		return nil, notFound(id)
	}
	return &UploadInfo{ID: id, Length: rec.Size, Offset: rec.Size, Attachment: fromRecord(rec)}, nil
}

// session reads the upload id of the tenant that by created.
func (s *Service) session(ctx context.Context, up metadata.Uploads, id, by string) (*metadata.Upload, error) {
	if !validID(id) {
		return nil, notFound(id)
	}
	u, err := up.GetUpload(ctx, s.tenant, id)
	if err != nil {
		return nil, storeErr(id, "get upload", err)
	}
	if u.CreatedBy != by {
		return nil, notFound(id)
	}
	if (!u.Finishing || u.Concat == metadata.ConcatPartial) && u.ExpiresAt.Before(s.core.now()) {
		return nil, inputErr(ErrGone, "upload %s has expired", id)
	}
	return u, nil
}

// TerminateUpload ends a resumable upload that by created and removes its
// bytes; afterwards the ID is ErrNotFound. An append running meanwhile
// fails and leaves nothing either. An upload already committed is not
// changed (ErrNotFound: delete the attachment instead).
func (s *Service) TerminateUpload(ctx context.Context, id, by string) error {
	up, err := s.uploads()
	if err != nil {
		return err
	}
	for {
		u, err := s.session(ctx, up, id, by)
		if err != nil && !errors.Is(err, ErrGone) {
			return err
		}
		if err != nil { // expired: read it anyway, to remove it
			if u, err = up.GetUpload(ctx, s.tenant, id); err != nil {
				return storeErr(id, "get upload", err)
			}
		}
		err = up.DeleteUpload(ctx, s.tenant, id, u.Version)
		if errors.Is(err, metadata.ErrStale) {
			continue // an append saved meanwhile: delete what it saved
		}
		if err != nil {
			return storeErr(id, "terminate upload", err)
		}
		s.core.dropUpload(ctx, u)
		return nil
	}
}

// dropUpload removes the bytes of a session already deleted: its keys
// under storage.UploadPrefix, and for one that was finishing its content,
// unless a record has it. Failures are logged: Maintain removes what is
// left.
func (c *core) dropUpload(ctx context.Context, u *metadata.Upload) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.CommitTimeout)
	defer cancel()
	var st *storage.UploadState
	if len(u.Storage) > 0 {
		st = new(storage.UploadState)
		if err := st.UnmarshalBinary(u.Storage); err != nil {
			st = nil
		}
	}
	if err := c.content.DiscardUpload(dctx, u.ID, st); err != nil {
		c.log.Error("attachment: remove the bytes of an upload (Maintain removes what is left)", "id", u.ID, "err", err)
	}
	if u.Finishing {
		if _, err := c.meta.Get(dctx, u.Tenant, u.ID); errors.Is(err, metadata.ErrNotFound) {
			if err := c.content.Delete(dctx, u.ID); err != nil {
				c.log.Error("attachment: remove the content of an upload (Maintain removes what is left)", "id", u.ID, "err", err)
			}
		}
	}
}

// uploadInfo is the state of session u.
func uploadInfo(u *metadata.Upload) (*UploadInfo, error) {
	var si sessionInfo
	if err := json.Unmarshal(u.Info, &si); err != nil {
		return nil, fmt.Errorf("attachment: upload %s: malformed info: %w", u.ID, err)
	}
	return &UploadInfo{
		ID: u.ID, Length: u.Length, Offset: u.Offset, ExpiresAt: u.ExpiresAt, Info: si.Info,
		Partial: u.Concat == metadata.ConcatPartial, Complete: u.Concat == metadata.ConcatPartial && u.Finishing,
	}, nil
}
