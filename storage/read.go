package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// Object is stored content opened for reading: an io.ReadSeeker, as
// http.ServeContent wants. The caller must Close it.
//
// When the bucket is a local directory (fileblob) whose directory the
// Store knows (Open of a file:// URL, FileDir), Object is the file itself,
// opened directly (one open and one fstat, without fileblob's stat and
// attributes sidecar), and exposes it through SyscallConn, so that
// net/http sends it with sendfile(2) instead of copying it through user
// space. Other objects stream through the blob reader; on S3, a Read
// after a Seek that moved the offset is a new ranged GET, but for the
// bytes Peek has kept.
type Object struct {
	r *blob.Reader // nil when f was opened directly
	f *os.File     // the file, for fileblob buckets; else nil
	// size and modTime describe the content.
	size    int64
	modTime time.Time
	// wd bounds each read from r (CallTimeout), and cancel ends r's
	// context on Close; nil without a timeout or without r.
	wd     *watchdog
	cancel context.CancelFunc
	// pos is the offset of the next Read. Object keeps it because
	// blob.Reader does not read at or past the end as a file does: it
	// moves an offset past the end back to the end (and logs it), and at
	// the end S3 answers a ranged GET with 416 where a file gives io.EOF.
	pos int64
	// rpos is the offset r reads from next; r is moved to pos (a new
	// ranged GET) only when a Read needs bytes at another offset.
	rpos int64
	// head is the start of the content as Peek read it from r; Reads
	// within it are served from here.
	head []byte
}

// OpenContent opens the content of the attachment with the ID, or returns
// an error wrapping ErrNotFound.
func (s *Store) OpenContent(ctx context.Context, id string) (*Object, error) {
	return s.open(ctx, ContentKey(id))
}

func (s *Store) open(ctx context.Context, key string) (*Object, error) {
	if s.dir != "" && plainKey(key) {
		return s.openFile(key)
	}
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
	o := &Object{r: r, f: file, size: r.Size(), modTime: r.ModTime(), wd: wd, cancel: cancel}
	if o.f != nil {
		// The driver may have positioned the file; start at 0 as r does.
		if _, err := o.f.Seek(0, io.SeekStart); err != nil {
			o.f = nil
		}
	}
	return o, nil
}

// plainKey reports whether fileblob keeps key at the path it names, with
// no escaping, inside its directory: path elements of letters, digits,
// '.', '-' and '_' only, none of them "." or "..", no "__" (fileblob's
// escapes) and no attributes suffix. The keys of content and derivatives
// are; others are opened through fileblob.
func plainKey(key string) bool {
	if !fs.ValidPath(key) || key == "." || strings.Contains(key, "__") || strings.HasSuffix(key, attrsSuffix) {
		return false
	}
	for i := 0; i < len(key); i++ {
		switch c := key[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '-', c == '_', c == '/':
		default:
			return false
		}
	}
	return true
}

// openFile opens the key's file under the Store's directory itself (a
// plainKey: no escaping to do), where fileblob's reader would stat the
// path, open it and read its attributes sidecar, none of which a download
// needs.
func (s *Store) openFile(key string) (*Object, error) {
	f, err := openRead(s.dir + string(filepath.Separator) + filepath.FromSlash(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return nil, wrap(err, "open %s", key)
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = fmt.Errorf("%w: %s", ErrNotFound, key) // as fileblob has it
	}
	if err != nil {
		_ = f.Close()
		if errors.Is(err, ErrNotFound) {
			return nil, err
		}
		return nil, wrap(err, "open %s", key)
	}
	return &Object{f: f, size: info.Size(), modTime: info.ModTime()}, nil
}

// Peek returns the first n bytes of the content (all of it when it is
// shorter) without moving the offset of the next Read. From a bucket
// other than a local directory, the bytes are read from the stream the
// Object opened and kept: a Read of them later makes no new request.
func (o *Object) Peek(n int) ([]byte, error) {
	n = int(min(int64(n), o.size))
	if o.f != nil {
		b := make([]byte, n)
		m, err := o.f.ReadAt(b, 0)
		if m == n {
			err = nil
		}
		return b[:m], err
	}
	if len(o.head) < n {
		if have := int64(len(o.head)); o.rpos != have {
			if _, err := o.r.Seek(have, io.SeekStart); err != nil {
				return nil, err
			}
			o.rpos = have
		}
		b := make([]byte, n)
		copy(b, o.head)
		m, err := io.ReadFull(readerFunc(o.readR), b[len(o.head):])
		o.head = b[:len(o.head)+m]
		if err != nil {
			return o.head, err
		}
	}
	return o.head[:n], nil
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// readR reads from r at rpos, bounded by the watchdog.
func (o *Object) readR(p []byte) (int, error) {
	o.wd.arm()
	n, err := o.r.Read(p)
	o.wd.disarm()
	o.rpos += int64(n)
	if err != nil && err != io.EOF {
		if o.wd.hasFired() {
			err = fmt.Errorf("%w: the bucket did not answer within %v: %w", ErrUnavailable, o.wd.timeout, err)
		}
		err = wrap(err, "read")
	}
	return n, err
}

// Read reads content. At and past the end it returns io.EOF.
func (o *Object) Read(p []byte) (int, error) {
	if o.f != nil {
		return o.f.Read(p)
	}
	if o.pos >= o.size {
		return 0, io.EOF
	}
	if o.pos < int64(len(o.head)) {
		n := copy(p, o.head[o.pos:])
		o.pos += int64(n)
		return n, nil
	}
	if o.rpos != o.pos {
		// blob.Reader only notes the offset; its next Read opens a new
		// reader there.
		if _, err := o.r.Seek(o.pos, io.SeekStart); err != nil {
			return 0, err
		}
		o.rpos = o.pos
	}
	n, err := o.readR(p)
	o.pos += int64(n)
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
		offset += o.size
	default:
		return 0, fmt.Errorf("storage: seek: bad whence %d", whence)
	}
	if offset < 0 {
		return 0, errNegativeOffset
	}
	o.pos = offset // Read moves r when it must
	return offset, nil
}

// Close releases the object.
func (o *Object) Close() error {
	if o.r == nil {
		return o.f.Close()
	}
	err := o.r.Close()
	o.wd.disarm()
	o.cancel()
	return err
}

// Size is the content's length in bytes.
func (o *Object) Size() int64 { return o.size }

// ModTime is when the content was last written, as the bucket says.
func (o *Object) ModTime() time.Time { return o.modTime }

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
