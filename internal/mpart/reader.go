package mpart

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
	"sync"
)

const (
	defaultBufferSize     = 64 << 10
	defaultMaxHeaderBytes = 16 << 10
	defaultMaxHeaders     = 64

	// stdLineLimit is the size of the bufio.Reader through which
	// mime/multipart reads the preamble and the boundary lines. A line
	// with no '\n' in its first stdLineLimit bytes is an error there
	// (bufio.ErrBufferFull), and so it is here. It is also the smallest
	// buffer this package uses.
	stdLineLimit = 4096

	// maxConsecutiveEmptyReads is how many (0, nil) reads in a row the
	// source may return before reading fails with io.ErrNoProgress, as in
	// bufio.
	maxConsecutiveEmptyReads = 100
)

// ErrHeaderTooLarge is wrapped by the error NextPart returns when a part's
// header block is longer than Options.MaxHeaderBytes or has more header
// fields than Options.MaxHeaders.
var ErrHeaderTooLarge = errors.New("mpart: part header too large")

// ErrClosed is returned by NextPart, and by the reads of a part, after
// Reader.Close.
var ErrClosed = errors.New("mpart: reader closed")

// buffers are what a Reader of the default buffer size takes from bufPool
// and gives back on Close: its read buffer and its header reader. A server
// makes a Reader per multipart request; for small uploads the 64 KiB
// buffer was most of what a request allocated (BenchmarkUploadSmallParallel:
// 113 KB per 4 KiB multipart upload against 24 KB for a raw one).
type buffers struct {
	buf    [defaultBufferSize]byte
	hdrBuf *bufio.Reader // nil until a Reader first reads a part header
	hdrTP  *textproto.Reader
}

var bufPool = sync.Pool{New: func() any { return new(buffers) }}

var (
	errEmptyBoundary = errors.New("mpart: boundary is empty")
	errLineTooLong   = fmt.Errorf("mpart: line outside a part longer than %d bytes", stdLineLimit)
	errNegativeRead  = errors.New("mpart: reader returned a negative count or more than asked")

	// errHeaderTruncated is where mime/multipart differs: for input that
	// ends inside a part's header block (or right after its boundary
	// line) it returns io.EOF, as if the body had ended properly, unless
	// a header line read so far was malformed. That would take a
	// truncated upload for a complete one, so here it is an error.
	errHeaderTruncated = fmt.Errorf("mpart: input ends in a part header: %w", io.ErrUnexpectedEOF)
)

// Options tunes a Reader. A nil *Options, and every zero field, means the
// default.
type Options struct {
	// MaxHeaderBytes bounds the bytes of one part's header block: its
	// header lines with their line endings and the blank line that ends
	// them. Default 16 KiB. Over it NextPart returns an error wrapping
	// ErrHeaderTooLarge.
	MaxHeaderBytes int
	// MaxHeaders bounds the number of header fields of one part,
	// continuation lines not counted. Default 64. Over it NextPart
	// returns an error wrapping ErrHeaderTooLarge.
	MaxHeaders int
	// BufferSize is the size of the read buffer. Default 64 KiB: from
	// memory, BenchmarkBufferSize runs as fast from 4 KiB to 1 MiB (the
	// scan and one copy cost the same per byte); from a socket, a larger
	// buffer means fewer and larger reads, and WriteTo's writes as large,
	// while 64 KiB per upload in flight is little memory. It is raised to
	// at least 4 KiB and to what MaxHeaderBytes and the boundary need.
	BufferSize int
}

// Reader reads the parts of a multipart body, in order. It reads its
// source as needed through one buffer of Options.BufferSize bytes; seeking
// is not supported. A Reader is not safe for concurrent use.
type Reader struct {
	src  io.Reader
	buf  []byte
	r, w int   // buf[r:w] is read from src and not yet consumed
	rerr error // the error src returned; src is not read after it

	// Like mime/multipart's, set from the boundary in NewReader; nl and
	// nlDashBoundary lose their '\r' if the first boundary line ends in
	// "\n" alone.
	nl               []byte // "\r\n" or "\n"
	nlDashBoundary   []byte // nl + "--boundary"
	dashBoundaryDash []byte // "--boundary--"
	dashBoundary     []byte // "--boundary"
	find             finder // of nlDashBoundary

	partsRead int
	cur       *Part
	err       error // sticky result of NextPart: io.EOF or an error

	maxHeaderBytes int
	maxHeaders     int

	// Header parsing: the header block, once whole in buf, is parsed by
	// net/textproto from hdrSrc through hdrBuf.
	hdrSrc bytes.Reader
	hdrBuf *bufio.Reader
	hdrTP  *textproto.Reader

	pooled *buffers // where buf came from, given back by Close; or nil
}

