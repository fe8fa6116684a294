package storage

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"sync"
	"time"

	"gocloud.dev/blob"

	"github.com/attachkit/attachment/internal/iox"
)

// chunkSize is the size of one read from the client and one write to the
// bucket. pipeDepth buffers let hashing run up to pipeDepth-1 chunks behind
// the write, on another core.
const (
	chunkSize = 256 << 10
	pipeDepth = 3
)

// cleanupTimeout bounds the removal of a failed write's leftovers, which
// runs even after the caller's context is done.
const cleanupTimeout = 30 * time.Second

// WriteOptions tunes one content write. The zero value (or nil) writes
// with no size limit, no MD5 and no content type recorded in the bucket.
type WriteOptions struct {
	// ContentType is recorded with the blob where the driver supports it.
	ContentType string
	// MaxBytes, when positive, bounds the content's length: a reader that
	// yields more fails the write with ErrTooLarge after reading at most
	// MaxBytes+1 bytes.
	MaxBytes int64
	// MD5 asks for the content's MD5 in WriteResult.MD5 (for clients that
	// send Content-MD5).
	MD5 bool
	// Check, when set, is called once all content has been read and before
	// it is committed: an error aborts the write, leaves nothing stored, and
	// is returned as it is.
	Check func(WriteResult) error
}

// WriteResult describes content written.
type WriteResult struct {
	// Size is the content's length in bytes.
	Size int64
	// SHA256 is the content's SHA-256 digest.
	SHA256 [sha256.Size]byte
	// MD5 is the content's MD5 digest when WriteOptions.MD5 asked for it.
	MD5 []byte
}

// bufPool holds sets of pipeDepth chunk buffers.
var bufPool = sync.Pool{New: func() any {
	bufs := make([][]byte, pipeDepth)
	for i := range bufs {
		bufs[i] = make([]byte, chunkSize)
	}
	return &bufs
}}

// WriteContent streams r into the content of the attachment with the ID,
// computing its SHA-256 (and MD5 if asked) on the way. It returns only once
// the content is committed to the bucket. On any error, a cancelled ctx, a
// failing reader, ErrTooLarge or an error from opts.Check, nothing is left
// under the key.
func (s *Store) WriteContent(ctx context.Context, id string, r io.Reader, opts *WriteOptions) (WriteResult, error) {
	if opts == nil {
		opts = &WriteOptions{}
	}
	key := ContentKey(id)
	// Cancelling wctx before Close is what makes the driver discard a
	// partial object instead of committing it.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := s.bucket.NewWriter(wctx, key, &blob.WriterOptions{
		ContentType:                 opts.ContentType,
		DisableContentTypeDetection: true,
		BufferSize:                  5 << 20,
	})
	if err != nil {
		return WriteResult{}, fmt.Errorf("storage: write %s: %w", id, err)
	}
	res, err := copyHashed(w, r, opts)
	if err == nil && opts.Check != nil {
		err = opts.Check(res)
	}
	if err != nil {
		cancel()
		_ = w.Close()
		s.discard(ctx, key)
		return WriteResult{}, err
	}
	if err := w.Close(); err != nil {
		s.discard(ctx, key)
		return WriteResult{}, fmt.Errorf("storage: commit %s: %w", id, err)
	}
	return res, nil
}

// discard deletes key after a failed write, in case a driver committed a
// partial object despite the cancelled context. It runs even if ctx is
// done, bounded by its own timeout.
func (s *Store) discard(ctx context.Context, key string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_ = s.deleteKey(dctx, key)
}

// copyHashed copies r to w in chunkSize pieces. The SHA-256 (and MD5) of a
// chunk is computed on a second goroutine while the next chunks are read
// and written, so hashing costs little wall time on a machine with a core
// to spare. Content that fits in one chunk is hashed inline.
func copyHashed(w io.Writer, r io.Reader, opts *WriteOptions) (WriteResult, error) {
	bp := bufPool.Get().(*[][]byte)
	defer bufPool.Put(bp)
	bufs := *bp

	var res WriteResult
	hashers := []hash.Hash{sha256.New()}
	if opts.MD5 {
		hashers = append(hashers, md5.New())
	}
	hashAll := func(p []byte) {
		for _, h := range hashers {
			h.Write(p)
		}
	}
	limit := opts.MaxBytes

	var (
		toHash chan []byte
		hashed chan struct{}
	)
	inFlight := 0
	// drain waits for every chunk sent to the hashing goroutine and stops
	// it. It must run before the buffers go back to the pool.
	drain := func() {
		if toHash != nil {
			close(toHash)
			for ; inFlight > 0; inFlight-- {
				<-hashed
			}
			toHash = nil
		}
	}
	defer drain()

	for i := 0; ; i++ {
		buf := bufs[i%pipeDepth]
		// buf was last filled pipeDepth chunks ago; hashing is in order, so
		// once at most pipeDepth-1 chunks are unhashed, buf is free.
		for ; inFlight > pipeDepth-1; inFlight-- {
			<-hashed
		}
		n, last, rerr := iox.Fill(r, buf)
		if rerr != nil {
			return WriteResult{}, fmt.Errorf("storage: read content: %w", rerr)
		}
		res.Size += int64(n)
		if limit > 0 && res.Size > limit {
			return WriteResult{}, ErrTooLarge
		}
		chunk := buf[:n]
		switch {
		case i == 0 && last:
			hashAll(chunk) // small content: no goroutine
		case toHash == nil:
			toHash = make(chan []byte, pipeDepth)
			hashed = make(chan struct{}, pipeDepth)
			go func() {
				for p := range toHash {
					hashAll(p)
					hashed <- struct{}{}
				}
			}()
			fallthrough
		default:
			toHash <- chunk
			inFlight++
		}
		if n > 0 {
			if _, err := w.Write(chunk); err != nil {
				return WriteResult{}, fmt.Errorf("storage: write content: %w", err)
			}
		}
		if last {
			break
		}
	}
	drain()
	copy(res.SHA256[:], hashers[0].Sum(nil))
	if opts.MD5 {
		res.MD5 = hashers[1].Sum(nil)
	}
	return res, nil
}
