package mpart

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fuzzMode bits, from the fuzz input.
const (
	modeWriteTo     = 1 << 0 // read our parts with WriteTo, not Read
	modeSkipBodies  = 1 << 1 // leave the bodies of odd-numbered parts unread
	modeEOFWithLast = 1 << 2 // the source returns io.EOF with its last bytes
)

// readSizes are the Read buffer sizes the fuzzer picks from (mode >> 3).
var readSizes = []int{1, 2, 3, 7, 64, 100, 4096, 32 << 10}

// FuzzDifferential checks that, for any body and boundary, Reader answers
// what mime/multipart.Reader answers: the same number of parts, the same
// headers, form names, file names and body bytes, and an error exactly
// where mime/multipart gives one. mime/multipart reads the body from a
// bytes.Reader; ours reads it in chunks whose sizes come from the input.
//
// The comparison allows for the differences documented in the package doc:
//
//   - FileName: mime/multipart's is filepath.Base of ours, and ours is
//     mime.ParseMediaType's filename parameter.
//   - Header limits: a first run sets limits no input reaches, and must
//     match in full; a second run with small limits (and the smallest
//     buffer) must match up to the part where NextPart returns
//     ErrHeaderTooLarge.
//   - Quoted-printable: after a decoding error, mime/multipart resumes
//     wherever its decoder's buffer happened to stop, so the comparison
//     ends there. It also ends before the body of a quoted-printable part
//     if the input has a line of 4 KiB or more: the decoder reads lines
//     through a 4 KiB bufio.Reader whose answer for such a line at the end
//     of a part (bufio.ErrBufferFull or not) depends on whether its source
//     returned io.EOF together with the last bytes or after them, which
//     for mime/multipart depends on its 4 KiB window.
//   - Boundaries: at most 70 bytes (RFC 2046) and without '\r' or '\n',
//     which a Content-Type header cannot carry. With such bytes
//     mime/multipart's own answer depends on its buffer's window.
//   - Input that ends in a part's header block: mime/multipart's NextPart
//     returns io.EOF unless a header line was malformed, ours an error
//     (errHeaderTruncated) wrapping io.ErrUnexpectedEOF.
//   - After NextPart returns io.EOF or an error, nothing is compared
//     (ours is sticky, mime/multipart goes on parsing).
func FuzzDifferential(f *testing.F) {
	chunkings := [][]byte{nil, {0}, {2, 0, 9}, {13, 250, 1, 199}, {255}}
	for i, s := range seedBodies() {
		f.Add(s.body, s.boundary, chunkings[i%len(chunkings)], uint8(i*37))
	}
	f.Fuzz(func(t *testing.T, body []byte, boundary string, chunks []byte, mode uint8) {
		if len(boundary) > 70 || strings.ContainsAny(boundary, "\r\n") {
			t.Skip("not a boundary a Content-Type can carry")
		}
		// No header block is longer than the body, and mime/multipart
		// allows 10000 header fields.
		compareWithStd(t, body, boundary, chunks, mode, &Options{MaxHeaderBytes: len(body) + 1, MaxHeaders: 10000}, false)
		small := &Options{MaxHeaderBytes: 32 + int(mode), MaxHeaders: 1 + int(mode%4), BufferSize: 1}
		compareWithStd(t, body, boundary, chunks, mode, small, true)
	})
}

// compareWithStd reads body with mime/multipart and with a Reader made
// with opts and fails t where they differ. With limited, ours may stop
// with ErrHeaderTooLarge where mime/multipart goes on.
func compareWithStd(t *testing.T, body []byte, boundary string, chunks []byte, mode uint8, opts *Options, limited bool) {
	t.Helper()
	std := multipart.NewReader(bytes.NewReader(body), boundary)
	src := &chunkReader{data: body, sizes: chunks, eofWithLast: mode&modeEOFWithLast != 0}
	ours := NewReader(src, boundary, opts)
	readSize := readSizes[int(mode>>3)%len(readSizes)]
	longLine := hasLongLine(body)

	for i := 0; ; i++ {
		sp, serr := std.NextPart()
		op, oerr := ours.NextPart()
		if limited && errors.Is(oerr, ErrHeaderTooLarge) {
			return
		}
		require.False(t, errors.Is(oerr, ErrHeaderTooLarge), "part %d: header limit hit: %v", i, oerr)
		if serr == io.EOF && oerr == errHeaderTruncated {
			return
		}
		require.Equal(t, errClass(serr), errClass(oerr), "part %d: NextPart: std %v, ours %v", i, serr, oerr)
		if serr != nil {
			return
		}
		require.Equal(t, sp.Header, op.Header, "part %d: header", i)
		require.Equal(t, sp.FormName(), op.FormName(), "part %d: FormName", i)
		require.Equal(t, sp.FileName(), base(op.FileName()), "part %d: FileName vs std", i)
		require.Equal(t, rawFileName(op.Header.Get("Content-Disposition")), op.FileName(), "part %d: FileName", i)

		isQP := op.qp != nil
		if isQP && longLine {
			return
		}
		if mode&modeSkipBodies != 0 && i%2 == 1 && !isQP {
			continue
		}
		sbody, sberr := io.ReadAll(sp)
		obody, oberr := readBody(op, mode&modeWriteTo != 0, readSize)
		require.Equal(t, sberr != nil, oberr != nil, "part %d: body error: std %v, ours %v", i, sberr, oberr)
		require.Equal(t, string(sbody), string(obody), "part %d: body", i)
		if isQP && sberr != nil {
			return
		}
	}
}

// errClass names the three kinds of NextPart result.
func errClass(err error) string {
	switch err {
	case nil:
		return "part"
	case io.EOF:
		return "EOF"
	}
	return "error"
}

// readBody reads all of p with WriteTo or with Reads of size bytes.
func readBody(p *Part, writeTo bool, size int) ([]byte, error) {
	if writeTo {
		var b bytes.Buffer
		_, err := p.WriteTo(&b)
		return b.Bytes(), err
	}
	buf := make([]byte, size)
	var out []byte
	for {
		n, err := p.Read(buf)
		if n < 0 || n > len(buf) {
			return out, fmt.Errorf("bad count %d", n)
		}
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// base is what mime/multipart's FileName makes of a raw file name.
func base(name string) string {
	if name == "" {
		return ""
	}
	return filepath.Base(name)
}

// rawFileName is the filename parameter of a Content-Disposition value.
func rawFileName(v string) string {
	_, params, err := mime.ParseMediaType(v)
	if err != nil {
		return ""
	}
	return params["filename"]
}

// hasLongLine reports whether b has 4 KiB or more without a '\n'.
func hasLongLine(b []byte) bool {
	for len(b) >= stdLineLimit {
		i := bytes.IndexByte(b, '\n')
		if i < 0 || i >= stdLineLimit {
			return true
		}
		b = b[i+1:]
	}
	return false
}
