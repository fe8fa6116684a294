package storage

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"strings"

	"gocloud.dev/blob"
)

// Errors of resumable uploads; test them with errors.Is.
var (
	// ErrUploadState: an UploadState (or a hash state handed back with
	// it) is malformed, of a mode the Store does not write, or does not
	// match the bytes or the call it came with.
	ErrUploadState = errors.New("storage: invalid upload state")
	// ErrUploadLost: bytes an UploadState describes are no longer in the
	// bucket (a lost or truncated file, a missing chunk, a checksum that
	// no longer matches). The upload cannot go on; discard it.
	ErrUploadLost = errors.New("storage: upload's bytes lost")
)

// UploadPrefix is the key prefix under which the bytes of the unfinished
// upload with the ID are kept.
func UploadPrefix(id string) string { return UploadsPrefix + id + "/" }

// AppendOptions tunes one Append. The zero value (or nil) appends with
// no size limit to a new upload, with no MD5.
type AppendOptions struct {
	// MaxBytes, when positive, bounds the upload's whole length (what the
	// state holds plus this append): a reader that takes it past MaxBytes
	// fails the append with ErrTooLarge.
	MaxBytes int64
	// Hash is the SHA-256 state at the state's size: AppendResult.Hash of
	// the append that made the state. Nil for an empty upload.
	Hash []byte
	// MD5 keeps an MD5 state beside the SHA-256 (AppendResult.MD5Hash),
	// for a Content-MD5 check at the end. It must be asked for from the
	// first append on.
	MD5 bool
	// MD5Hash is the MD5 state at the state's size, when MD5: the
	// AppendResult.MD5Hash of the append that made the state. Nil for an
	// empty upload.
	MD5Hash []byte
	// ChunkHash, when set, is fed with exactly this append's bytes (a
	// per-request checksum such as tus's Upload-Checksum). Append neither
	// resets nor checks it.
	ChunkHash hash.Hash
	// KeepPrefix makes a failure of the reader, or the end of ctx, keep
	// what was read: it is durable, and the result describes it, with the
	// failure as the error. Without it (and on any other failure) the
	// append leaves the state's bytes as they were.
	KeepPrefix bool
	// ContentType is the content's type, in ModeMultipart: the multipart
	// upload started by the append that uploads the first part records
	// it (application/octet-stream when empty). Other modes, and an
	// upload that ends with no part, take FinishOptions.ContentType.
	ContentType string
	// PartSize is the size of a ModeMultipart part (and of its buffer:
	// see PartBuffers), bounded by the bucket's MultipartLimits; 8 MiB
	// when not positive.
	PartSize int64
}

// AppendResult is what an Append made durable.
type AppendResult struct {
	// State describes the upload's bytes, the appended ones included.
	State *UploadState
	// N is how many bytes the append added.
	N int64
	// Hash is the SHA-256 state at State.Size (crypto/sha256's
	// MarshalBinary): hand it to the next Append, and to FinishUpload.
	Hash []byte
	// MD5Hash is the MD5 state at State.Size, when AppendOptions.MD5.
	MD5Hash []byte
}

// checkUploadID refuses an ID that could name a key or file outside the
// upload's own: keys are made from the server-assigned ID alone.
func checkUploadID(id string) error {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\\\x00") {
		return fmt.Errorf("%w: upload ID %q", ErrUploadState, id)
	}
	return nil
}

// UploadMode is the mode in which the Store keeps new uploads: ModeFile
// when it knows its bucket's directory, ModeMultipart when its bucket's
// Multipart (WithMultipart, or the registered openers') is a
// MultipartWriter, else ModeChunks.
func (s *Store) UploadMode() UploadMode {
	if s.dir != "" {
		return ModeFile
	}
	if s.multipartWriter() != nil {
		return ModeMultipart
	}
	return ModeChunks
}

// BeginUpload returns the state of a new, empty upload with the ID. It
// writes nothing: the first Append does.
func (s *Store) BeginUpload(ctx context.Context, id string) (*UploadState, error) {
	if err := checkUploadID(id); err != nil {
		return nil, err
	}
	return &UploadState{Mode: s.UploadMode()}, nil
}

// checkUpload checks the arguments every upload call takes.
func (s *Store) checkUpload(id string, st *UploadState) error {
	if err := checkUploadID(id); err != nil {
		return err
	}
	if err := st.check(); err != nil {
		return err
	}
	// A Store that writes multipart uploads still takes the chunks of
	// one begun before it did (an S3 Store before storage/s3uploads
	// wrote them).
	if mode := s.UploadMode(); st.Mode != mode && (st.Mode != ModeChunks || mode != ModeMultipart) {
		return fmt.Errorf("%w: a %v upload on a Store that writes %v uploads", ErrUploadState, st.Mode, mode)
	}
	return nil
}

