package storage

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"errors"
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
// with no size limit, no MD5 and application/octet-stream as the type
// recorded in the bucket.
type WriteOptions struct {
	// ContentType is recorded with the blob where the driver supports it
	// (application/octet-stream when empty).
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
// under the key once it returns. opts.Check may run on a goroutine of the
// bucket's driver.
//
// The bucket's driver pulls the content (blob.Bucket.Upload), and a
// failure reaches it as an error from its source, before the source ever
// ends: a driver never sees the end of content it must not commit. The
// driver's context stays live until Upload returns (it is the caller's
// ctx without its cancellation; see upload.wctx), so every driver ends the
// upload its own way with a context that works:
//
//   - Drivers that abandon an upload whose source fails (s3blob, azureblob)
//     do so. s3blob aborts a multipart upload with that context: were it
//     cancelled, the abort would fail and the uploaded parts would stay on
//     the server.
//   - Drivers that commit what they were given on Close (fileblob, memblob,
//     gcsblob) commit the partial content, which WriteContent then deletes.
//
// WriteContent deletes the key after every failure, so it needs to know
// neither which kind the driver is nor on which goroutine it reads.
func (s *Store) WriteContent(ctx context.Context, id string, r io.Reader, opts *WriteOptions) (WriteResult, error) {
	if opts == nil {
		opts = &WriteOptions{}
	}
	key := ContentKey(id)
	contentType := opts.ContentType
	if contentType == "" {
		contentType = "application/octet-stream" // blob.Bucket.Upload wants one
	}
	u := newUpload(ctx, r, pipeConfig{
		limit: opts.MaxBytes, md5: opts.MD5, check: opts.Check,
	}, s.timeout)
	defer u.release()
	if err := s.put(ctx, key, "write "+id, contentType, u); err != nil {
		return WriteResult{}, err
	}
	return u.res, nil
}

// put has the bucket's driver pull u into key, and returns once the
// object is committed. On failure it deletes key (see WriteContent) and
// returns the cause: u's failure, the timeout of a wait on the bucket, or
// the driver's error, said as what ("write ID").
func (s *Store) put(ctx context.Context, key, what, contentType string, u *upload) error {
	if ow := s.objectWriter(); ow != nil {
		return s.putObject(ctx, ow, key, what, contentType, u) // s3write.go
	}
	err := s.bucket.Upload(u.wctx, key, u, &blob.WriterOptions{
		ContentType:                 contentType,
		DisableContentTypeDetection: true,
		// S3's smallest part. s3blob's uploader reads up to 16 MiB before it
		// decides on one PUT or a multipart upload, then holds
		// MaxConcurrency+1 (6) parts: about 46 MiB held (64 MiB allocated)
		// per large upload, whatever its size.
		BufferSize: 5 << 20,
	})
	switch {
	case u.wd.hasFired():
		// The driver waited on the bucket too long, and its context was
		// cancelled: that is the cause, whatever error it led to.
		err = s.timedOut(errors.Join(err, u.err))
		err = fmt.Errorf("storage: %s: %w", what, err)
	case u.err != nil:
		// The source failed: its error is the cause, whatever the driver
		// made of it.
		err = u.err
	case err != nil:
		err = wrap(err, "%s", what)
	case u.state != ended:
		err = fmt.Errorf("storage: %s: the bucket's driver stopped reading before the end of the content", what)
	}
	if err != nil {
		s.discard(ctx, key)
	}
	return err
}

// discard deletes key after a failed write: drivers that commit what they
// were given have committed a partial object. It runs even if ctx is done,
// bounded by its own timeout.
func (s *Store) discard(ctx context.Context, key string) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_ = s.deleteKey(dctx, key)
}

// Upload states.
const (
	reading = iota
	ended   // the source ended and its content was accepted
	failed  // the source failed; err says why
)