// NewReader returns a Reader reading parts from r, separated by boundary
// (the boundary parameter of the body's Content-Type). opts may be nil.
// An empty boundary makes every NextPart fail.
func NewReader(r io.Reader, boundary string, opts *Options) *Reader {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = defaultMaxHeaderBytes
	}
	if o.MaxHeaders <= 0 {
		o.MaxHeaders = defaultMaxHeaders
	}
	if o.BufferSize <= 0 {
		o.BufferSize = defaultBufferSize
	}
	b := []byte("\r\n--" + boundary + "--")
	// The buffer holds a whole header block plus the byte that shows it is
	// too long, a whole line outside parts, and a delimiter with the two
	// bytes that decide whether it is one.
	size := max(o.BufferSize, stdLineLimit, o.MaxHeaderBytes+1, 2*len(b)+16)
	mr := &Reader{
		src:              r,
		nl:               b[:2],
		nlDashBoundary:   b[:len(b)-2],
		dashBoundaryDash: b[2:],
		dashBoundary:     b[2 : len(b)-2],
		maxHeaderBytes:   o.MaxHeaderBytes,
		maxHeaders:       o.MaxHeaders,
	}
	if size == defaultBufferSize {
		// A buffer from the pool still holds an earlier body's bytes; no
		// byte past w is ever read.
		mr.pooled = bufPool.Get().(*buffers)
		mr.buf, mr.hdrBuf, mr.hdrTP = mr.pooled.buf[:], mr.pooled.hdrBuf, mr.pooled.hdrTP
	} else {
		mr.buf = make([]byte, size)
	}
	mr.find.reset(mr.nlDashBoundary)
	return mr
}

// Close gives the Reader's buffer back for later Readers to reuse. After
// it, NextPart and the reads of every part return ErrClosed; the source is
// not read again. Close does not close the source, and always returns nil.
// Call it once the Reader and its parts are no longer read: a read on
// another goroutine at the same time is a data race.
func (r *Reader) Close() error {
	if r.cur != nil {
		r.cur.n, r.cur.err = 0, ErrClosed
	}
	r.err, r.rerr = ErrClosed, ErrClosed
	r.r, r.w = 0, 0
	r.buf = nil
	if r.pooled != nil {
		r.pooled.hdrBuf, r.pooled.hdrTP = r.hdrBuf, r.hdrTP
		bufPool.Put(r.pooled)
		r.pooled = nil
	}
	r.hdrBuf, r.hdrTP = nil, nil
	return nil
}

// fill reads more of the source into the buffer, after moving the unread
// bytes to its start. Once the source has failed, it does nothing: the
// caller sees r.rerr.
func (r *Reader) fill() {
	if r.rerr != nil {
		return
	}
	if r.r > 0 {
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	}
	if r.w == len(r.buf) {
		panic("mpart: fill on a full buffer")
	}
	r.w += r.readSrc(r.buf[r.w:])
}

// readSrc reads the source once into b, which is not empty, and returns
// the count. It retries reads that return nothing, like bufio, and
// records the source's error in r.rerr.
func (r *Reader) readSrc(b []byte) int {
	for range maxConsecutiveEmptyReads {
		n, err := r.src.Read(b)
		if n < 0 || n > len(b) {
			r.rerr = errNegativeRead
			return 0
		}
		if err != nil {
			r.rerr = err
			return n
		}
		if n > 0 {
			return n
		}
	}
	r.rerr = io.ErrNoProgress
	return 0
}

// NextPart returns the next part, or io.EOF after the closing boundary.
// Any unread data of the previous part is discarded. A body that ends
// before the closing boundary is an error wrapping io.ErrUnexpectedEOF.
//
// As in mime/multipart, a part with "Content-Transfer-Encoding:
// quoted-printable" has that header removed and its body decoded by Read.
// After an error or io.EOF, NextPart returns the same again.
func (r *Reader) NextPart() (*Part, error) {
	if r.err != nil {
		return nil, r.err
	}
	p, err := r.nextPart()
	if err != nil {
		r.err = err
		return nil, err
	}
	r.cur = p
	return p, nil
}

// nextPart follows mime/multipart's Reader.nextPart line for line.
func (r *Reader) nextPart() (*Part, error) {
	if r.cur != nil {
		r.cur.discard()
		r.cur = nil
	}
	if len(r.dashBoundary) == 2 {
		return nil, errEmptyBoundary
	}
	expectNewPart := false
	for {
		line, err := r.readLine()
		if err == io.EOF && r.isFinalBoundary(line) {
			// "--boundary--" at the very end, without a line ending.
			return nil, io.EOF
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("mpart: NextPart: %w", err)
		}
		if r.isBoundaryDelimiterLine(line) {
			r.partsRead++
			return r.newPart()
		}
		if r.isFinalBoundary(line) {
			return nil, io.EOF
		}
		if expectNewPart {
			return nil, fmt.Errorf("mpart: expecting a new part; got line %q", line)
		}
		if r.partsRead == 0 {
			continue // preamble
		}
		// The line ending that belongs to the delimiter after the
		// previous part's body; the boundary line must follow.
		if bytes.Equal(line, r.nl) {
			expectNewPart = true
			continue
		}
		return nil, fmt.Errorf("mpart: unexpected line after part: %q", line)
	}
}

