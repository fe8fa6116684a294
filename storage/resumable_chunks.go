package storage

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"gocloud.dev/gcerrors"
)

// Chunks mode: one object per append, streamed into the content key when
// the upload is finished.

// chunkKey is the key of the ModeChunks chunk at offset.
func chunkKey(id string, offset int64) string {
	return fmt.Sprintf("%sc-%016x", UploadPrefix(id), offset)
}

// appendChunk is Append in ModeChunks: one object through the pipeline
// WriteContent uses. It returns as appendFile does.
func (s *Store) appendChunk(ctx context.Context, id string, st *UploadState, r io.Reader, cfg pipeConfig) (n int64, cut, err error) {
	key := chunkKey(id, st.Size)
	u := newUpload(ctx, r, cfg, s.timeout)
	defer u.release()
	if err := s.put(ctx, key, "append to "+id, "application/octet-stream", u); err != nil {
		return 0, nil, err
	}
	if u.res.Size == 0 {
		s.discard(ctx, key) // no chunk of no bytes
	}
	return u.res.Size, u.cut, nil
}

// finishChunks copies the chunks into the content key, unless an earlier
// run did.
func (s *Store) finishChunks(ctx context.Context, id string, st *UploadState, o *FinishOptions) error {
	var want [sha256.Size]byte
	if o.Hash != nil {
		h, err := resumeHash(sha256.New, "SHA-256", o.Hash, st.Size)
		if err != nil {
			return err
		}
		copy(want[:], h.Sum(nil))
	}
	// WriteContent commits only content that passed the checks below, so
	// content of st.Size bytes is that of an earlier run.
	cctx, done := s.call(ctx)
	attrs, err := s.bucket.Attributes(cctx, ContentKey(id))
	err = done(err)
	switch {
	case err == nil && attrs.Size == st.Size:
		return nil
	case err != nil && gcerrors.Code(err) != gcerrors.NotFound:
		return wrap(err, "finish %s", id)
	}
	cr := &chunkReader{ctx: ctx, s: s, id: id, chunks: st.Chunks}
	defer cr.close()
	_, err = s.WriteContent(ctx, id, cr, &WriteOptions{
		ContentType: o.ContentType,
		Check: func(res WriteResult) error {
			if res.Size != st.Size {
				return fmt.Errorf("storage: finish %s: %w: %d bytes in the chunks of %d", id, ErrUploadLost, res.Size, st.Size)
			}
			if o.Hash != nil && res.SHA256 != want {
				return fmt.Errorf("storage: finish %s: %w: the chunks' SHA-256 is not the one appended", id, ErrUploadLost)
			}
			return nil
		},
	})
	return err
}

// chunkReader reads a ModeChunks upload's chunks in order, opening each
// in turn.
type chunkReader struct {
	ctx    context.Context
	s      *Store
	id     string
	chunks []Chunk
	cur    *Object
	left   int64 // bytes of the current chunk not yet read
}

// Read reads the chunks' bytes; a chunk of another size than its state
// says is an error wrapping ErrUploadLost.
func (r *chunkReader) Read(p []byte) (int, error) {
	for r.cur == nil {
		if len(r.chunks) == 0 {
			return 0, io.EOF
		}
		c := r.chunks[0]
		r.chunks = r.chunks[1:]
		obj, err := r.s.open(r.ctx, chunkKey(r.id, c.Offset))
		if errors.Is(err, ErrNotFound) {
			return 0, fmt.Errorf("%w: %w", ErrUploadLost, err)
		}
		if err != nil {
			return 0, err
		}
		if obj.Size() != c.Size {
			_ = obj.Close()
			return 0, fmt.Errorf("%w: chunk at %d holds %d bytes of %d", ErrUploadLost, c.Offset, obj.Size(), c.Size)
		}
		r.cur, r.left = obj, c.Size
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.cur.Read(p)
	r.left -= int64(n)
	if r.left == 0 {
		r.close()
		return n, nil
	}
	if err == io.EOF {
		err = fmt.Errorf("%w: chunk ended early", ErrUploadLost)
	}
	return n, err
}

// close closes the chunk being read, if any.
func (r *chunkReader) close() {
	if r.cur != nil {
		_ = r.cur.Close()
		r.cur = nil
	}
}

// Close closes the chunk being read.
func (r *chunkReader) Close() error {
	r.close()
	return nil
}