// upload is the source a driver pulls content from (io.Reader, and
// io.WriterTo for drivers that copy). It reads r in chunkSize pieces and
// counts them; the SHA-256 (and MD5) of a chunk is computed on a second
// goroutine while the next chunks are read and written, so hashing costs
// little wall time on a machine with a core to spare. Content that fits in
// one chunk is hashed inline. Only one goroutine reads an upload at a time.
type upload struct {
	ctx context.Context // the caller's
	r   io.Reader
	cfg pipeConfig
	// wctx is the driver's context: the caller's ctx without its
	// cancellation, so that a driver can still abandon an upload (abort a
	// multipart upload) after the caller's ctx ended. The caller's ctx
	// ending fails the upload at the driver's next read; cleanupTimeout
	// after it, wctx is cancelled too, which bounds a driver that is stuck
	// elsewhere. release cancels it once Upload returns.
	wctx      context.Context
	cancel    context.CancelFunc
	stopWatch func() bool
	timerMu   sync.Mutex
	timer     *time.Timer // the cleanupTimeout bound, once the caller's ctx ended
	released  bool
	// wd bounds each wait on the driver (CallTimeout): from the moment
	// the driver is given content, or the end of it, to its next read,
	// its write's return, or Upload's return. Waits on the caller's
	// reader are not bounded. Nil without a timeout.
	wd *watchdog

	bp      *[][]byte
	hashers []hash.Hash
	toHash  chan []byte
	hashed  chan struct{}
	// inFlight chunks were sent to the hashing goroutine and not yet
	// hashed.
	inFlight int
	// n chunks were read; chunk is what the driver has not yet taken of
	// the last one, and last that r ended with it.
	n     int
	chunk []byte
	last  bool

	state int
	res   WriteResult
	err   error
	// cut is why the content ended early under pipeConfig.keep: the
	// reader's failure or the end of ctx. The upload itself ended (the
	// driver commits what it was given).
	cut error
}

// pipeConfig says what an upload does besides streaming: WriteContent's
// options, and what an Append adds (running hash states, a per-request
// hash, keeping a cut prefix).
type pipeConfig struct {
	// base is how many bytes came before this upload's (an Append's
	// offset); limit, when positive, bounds base plus this upload's bytes.
	base, limit int64
	// sha256 and md5 are the digests to continue, nil for fresh ones; md5
	// asks for an MD5 beside the SHA-256.
	sha256, md5h hash.Hash
	md5          bool
	// extra is fed with exactly this upload's bytes (AppendOptions.ChunkHash).
	extra hash.Hash
	check func(WriteResult) error
	// keep makes a failure of the reader, or the end of the caller's ctx,
	// end the content instead of failing the upload: what was read is
	// committed, and cut says why it ended.
	keep bool
}

func newUpload(ctx context.Context, r io.Reader, cfg pipeConfig, timeout time.Duration) *upload {
	if cfg.sha256 == nil {
		cfg.sha256 = sha256.New()
	}
	if cfg.md5 && cfg.md5h == nil {
		cfg.md5h = md5.New()
	}
	u := &upload{ctx: ctx, r: r, cfg: cfg, hashers: []hash.Hash{cfg.sha256}}
	if cfg.md5 {
		u.hashers = append(u.hashers, cfg.md5h)
	}
	if cfg.extra != nil {
		u.hashers = append(u.hashers, cfg.extra)
	}
	u.wctx, u.cancel = context.WithCancel(context.WithoutCancel(ctx))
	u.wd = newWatchdog(timeout, u.cancel)
	u.stopWatch = context.AfterFunc(ctx, func() {
		u.timerMu.Lock()
		defer u.timerMu.Unlock()
		if !u.released {
			u.timer = time.AfterFunc(cleanupTimeout, u.cancel)
		}
	})
	u.bp = bufPool.Get().(*[][]byte)
	return u
}

// release ends the upload once the driver is done with it.
func (u *upload) release() {
	u.wd.disarm()
	u.stopWatch()
	u.timerMu.Lock()
	u.released = true
	if u.timer != nil {
		u.timer.Stop()
	}
	u.timerMu.Unlock()
	u.cancel()
	u.drain()
	if u.bp != nil {
		bufPool.Put(u.bp)
		u.bp = nil
	}
}

// fail records err as the upload's failure and returns it. The driver's
// context stays live: the error is how the driver learns of the failure.
func (u *upload) fail(err error) error {
	if u.state != failed {
		u.state, u.err = failed, err
		u.drain()
	}
	return u.err
}