// Append writes r's bytes after those st describes, never changing
// those, and returns the state that describes them all once they are
// durable: as durable as WriteContent's content (no fsync on a local
// directory: a kill of the process loses nothing, a power loss may). It
// hashes on the way as WriteContent does, continuing the running SHA-256
// (and MD5) from o's states, so that no byte is ever hashed twice.
//
// In ModeFile it writes into uploads/{id}/data at st.Size, first cutting
// off bytes past st.Size (left by an append whose result was not saved); a
// file shorter than st.Size fails with ErrUploadLost. In ModeChunks it
// writes one new object, uploads/{id}/c-{offset}; an append of no bytes
// writes none. In ModeMultipart it reads the tail back (its bytes are not
// hashed again), uploads each full part buffer (o.PartSize) as the next
// part of the content key's multipart upload, started with the first
// part, and writes what is left after the last part as a new tail object
// (or a part, when it is large enough); tails of earlier states are
// deleted by the next append.
//
// On error the result is st with o's hash states, and nothing past st is
// left, except with o.KeepPrefix after a failure of r or the end of ctx:
// then the result describes what was read and made durable, and the error
// says why it ended. The caller saves the result before it answers; if it
// cannot, Rollback removes what the append wrote.
func (s *Store) Append(ctx context.Context, id string, st *UploadState, r io.Reader, o *AppendOptions) (AppendResult, error) {
	if o == nil {
		o = &AppendOptions{}
	}
	kept := AppendResult{State: st, Hash: o.Hash, MD5Hash: o.MD5Hash}
	if err := s.checkUpload(id, st); err != nil {
		return kept, err
	}
	cfg := pipeConfig{base: st.Size, limit: o.MaxBytes, md5: o.MD5, extra: o.ChunkHash, keep: o.KeepPrefix}
	var err error
	if cfg.sha256, err = resumeHash(sha256.New, "SHA-256", o.Hash, st.Size); err != nil {
		return kept, err
	}
	if o.MD5 {
		if cfg.md5h, err = resumeHash(md5.New, "MD5", o.MD5Hash, st.Size); err != nil {
			return kept, err
		}
	}
	var n int64
	var cut error
	var next *UploadState
	switch st.Mode {
	case ModeFile:
		n, cut, err = s.appendFile(ctx, id, st, r, cfg)
	case ModeMultipart:
		if next, cut, err = s.appendMultipart(ctx, id, st, r, cfg, o); err == nil {
			n = next.Size - st.Size
		}
	default:
		n, cut, err = s.appendChunk(ctx, id, st, r, cfg)
	}
	if err != nil {
		return kept, err
	}
	if n == 0 {
		return kept, cut
	}
	if next == nil {
		next = st.with(n)
	}
	res := AppendResult{State: next, N: n}
	if res.Hash, err = marshalHash(cfg.sha256); err == nil && o.MD5 {
		res.MD5Hash, err = marshalHash(cfg.md5h)
	}
	if err != nil {
		// Cannot happen with the standard library's digests; the bytes
		// would be durable but unusable without their hash state.
		_ = s.Rollback(context.WithoutCancel(ctx), id, st, res)
		return kept, err
	}
	return res, cut
}

// resumeHash returns a fresh digest of newHash's kind in state, which must
// cover size bytes; a nil state is a fresh digest, for size 0 only.
func resumeHash(newHash func() hash.Hash, name string, state []byte, size int64) (hash.Hash, error) {
	h := newHash()
	if state == nil {
		if size != 0 {
			return nil, fmt.Errorf("%w: no %s state for an upload of %d bytes", ErrUploadState, name, size)
		}
		return h, nil
	}
	// crypto/sha256's and crypto/md5's states end with the length hashed,
	// as a big-endian uint64: a state of another upload or offset shows.
	if len(state) < 8 || binary.BigEndian.Uint64(state[len(state)-8:]) != uint64(size) {
		return nil, fmt.Errorf("%w: the %s state is not at offset %d", ErrUploadState, name, size)
	}
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, fmt.Errorf("%w: %s state: %w", ErrUploadState, name, err)
	}
	return h, nil
}

// marshalHash returns h's state.
func marshalHash(h hash.Hash) ([]byte, error) {
	m, ok := h.(encoding.BinaryMarshaler)
	if !ok {
		return nil, fmt.Errorf("storage: %T cannot save its state", h)
	}
	return m.MarshalBinary()
}