// readLine returns the next line with its '\n', like bufio.Reader's
// ReadSlice('\n') on mime/multipart's 4 KiB buffer: a line with no '\n'
// in its first stdLineLimit bytes is an error, and at the end of input the
// rest is returned with the source's error. The line is valid until the
// next read.
func (r *Reader) readLine() ([]byte, error) {
	s := 0 // bytes of the window already searched
	for {
		win := r.buf[r.r:r.w]
		if i := bytes.IndexByte(win[s:min(len(win), stdLineLimit)], '\n'); i >= 0 {
			r.r += s + i + 1
			return win[:s+i+1], nil
		}
		if len(win) >= stdLineLimit {
			return nil, errLineTooLong
		}
		if r.rerr != nil {
			r.r = r.w
			return win, r.rerr
		}
		s = len(win)
		r.fill()
	}
}

// isFinalBoundary reports whether line is the final boundary line,
// `^--boundary--[ \t]*(\r\n)?$` (or with "\n" in "\n" mode).
func (r *Reader) isFinalBoundary(line []byte) bool {
	if !bytes.HasPrefix(line, r.dashBoundaryDash) {
		return false
	}
	rest := skipLWSPChar(line[len(r.dashBoundaryDash):])
	return len(rest) == 0 || bytes.Equal(rest, r.nl)
}

// isBoundaryDelimiterLine reports whether line is "--boundary", optional
// spaces and tabs, and the line ending. On the first such line it also
// picks "\n" mode if that line ends in "\n" alone, as mime/multipart does.
func (r *Reader) isBoundaryDelimiterLine(line []byte) bool {
	if !bytes.HasPrefix(line, r.dashBoundary) {
		return false
	}
	rest := skipLWSPChar(line[len(r.dashBoundary):])
	if r.partsRead == 0 && len(rest) == 1 && rest[0] == '\n' {
		r.nl = r.nl[1:]
		r.nlDashBoundary = r.nlDashBoundary[1:]
		r.find.reset(r.nlDashBoundary)
	}
	return bytes.Equal(rest, r.nl)
}

// skipLWSPChar returns b without its leading spaces and tabs.
func skipLWSPChar(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// newPart reads a part's header block and returns the part, positioned at
// the start of its body.
func (r *Reader) newPart() (*Part, error) {
	n, err := r.headerBlock()
	if err != nil {
		return nil, err
	}
	if r.hdrBuf == nil {
		r.hdrBuf = bufio.NewReader(&r.hdrSrc)
		r.hdrTP = textproto.NewReader(r.hdrBuf)
	}
	r.hdrSrc.Reset(r.buf[r.r : r.r+n])
	r.hdrBuf.Reset(&r.hdrSrc)
	header, err := r.hdrTP.ReadMIMEHeader()
	r.hdrSrc.Reset(nil)
	if err != nil {
		return nil, fmt.Errorf("mpart: reading part header: %w", err)
	}
	r.r += n
	p := &Part{Header: header, mr: r}
	const cte = "Content-Transfer-Encoding"
	if strings.EqualFold(header.Get(cte), "quoted-printable") {
		header.Del(cte)
		p.qp = quotedprintable.NewReader(rawReader{p})
	}
	return p, nil
}

// headerBlock buffers the header block at the read position and returns
// its length, through the blank line that ends it. net/textproto reads the
// header from here to the first line that is empty once its "\n" or
// "\r\n" is removed, whatever comes before; a line that starts with a
// space or a tab continues the field before it.
func (r *Reader) headerBlock() (int, error) {
	pos := 0    // start of the first line not yet looked at, in the window
	fields := 0 // header field lines seen
	for {
		win := r.buf[r.r:r.w]
		for {
			rest := win[pos:]
			if len(rest) > 0 && rest[0] == '\n' {
				return r.checkHeaderBytes(pos + 1)
			}
			if len(rest) > 1 && rest[0] == '\r' && rest[1] == '\n' {
				return r.checkHeaderBytes(pos + 2)
			}
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				break
			}
			if rest[0] != ' ' && rest[0] != '\t' {
				fields++
				if fields > r.maxHeaders {
					return 0, fmt.Errorf("%w: more than %d header fields", ErrHeaderTooLarge, r.maxHeaders)
				}
			}
			pos += i + 1
		}
		if len(win) > r.maxHeaderBytes {
			return r.checkHeaderBytes(len(win))
		}
		if r.rerr == io.EOF {
			return 0, errHeaderTruncated
		}
		if r.rerr != nil {
			return 0, fmt.Errorf("mpart: reading part header: %w", r.rerr)
		}
		r.fill()
	}
}

// checkHeaderBytes returns n, or an error if a header block of n bytes is
// too long.
func (r *Reader) checkHeaderBytes(n int) (int, error) {
	if n > r.maxHeaderBytes {
		return 0, fmt.Errorf("%w: more than %d bytes", ErrHeaderTooLarge, r.maxHeaderBytes)
	}
	return n, nil
}
