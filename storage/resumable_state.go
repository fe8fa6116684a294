package storage

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// The state of an unfinished upload, and its marshaling.

// UploadMode is how a Store keeps the bytes of an unfinished upload.
type UploadMode uint8

// Upload modes.
const (
	// ModeFile appends in place to one file, uploads/{id}/data, which
	// FinishUpload renames to the content's file: a Store that knows its
	// bucket's directory (FileDir, or Open of a file:// URL).
	ModeFile UploadMode = 1
	// ModeChunks writes each append to an object of its own,
	// uploads/{id}/c-{offset as 16 hex digits}, which FinishUpload copies
	// in order into the content key: any bucket.
	ModeChunks UploadMode = 2
	// ModeMultipart uploads the bytes as the parts of one multipart
	// upload of the content key, and keeps the bytes after the last part
	// (fewer than the server's least part size) in a tail object,
	// uploads/{id}/tail-{random}; FinishUpload uploads the tail as the
	// last part and completes the upload, with no copy: a Store whose
	// bucket's Multipart is a MultipartWriter (S3 with storage/s3uploads).
	ModeMultipart UploadMode = 3
)

// String returns the mode's name.
func (m UploadMode) String() string {
	switch m {
	case ModeFile:
		return "file"
	case ModeChunks:
		return "chunks"
	case ModeMultipart:
		return "multipart"
	}
	return fmt.Sprintf("UploadMode(%d)", uint8(m))
}

// UploadState says where the bytes of an unfinished upload are. The Store
// makes it (BeginUpload, Append); the caller keeps it, marshaled with
// MarshalBinary, beside the rest of the upload's state, and hands it back
// to the next call. A state the Store returned is never changed by it.
type UploadState struct {
	// Mode is how the bytes are kept.
	Mode UploadMode
	// Size is how many bytes the state describes.
	Size int64
	// Chunks are the chunk objects of ModeChunks in order: the first at
	// offset 0, each after the one before, their sizes adding up to Size.
	// Nil in the other modes.
	Chunks []Chunk
	// MultipartID is the ID of a ModeMultipart upload's multipart upload,
	// started with its first part: "" while it has none.
	MultipartID string
	// Parts are a ModeMultipart upload's parts, in ascending Number: the
	// bytes from offset 0 up to the tail. Parts uploaded past the state
	// (an append whose result was not saved) are not among them, and
	// FinishUpload drops them.
	Parts []Part
	// NextPart is the number of the next part a ModeMultipart append
	// uploads; 0 means 1.
	NextPart int32
	// Tail is a ModeMultipart upload's object holding the bytes after
	// its last part, nil when there are none.
	Tail *Tail
}

// Tail is the object of a ModeMultipart upload holding the bytes after
// its last part. Each append that leaves bytes after its last part writes
// a new one, under a fresh name, so the tail a saved state names is never
// written over.
type Tail struct {
	// Name is the object's key under UploadPrefix(id): "tail-" and
	// random hex digits.
	Name string
	// Size is the object's length in bytes, more than zero.
	Size int64
}

// Key is the tail's key in the upload with the ID.
func (t *Tail) Key(id string) string { return UploadPrefix(id) + t.Name }

// Chunk is one object of a ModeChunks upload.
type Chunk struct {
	// Offset is where the chunk's bytes start in the upload; the key is
	// made from it (chunkKey).
	Offset int64
	// Size is the chunk's length in bytes, more than zero.
	Size int64
}

// Key is the chunk's key in the upload with the ID.
func (c Chunk) Key(id string) string { return chunkKey(id, c.Offset) }

// uploadStateVersion is the first byte of a marshaled UploadState of
// ModeFile or ModeChunks; multipartStateVersion that of one of
// ModeMultipart, whose encoding goes on with its own fields. Both are
// read; a state of the older modes is written as before.
const (
	uploadStateVersion    = 1
	multipartStateVersion = 2
)

