package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// Object is stored content opened for reading: an io.ReadSeeker, as
// http.ServeContent wants. The caller must Close it.
//
// When the bucket is a local directory (fileblob), Object reads the file
// directly and exposes it through SyscallConn, so that net/http sends it
// with sendfile(2) instead of copying it through user space. Other objects
// stream through the blob reader; on S3, a Read after a Seek that moved
// the offset is a new ranged GET.
type Object struct {
	r *blob.Reader
	f *os.File // the file under r, for fileblob buckets; else nil
	// wd bounds each read from r (CallTimeout), and cancel ends r's
	// context on Close; nil without a timeout.
	wd     *watchdog
	cancel context.CancelFunc
	// pos is the offset of the next Read from r. Object keeps it because
	// blob.Reader does not read at or past the end as a file does: it
	// moves an offset past the end back to the end (and logs it), and at
	// the end S3 answers a ranged GET with 416 where a file gives io.EOF.
	pos int64
}

var (
	_ io.ReadSeekCloser = (*Object)(nil)
	_ syscall.Conn      = (*Object)(nil)
)

// OpenContent opens the content of the attachment with the ID, or returns
// an error wrapping ErrNotFound.
func (s *Store) OpenContent(ctx context.Context, id string) (*Object, error) {
	return s.open(ctx, ContentKey(id))
}

func (s *Store) open(ctx context.Context, key string) (*Object, error) {
	// The callback must not capture the Object: the blob.Reader has a
	// finalizer, and a cycle through an object with a finalizer is never
	// collected (every download would leak).
	var file *os.File
	// The reader's context lasts as long as the Object: the watchdog
	// bounds the open and each read from it, never the whole transfer.
	rctx, cancel := context.WithCancel(ctx)
	wd := newWatchdog(s.timeout, cancel)
	wd.arm()
	r, err := s.bucket.NewReader(rctx, key, &blob.ReaderOptions{
		BeforeRead: func(as func(any) bool) error {
			var f *os.File
			if as(&f) {
				file = f
			}
			return nil
		},
	})
	wd.disarm()
	if err != nil {
		cancel()
		if wd.hasFired() {
			err = s.timedOut(err)
		}
		if gcerrors.Code(err) == gcerrors.NotFound {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
		}
		return nil, wrap(err, "open %s", key)
	}
	o := &Object{r: r, f: file, wd: wd, cancel: cancel}
	if o.f != nil {
		// The driver may have positioned the file; start at 0 as r does.
		if _, err := o.f.Seek(0, io.SeekStart); err != nil {
			o.f = nil
		}
	}
	return o, nil
}

// Read reads content. At and past the end it returns io.EOF.
func (o *Object) Read(p []byte) (int, error) {
	if o.f != nil {
		return o.f.Read(p)
	}
	if o.pos >= o.r.Size() {
		return 0, io.EOF
	}
	o.wd.arm()
	n, err := o.r.Read(p)
	o.wd.disarm()
	o.pos += int64(n)
	if err != nil && err != io.EOF {
		if o.wd.hasFired() {
			err = fmt.Errorf("%w: the bucket did not answer within %v: %w", ErrUnavailable, o.wd.timeout, err)
		}
		err = wrap(err, "read")
	}
	return n, err
}

// errNegativeOffset is Seek's answer to an offset before the start.
var errNegativeOffset = errors.New("storage: seek to a negative offset")

// Seek sets the offset of the next Read, as io.Seeker. An offset past the
// end is allowed; reading there gives io.EOF.
func (o *Object) Seek(offset int64, whence int) (int64, error) {
	if o.f != nil {
		return o.f.Seek(offset, whence)
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += o.pos
	case io.SeekEnd:
		offset += o.r.Size()
	default:
		return 0, fmt.Errorf("storage: seek: bad whence %d", whence)
	}
	if offset < 0 {
		return 0, errNegativeOffset
	}
	if offset < o.r.Size() {
		// blob.Reader only notes the offset; the next Read opens a new
		// reader there if it moved.
		if _, err := o.r.Seek(offset, io.SeekStart); err != nil {
			return 0, err
		}
	}
	o.pos = offset
	return offset, nil
}

// Close releases the object.
func (o *Object) Close() error {
	err := o.r.Close()
	o.wd.disarm()
	o.cancel()
	return err
}

// Size is the content's length in bytes.
func (o *Object) Size() int64 { return o.r.Size() }

// ModTime is when the content was last written, as the bucket says.
func (o *Object) ModTime() time.Time { return o.r.ModTime() }

// errNoFile tells net/http that this Object has no file to sendfile from.
var errNoFile = errors.New("storage: object is not a local file")

// SyscallConn gives net/http the local file under the Object, if there is
// one, so that it can use sendfile(2). It returns an error otherwise, and
// net/http then copies through Read.
func (o *Object) SyscallConn() (syscall.RawConn, error) {
	if o.f == nil {
		return nil, errNoFile
	}
	return o.f.SyscallConn()
}