// Read gives the driver content, and the failure or io.EOF at the end.
func (u *upload) Read(p []byte) (int, error) {
	u.wd.disarm()
	defer u.wd.arm() // the driver has the content (or the end): its wait begins
	for len(u.chunk) == 0 {
		if err := u.advance(); err != nil {
			return 0, err
		}
	}
	n := copy(p, u.chunk)
	u.chunk = u.chunk[n:]
	return n, nil
}

// WriteTo writes the content to w, a chunk at a time, and returns nil at
// its end.
func (u *upload) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(u.chunk) > 0 {
			u.wd.arm()
			n, err := w.Write(u.chunk)
			u.wd.disarm()
			total += int64(n)
			if err == nil && n < len(u.chunk) {
				err = io.ErrShortWrite
			}
			if err != nil {
				return total, u.fail(wrap(err, "write content"))
			}
			u.chunk = nil
		}
		if err := u.advance(); err == io.EOF {
			u.wd.arm() // the driver commits the content: a wait on the bucket
			return total, nil
		} else if err != nil {
			return total, err
		}
	}
}

// advance reads the next chunk, or ends the upload after the last one:
// then it returns io.EOF if the content is accepted, else the failure.
func (u *upload) advance() error {
	switch u.state {
	case ended:
		return io.EOF
	case failed:
		return u.err
	}
	if u.last {
		return u.finish()
	}
	if err := u.ctx.Err(); err != nil {
		if u.cfg.keep {
			u.cut, u.last, u.chunk = err, true, nil
			return nil
		}
		return u.fail(err)
	}
	bufs := *u.bp
	buf := bufs[u.n%pipeDepth]
	// buf was last filled pipeDepth chunks ago and the driver has taken
	// it; hashing is in order, so once at most pipeDepth-1 chunks are
	// unhashed, buf is free.
	for ; u.inFlight > pipeDepth-1; u.inFlight-- {
		<-u.hashed
	}
	n, last, err := iox.Fill(u.r, buf)
	if err != nil {
		err = fmt.Errorf("storage: read content: %w", err)
		if !u.cfg.keep {
			return u.fail(err)
		}
		u.cut, last = err, true // what was read ends the content
	}
	u.res.Size += int64(n)
	if limit := u.cfg.limit; limit > 0 && u.cfg.base+u.res.Size > limit {
		return u.fail(ErrTooLarge)
	}
	chunk := buf[:n]
	switch {
	case u.n == 0 && last:
		u.hashAll(chunk) // small content: no goroutine
	case u.toHash == nil:
		u.toHash = make(chan []byte, pipeDepth)
		u.hashed = make(chan struct{}, pipeDepth)
		go func(toHash <-chan []byte, hashed chan<- struct{}) {
			for p := range toHash {
				u.hashAll(p)
				hashed <- struct{}{}
			}
		}(u.toHash, u.hashed)
		fallthrough
	default:
		u.toHash <- chunk
		u.inFlight++
	}
	u.n++
	u.chunk, u.last = chunk, last
	return nil
}

func (u *upload) hashAll(p []byte) {
	for _, h := range u.hashers {
		h.Write(p)
	}
}

// finish completes the digests once all content is read, and accepts the
// content (io.EOF) or fails the upload.
func (u *upload) finish() error {
	u.drain()
	copy(u.res.SHA256[:], u.hashers[0].Sum(nil))
	if u.cfg.md5 {
		u.res.MD5 = u.hashers[1].Sum(nil)
	}
	if err := u.ctx.Err(); err != nil && u.cut == nil && !u.cfg.keep {
		// The caller is gone: its upload is not taken. An Append that
		// keeps what it reads has all of it by now, and keeps it whole.
		return u.fail(err)
	}
	if u.cfg.check != nil {
		if err := u.cfg.check(u.res); err != nil {
			return u.fail(err)
		}
	}
	u.state = ended
	return io.EOF
}

// drain waits for every chunk sent to the hashing goroutine and stops it.
// It must run before the buffers go back to the pool.
func (u *upload) drain() {
	if u.toHash != nil {
		close(u.toHash)
		for ; u.inFlight > 0; u.inFlight-- {
			<-u.hashed
		}
		u.toHash = nil
	}
}