// MarshalBinary encodes the state compactly: a version byte, the mode,
// the size and the chunk sizes as varints (offsets follow from them).
func (st *UploadState) MarshalBinary() ([]byte, error) {
	if err := st.check(); err != nil {
		return nil, err
	}
	if st.Mode == ModeMultipart {
		return st.marshalMultipart(), nil
	}
	b := make([]byte, 0, 2+binary.MaxVarintLen64*(2+len(st.Chunks)))
	b = append(b, uploadStateVersion, byte(st.Mode))
	b = binary.AppendUvarint(b, uint64(st.Size))
	b = binary.AppendUvarint(b, uint64(len(st.Chunks)))
	for _, c := range st.Chunks {
		b = binary.AppendUvarint(b, uint64(c.Size))
	}
	return b, nil
}

// UnmarshalBinary decodes a state MarshalBinary encoded. Anything else,
// another version included, is an error wrapping ErrUploadState.
func (st *UploadState) UnmarshalBinary(b []byte) error {
	bad := func(what string) error { return fmt.Errorf("%w: %s", ErrUploadState, what) }
	if len(b) < 2 {
		return bad("too short")
	}
	if b[0] == multipartStateVersion {
		return st.unmarshalMultipart(b)
	}
	if b[0] != uploadStateVersion {
		return bad(fmt.Sprintf("version %d", b[0]))
	}
	out := UploadState{Mode: UploadMode(b[1])}
	if out.Mode == ModeMultipart {
		return bad("a multipart state in version 1")
	}
	b = b[2:]
	next := func() (int64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 || v > 1<<62 {
			return 0, false
		}
		b = b[n:]
		return int64(v), true
	}
	size, ok := next()
	count, ok2 := next()
	if !ok || !ok2 || count > int64(len(b)) {
		return bad("malformed")
	}
	out.Size = size
	if count > 0 {
		out.Chunks = make([]Chunk, count)
	}
	var off int64
	for i := range out.Chunks {
		n, ok := next()
		if !ok {
			return bad("malformed chunk")
		}
		out.Chunks[i] = Chunk{Offset: off, Size: n}
		off += n
	}
	if len(b) != 0 {
		return bad("trailing bytes")
	}
	if err := out.check(); err != nil {
		return err
	}
	*st = out
	return nil
}

// check reports whether st is well formed.
func (st *UploadState) check() error {
	if st == nil {
		return fmt.Errorf("%w: nil", ErrUploadState)
	}
	if st.Size < 0 {
		return fmt.Errorf("%w: negative size", ErrUploadState)
	}
	switch st.Mode {
	case ModeFile:
		if len(st.Chunks) > 0 {
			return fmt.Errorf("%w: chunks in file mode", ErrUploadState)
		}
		if st.MultipartID != "" || len(st.Parts) > 0 || st.NextPart != 0 || st.Tail != nil {
			return fmt.Errorf("%w: multipart fields in %v mode", ErrUploadState, st.Mode)
		}
	case ModeMultipart:
		return st.checkMultipart()
	case ModeChunks:
		var off int64
		for _, c := range st.Chunks {
			if c.Offset != off || c.Size <= 0 {
				return fmt.Errorf("%w: chunk at %d of %d bytes, want one at %d", ErrUploadState, c.Offset, c.Size, off)
			}
			off += c.Size
		}
		if off != st.Size {
			return fmt.Errorf("%w: chunks hold %d bytes of %d", ErrUploadState, off, st.Size)
		}
		if st.MultipartID != "" || len(st.Parts) > 0 || st.NextPart != 0 || st.Tail != nil {
			return fmt.Errorf("%w: multipart fields in %v mode", ErrUploadState, st.Mode)
		}
	default:
		return fmt.Errorf("%w: mode %v", ErrUploadState, st.Mode)
	}
	return nil
}

// with returns a copy of st grown by n bytes (in chunks mode, one chunk).
func (st *UploadState) with(n int64) *UploadState {
	next := &UploadState{Mode: st.Mode, Size: st.Size + n}
	if st.Mode == ModeChunks {
		next.Chunks = append(make([]Chunk, 0, len(st.Chunks)+1), st.Chunks...)
		next.Chunks = append(next.Chunks, Chunk{Offset: st.Size, Size: n})
	}
	return next
}

