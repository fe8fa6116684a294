package mpart

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/textproto"
)

var errInvalidWrite = errors.New("mpart: writer returned an invalid count")

// Part is one part of a multipart body: its header, and a reader of its
// body that ends at the next delimiter. A Part is valid until the next
// call to NextPart, which discards what is left of its body.
type Part struct {
	// Header holds the part's header fields, keys canonicalized by
	// net/textproto as in mime/multipart ("content-type" is
	// "Content-Type"). A quoted-printable Content-Transfer-Encoding is
	// removed from it, and the body decoded.
	Header textproto.MIMEHeader

	mr *Reader

	// Like mime/multipart's partReader: n bytes at mr.buf[mr.r:] are known
	// to be body; once they are read, err (io.EOF at the delimiter) is the
	// answer.
	n     int
	total int64 // body bytes consumed so far
	err   error

	qp *quotedprintable.Reader // decoder of the body, or nil

	dispParsed        bool
	disposition       string
	dispositionParams map[string]string
}

// FormName returns the name parameter of the part's Content-Disposition
// if that is of type form-data, and "" otherwise, like mime/multipart.
func (p *Part) FormName() string {
	p.parseContentDisposition()
	if p.disposition != "form-data" {
		return ""
	}
	return p.dispositionParams["name"]
}

// FileName returns the filename parameter of the part's
// Content-Disposition, as sent: unlike mime/multipart's, it is NOT passed
// through filepath.Base, and the caller must clean it before using it as a
// name. Parameters are parsed by mime.ParseMediaType, which also decodes
// an RFC 2231 filename* parameter (RFC 7578 discourages it) into
// "filename". It is "" if there is no such parameter or the header does
// not parse.
func (p *Part) FileName() string {
	p.parseContentDisposition()
	return p.dispositionParams["filename"]
}

func (p *Part) parseContentDisposition() {
	if p.dispParsed {
		return
	}
	p.dispParsed = true
	var err error
	p.disposition, p.dispositionParams, err = mime.ParseMediaType(p.Header.Get("Content-Disposition"))
	if err != nil {
		p.dispositionParams = nil // as mime/multipart's empty map: no params
	}
}

// Read reads the part's body: decoded, if it is quoted-printable. It
// returns io.EOF at the delimiter that ends the part, and an error
// wrapping io.ErrUnexpectedEOF if the input ends first. A raw body is
// returned in chunks as large as the buffer allows, without allocating.
func (p *Part) Read(b []byte) (int, error) {
	if p.qp != nil {
		return p.qp.Read(b)
	}
	return p.readRaw(b)
}

// rawReader reads a part's body without decoding it.
type rawReader struct{ p *Part }

func (r rawReader) Read(b []byte) (int, error) { return r.p.readRaw(b) }

func (p *Part) readRaw(b []byte) (int, error) {
	if p.n == 0 {
		if p.err != nil {
			return 0, p.err
		}
		if n := p.readDirect(b); n > 0 || p.err != nil {
			return n, p.err
		}
		p.more()
		if p.n == 0 {
			return 0, p.err
		}
	}
	mr := p.mr
	n := copy(b, mr.buf[mr.r:mr.r+p.n])
	p.consume(n)
	if p.n == 0 {
		return n, p.err
	}
	return n, nil
}

// directReadMin is the smallest Read for which readDirect reads the source
// into the caller's buffer.
const directReadMin = 8 << 10

// readDirect saves Read a copy: when the buffer holds no more than a
// possible start of a delimiter, it reads the source straight into b,
// after those bytes, and scans b as more would scan the buffer. It
// returns the number of body bytes now at the start of b, sets p.err if
// the body ends after them, and puts whatever follows them back into the
// buffer (at most a delimiter's worth, unless the part ends here). It
// returns 0 with p.err nil if it did nothing, or if it needs more input.
func (p *Part) readDirect(b []byte) int {
	mr := p.mr
	tail := mr.w - mr.r
	if mr.rerr != nil || len(b) < directReadMin || len(b) < 4*len(mr.find.d) || tail > len(mr.find.d)+1 {
		return 0
	}
	// Whatever is not body must fit back into the buffer.
	b = b[:min(len(b), len(mr.buf))]
	n := copy(b, mr.buf[mr.r:mr.w])
	mr.r, mr.w = 0, 0
	n += mr.readSrc(b[n:])
	readErr := mr.rerr
	if readErr == io.EOF {
		readErr = io.ErrUnexpectedEOF
	}
	body, err := scanUntilBoundary(b[:n], mr.dashBoundary, &mr.find, p.total, readErr)
	mr.w = copy(mr.buf, b[body:n])
	p.total += int64(body)
	p.err = err
	return body
}

// WriteTo writes the part's body to w, decoded if it is quoted-printable,
// and returns the number of bytes written. A raw body goes to w straight
// from the read buffer, in slices as large as the buffer allows. Reaching
// the delimiter is success: the error is nil.
func (p *Part) WriteTo(w io.Writer) (int64, error) {
	if p.qp != nil {
		return io.Copy(w, p.qp)
	}
	mr := p.mr
	var written int64
	for {
		if p.n == 0 {
			if p.err != nil {
				if p.err == io.EOF {
					return written, nil
				}
				return written, p.err
			}
			p.more()
			continue
		}
		nw, err := w.Write(mr.buf[mr.r : mr.r+p.n])
		if nw < 0 || nw > p.n {
			return written, errInvalidWrite
		}
		p.consume(nw)
		written += int64(nw)
		if err != nil {
			return written, err
		}
		if p.n > 0 {
			return written, io.ErrShortWrite
		}
	}
}