// Rollback removes what the Append that returned res wrote past kept,
// the state it was given, when the caller could not save res (its
// checksum did not match, the save failed). kept's bytes stay as they
// are. Removing what is already gone is no error.
func (s *Store) Rollback(ctx context.Context, id string, kept *UploadState, res AppendResult) error {
	if err := s.checkUpload(id, kept); err != nil {
		return err
	}
	if res.State == nil || res.State.Size <= kept.Size {
		return nil
	}
	if err := s.checkUpload(id, res.State); err != nil {
		return err
	}
	if kept.Mode == ModeMultipart {
		return s.rollbackMultipart(ctx, id, kept, res.State)
	}
	if kept.Mode == ModeFile {
		if err := truncateTo(s.dataFile(id), kept.Size); err != nil {
			return wrap(err, "roll back %s", id)
		}
		return nil
	}
	for _, c := range res.State.Chunks {
		if c.Offset >= kept.Size {
			if err := s.deleteKey(ctx, chunkKey(id, c.Offset)); err != nil {
				return err
			}
		}
	}
	return nil
}

// FinishOptions tunes FinishUpload.
type FinishOptions struct {
	// Hash is the SHA-256 state of the upload's last AppendResult. In
	// ModeChunks the copy into the content key is checked against it
	// before it is committed: chunks changed since they were written fail
	// with ErrUploadLost. Nil skips the check. ModeFile moves the file
	// Append wrote and hashed, and ModeMultipart completes the parts
	// Append uploaded and hashed (the server checks each part's ETag):
	// neither reads a byte again.
	Hash []byte
	// ContentType is recorded with the content in ModeChunks, where the
	// driver supports it, and in ModeMultipart for an upload that has no
	// part (one with parts has AppendOptions.ContentType). ModeFile
	// records none: fileblob reports application/octet-stream for it (as
	// for any blob of a bucket opened with metadata=skip).
	ContentType string
}

// FinishUpload makes the bytes st describes the content of the attachment
// with the ID (ContentKey(id)), then removes every key under
// UploadPrefix(id). In ModeFile it renames the file, with no copy; in
// ModeChunks it streams the chunks in order through WriteContent; in
// ModeMultipart it uploads the tail as the last part and completes the
// multipart upload, with no copy, or, for an upload that has no part, puts
// the tail (or nothing) at the content key. It is
// idempotent: run again after a crash midway, or after it succeeded, it
// finishes what is left and returns nil once the content holds st.Size
// bytes and nothing is left under the prefix.
func (s *Store) FinishUpload(ctx context.Context, id string, st *UploadState, o *FinishOptions) error {
	if o == nil {
		o = &FinishOptions{}
	}
	if err := s.checkUpload(id, st); err != nil {
		return err
	}
	var err error
	switch st.Mode {
	case ModeFile:
		err = s.finishFile(id, st)
	case ModeMultipart:
		err = s.finishMultipart(ctx, id, st, o)
	default:
		err = s.finishChunks(ctx, id, st, o)
	}
	if err != nil {
		return err
	}
	return s.DiscardUpload(ctx, id, st)
}

// OpenUpload reads the bytes st describes, without finishing the upload.
// The caller must close the reader.
func (s *Store) OpenUpload(ctx context.Context, id string, st *UploadState) (io.ReadCloser, error) {
	if err := s.checkUpload(id, st); err != nil {
		return nil, err
	}
	switch st.Mode {
	case ModeChunks:
		return &chunkReader{ctx: ctx, s: s, id: id, chunks: st.Chunks}, nil
	case ModeMultipart:
		return s.openMultipart(ctx, id, st)
	}
	f, err := os.Open(s.dataFile(id))
	if errors.Is(err, fs.ErrNotExist) && st.Size == 0 {
		return io.NopCloser(strings.NewReader("")), nil
	}
	if err != nil {
		return nil, wrap(err, "open upload %s", id)
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() < st.Size {
		err = fmt.Errorf("%w: %d bytes on disk of %d", ErrUploadLost, fi.Size(), st.Size)
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("storage: open upload %s: %w", id, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, st.Size), f}, nil
}

// DiscardUpload removes every key under UploadPrefix(id): the bytes of an
// upload that is terminated, expired or failed, or what is left of one. In
// ModeMultipart it first aborts st's multipart upload (twice: parts still
// uploading during an abort may outlive it) and any other pending one of
// the content key (started by an append whose result was never saved). st
// may be nil (a walk of the bucket finds keys without their state). Keys
// and uploads already gone are no error, so a failed DiscardUpload can
// simply be run again.
func (s *Store) DiscardUpload(ctx context.Context, id string, st *UploadState) error {
	if err := checkUploadID(id); err != nil {
		return err
	}
	if s.UploadMode() == ModeMultipart {
		if err := s.abortUploads(ctx, id, st); err != nil {
			return err
		}
	}
	if s.dir != "" {
		if err := os.RemoveAll(s.uploadDir(id)); err != nil {
			return wrap(err, "discard %s", id)
		}
		return nil
	}
	it := s.bucket.List(&blob.ListOptions{Prefix: UploadPrefix(id)})
	for {
		cctx, done := s.call(ctx)
		obj, err := it.Next(cctx)
		err = done(err)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return wrap(err, "list upload %s", id)
		}
		if err := s.deleteKey(ctx, obj.Key); err != nil {
			return err
		}
	}
}