// checkMultipart reports whether a ModeMultipart state is well formed.
func (st *UploadState) checkMultipart() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrUploadState, fmt.Sprintf(format, a...))
	}
	if len(st.Chunks) > 0 {
		return bad("chunks in multipart mode")
	}
	if (st.MultipartID == "") != (len(st.Parts) == 0) {
		return bad("a multipart upload ID without parts, or parts without one")
	}
	var sum int64
	last := int32(0)
	for _, p := range st.Parts {
		if p.Number <= last || p.Size <= 0 || p.ETag == "" {
			return bad("part %d of %d bytes after part %d", p.Number, p.Size, last)
		}
		last = p.Number
		sum += p.Size
	}
	if st.NextPart < 0 || (len(st.Parts) > 0 && st.NextPart <= last) {
		return bad("next part %d after part %d", st.NextPart, last)
	}
	if t := st.Tail; t != nil {
		if t.Size <= 0 || !strings.HasPrefix(t.Name, "tail-") || strings.ContainsAny(t.Name, "/\\\x00") {
			return bad("tail %q of %d bytes", t.Name, t.Size)
		}
		sum += t.Size
	}
	if sum != st.Size {
		return bad("parts and tail hold %d bytes of %d", sum, st.Size)
	}
	return nil
}

// marshalMultipart encodes a ModeMultipart state: the version byte, the
// mode, the size, the multipart upload's ID, the next part's number, the
// parts (number, size, ETag, CRC32) and the tail (size, then name if
// any), numbers as varints and strings prefixed by their length.
func (st *UploadState) marshalMultipart() []byte {
	str := func(b []byte, s string) []byte { return append(binary.AppendUvarint(b, uint64(len(s))), s...) }
	b := []byte{multipartStateVersion, byte(ModeMultipart)}
	b = binary.AppendUvarint(b, uint64(st.Size))
	b = str(b, st.MultipartID)
	b = binary.AppendUvarint(b, uint64(st.NextPart))
	b = binary.AppendUvarint(b, uint64(len(st.Parts)))
	for _, p := range st.Parts {
		b = binary.AppendUvarint(b, uint64(p.Number))
		b = binary.AppendUvarint(b, uint64(p.Size))
		b = str(b, p.ETag)
		b = str(b, p.CRC32)
	}
	if st.Tail == nil {
		return binary.AppendUvarint(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(st.Tail.Size))
	return str(b, st.Tail.Name)
}

// unmarshalMultipart decodes what marshalMultipart encoded.
func (st *UploadState) unmarshalMultipart(b []byte) error {
	bad := fmt.Errorf("%w: malformed multipart state", ErrUploadState)
	if len(b) < 2 || b[1] != byte(ModeMultipart) {
		return bad
	}
	b = b[2:]
	ok := true
	num := func(limit uint64) uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 || v > limit {
			ok = false
			return 0
		}
		b = b[n:]
		return v
	}
	str := func() string {
		n := num(uint64(len(b)))
		if !ok || n > uint64(len(b)) {
			ok = false
			return ""
		}
		s := string(b[:n])
		b = b[n:]
		return s
	}
	out := UploadState{Mode: ModeMultipart}
	out.Size = int64(num(1 << 62))
	out.MultipartID = str()
	out.NextPart = int32(num(1<<31 - 1))
	count := num(uint64(len(b)))
	for i := uint64(0); ok && i < count; i++ {
		p := Part{Number: int32(num(1<<31 - 1)), Size: int64(num(1 << 62))}
		p.ETag, p.CRC32 = str(), str()
		out.Parts = append(out.Parts, p)
	}
	if tail := int64(num(1 << 62)); ok && tail > 0 {
		out.Tail = &Tail{Size: tail, Name: str()}
	}
	if !ok || len(b) != 0 {
		return bad
	}
	if err := out.check(); err != nil {
		return err
	}
	*st = out
	return nil
}