// Close discards the rest of the part's body; NextPart does the same.
// It always returns nil.
func (p *Part) Close() error {
	p.discard()
	return nil
}

// discard consumes the raw rest of the body, to the delimiter or an error.
func (p *Part) discard() {
	for {
		p.consume(p.n)
		if p.err != nil {
			return
		}
		p.more()
	}
}

func (p *Part) consume(n int) {
	p.mr.r += n
	p.n -= n
	p.total += int64(n)
}

// more scans the buffer, reading more of the source as needed, until some
// body bytes are known (p.n > 0) or the body is over (p.err != nil).
func (p *Part) more() {
	mr := p.mr
	for p.n == 0 && p.err == nil {
		readErr := mr.rerr
		if readErr == io.EOF {
			readErr = io.ErrUnexpectedEOF
		}
		p.n, p.err = scanUntilBoundary(mr.buf[mr.r:mr.w], mr.dashBoundary, &mr.find, p.total, readErr)
		if p.n == 0 && p.err == nil {
			// buf holds at most a delimiter and a byte, so fill has room.
			mr.fill()
		}
	}
}

// scanUntilBoundary is mime/multipart's function of the same name, kept
// decision for decision (Copyright 2010 The Go Authors, BSD license). It
// returns how many bytes at the start of buf are body, and the error to
// return once they are read: io.EOF at a delimiter, readErr at the end of
// input.
//
// dashBoundary is "--boundary"; find finds nlDashBoundary, which is
// "\r\n--boundary" or "\n--boundary". total is the number of body bytes consumed before buf:
// only at the very start of a body is "--boundary" without a line ending
// before it a delimiter. readErr is the error that follows the bytes in
// buf, nil if more may come.
//
// Its answer depends on the bytes only, not on how much of the input buf
// holds, as long as the boundary has no '\r' or '\n' (it comes from a
// header value, which cannot have them): a delimiter cannot then overlap
// itself, and the only possible start of a delimiter cut by the end of buf
// is its last '\r' (or '\n'). That is why a large buffer gives the same
// parts as mime/multipart's 4 KiB one.
func scanUntilBoundary(buf, dashBoundary []byte, find *finder, total int64, readErr error) (int, error) {
	nlDashBoundary := find.d
	if total == 0 {
		// At the beginning of the body, allow dashBoundary.
		if bytes.HasPrefix(buf, dashBoundary) {
			switch matchAfterPrefix(buf, dashBoundary, readErr) {
			case -1:
				return len(dashBoundary), nil
			case 0:
				return 0, nil
			case +1:
				return 0, io.EOF
			}
		}
		if bytes.HasPrefix(dashBoundary, buf) {
			return 0, readErr
		}
	}

	// Search for "\n--boundary".
	if i := find.index(buf); i >= 0 {
		switch matchAfterPrefix(buf[i:], nlDashBoundary, readErr) {
		case -1:
			return i + len(nlDashBoundary), nil
		case 0:
			return i, nil
		case +1:
			return i, io.EOF
		}
	}
	if bytes.HasPrefix(nlDashBoundary, buf) {
		return 0, readErr
	}

	// Otherwise, anything up to the final \n is not part of the boundary
	// and so must be part of the body. Also if the section from the final
	// \n onward is not a prefix of the boundary, it too must be part of the
	// body. (Only the last len(nlDashBoundary) bytes can hold a prefix of
	// it: looking no further back gives mime/multipart's answer without
	// reading the whole buffer again when it has no '\r'.)
	tail := len(buf) - min(len(buf), len(nlDashBoundary))
	if i := bytes.LastIndexByte(buf[tail:], nlDashBoundary[0]); i >= 0 && bytes.HasPrefix(nlDashBoundary, buf[tail+i:]) {
		return tail + i, nil
	}
	return len(buf), readErr
}

// matchAfterPrefix is mime/multipart's function of the same name. The
// caller has checked that buf starts with prefix ("--boundary" or
// "\r\n--boundary" or "\n--boundary"). It returns +1 if buf is a
// delimiter: prefix followed by "--", a space, a tab, '\r', '\n' or the end
// of input; -1 if it is not; and 0 if more input is needed to decide.
func matchAfterPrefix(buf, prefix []byte, readErr error) int {
	if len(buf) == len(prefix) {
		if readErr != nil {
			return +1
		}
		return 0
	}
	c := buf[len(prefix)]
	if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
		return +1
	}
	// Try to detect boundaryDash.
	if c == '-' {
		if len(buf) == len(prefix)+1 {
			if readErr != nil {
				// Prefix + "-" does not match.
				return -1
			}
			return 0
		}
		if buf[len(prefix)+1] == '-' {
			return +1
		}
	}
	return -1
}
