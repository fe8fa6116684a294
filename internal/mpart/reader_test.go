package mpart

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// got is what a reader yielded for one part.
type got struct {
	Header   textproto.MIMEHeader
	FormName string
	FileName string // as mime/multipart gives it: filepath.Base'd
	Body     string
	BodyErr  bool
}

// collect reads all parts of ours; end is the error of the last NextPart.
func collect(t *testing.T, r *Reader, writeTo bool) (parts []got, end error) {
	t.Helper()
	for {
		p, err := r.NextPart()
		if err != nil {
			return parts, err
		}
		body, berr := readBody(p, writeTo, 32<<10)
		parts = append(parts, got{p.Header, p.FormName(), base(p.FileName()), string(body), berr != nil})
	}
}

// collectStd reads all parts with mime/multipart.
func collectStd(body []byte, boundary string) (parts []got, end error) {
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := r.NextPart()
		if err != nil {
			return parts, err
		}
		b, berr := io.ReadAll(p)
		parts = append(parts, got{p.Header, p.FormName(), p.FileName(), string(b), berr != nil})
	}
}

// sources are the ways the table tests feed a body to a Reader.
var sources = []struct {
	name string
	wrap func([]byte) io.Reader
}{
	{"whole", func(b []byte) io.Reader { return bytes.NewReader(b) }},
	{"OneByteReader", func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }},
	{"HalfReader", func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }},
	{"DataErrReader", func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) }},
	{"random chunks", func(b []byte) io.Reader {
		return &randomChunks{r: bytes.NewReader(b), rng: rand.New(rand.NewPCG(uint64(len(b)), 7)), maxChunk: 97}
	}},
}

// TestMatchesStdlib reads each seed body from every source, with Read and
// with WriteTo, and expects what mime/multipart gives.
func TestMatchesStdlib(t *testing.T) {
	for _, s := range seedBodies() {
		want, wantEnd := collectStd(s.body, s.boundary)
		for _, src := range sources {
			for _, writeTo := range []bool{false, true} {
				t.Run(s.name+"/"+src.name, func(t *testing.T) {
					parts, end := collect(t, NewReader(src.wrap(s.body), s.boundary, nil), writeTo)
					if wantEnd == io.EOF && errors.Is(end, errHeaderTruncated) {
						wantEnd = end // the documented difference
					}
					require.Equal(t, errClass(wantEnd), errClass(end), "std %v, ours %v", wantEnd, end)
					require.Equal(t, want, parts)
				})
			}
		}
	}
}

func TestForm(t *testing.T) {
	const b = "XyZzY"
	pdf := []byte("%PDF-1.7\r\nx--XyZzY--\r\n--XyZzYX\r\n--XyZzY-\r\n--XyZz")
	body := buildForm(b,
		fieldPart("title", "Invoice"),
		filePart("file", `C:\Users\a\inv.pdf`, "application/pdf", pdf),
		fieldPart("empty", ""),
	)
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			r := NewReader(src.wrap(body), b, nil)

			p, err := r.NextPart()
			require.NoError(t, err)
			assert.Equal(t, "title", p.FormName())
			assert.Equal(t, "", p.FileName())
			v, err := io.ReadAll(p)
			require.NoError(t, err)
			assert.Equal(t, "Invoice", string(v))

			p, err = r.NextPart()
			require.NoError(t, err)
			assert.Equal(t, "file", p.FormName())
			assert.Equal(t, `C:\Users\a\inv.pdf`, p.FileName(), "raw, not filepath.Base'd")
			assert.Equal(t, "application/pdf", p.Header.Get("Content-Type"))
			v, err = io.ReadAll(p)
			require.NoError(t, err)
			assert.Equal(t, pdf, v)

			p, err = r.NextPart()
			require.NoError(t, err)
			assert.Equal(t, "empty", p.FormName())
			v, err = io.ReadAll(p)
			require.NoError(t, err)
			assert.Empty(t, v)

			_, err = r.NextPart()
			assert.Equal(t, io.EOF, err)
			_, err = r.NextPart()
			assert.Equal(t, io.EOF, err, "sticky")
		})
	}
}

// TestBoundaryLikeContent puts near-delimiters into a body at every
// offset around a read boundary.
func TestBoundaryLikeContent(t *testing.T) {
	const b = "boundary"
	fakes := []string{"\r\n--boundar", "--boundary", "\r\n--boundaryX", "\r\n--boundary-", "\n--boundary", "\r--boundary", "\r\n-boundary", "\r\n--boundary-x", "\r\r\n--boundar\r\n"}
	for _, fake := range fakes {
		for pad := 0; pad < 70; pad += 7 {
			content := strings.Repeat("x", pad) + fake + "tail" + fake
			body := buildForm(b, filePart("f", "a.txt", "text/plain", []byte(content)), fieldPart("n", "v"+fake))
			for _, src := range sources {
				r := NewReader(src.wrap(body), b, nil)
				parts, end := collect(t, r, pad%2 == 0)
				require.Equal(t, io.EOF, end, "%q %d %s", fake, pad, src.name)
				require.Len(t, parts, 2)
				require.Equal(t, content, parts[0].Body)
				require.Equal(t, "v"+fake, parts[1].Body)
			}
		}
	}
}

func TestLargeAndEmptyParts(t *testing.T) {
	const b = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"
	rng := rand.New(rand.NewPCG(3, 4))
	big := make([]byte, 5<<20+123)
	for i := range big {
		big[i] = byte(rng.UintN(256))
	}
	// Sprinkle delimiter prefixes over the content.
	for i := 1000; i+70 < len(big); i += 70001 {
		copy(big[i:], "\r\n--"+b[:i%60])
	}
	body := buildForm(b, filePart("a", "empty", "", nil), filePart("b", "big.bin", "", big), fieldPart("c", ""))
	for _, src := range sources[:3] {
		for _, size := range []int{1, 4096, 64 << 10, 1 << 20} {
			r := NewReader(src.wrap(body), b, &Options{BufferSize: size})
			parts, end := collect(t, r, size == 4096)
			require.Equal(t, io.EOF, end)
			require.Len(t, parts, 3)
			assert.Empty(t, parts[0].Body)
			assert.True(t, parts[1].Body == string(big), "%s, buffer %d: big body differs", src.name, size)
			assert.Empty(t, parts[2].Body)
		}
	}
}

// TestTruncated cuts a body at every length: ours must agree with
// mime/multipart, except that input ending in a header is an error here;
// and everything short of the closing boundary wraps io.ErrUnexpectedEOF.
func TestTruncated(t *testing.T) {
	const b = "XyZzY"
	body := buildForm(b, fieldPart("a", "alpha\r\n--XyZz"), filePart("f", "f.txt", "text/plain", []byte("file body")))
	end := bytes.LastIndex(body, []byte("--XyZzY--")) + len("--XyZzY--")
	for n := 0; n <= len(body); n++ {
		cut := body[:n]
		want, wantEnd := collectStd(cut, b)
		for _, src := range sources {
			parts, err := collect(t, NewReader(src.wrap(cut), b, nil), n%2 == 0)
			if n < end {
				require.ErrorIs(t, err, io.ErrUnexpectedEOF, "cut at %d, %s", n, src.name)
				if wantEnd == io.EOF {
					require.ErrorIs(t, err, errHeaderTruncated, "cut at %d", n)
				}
			} else {
				// "--XyZzY--" and "--XyZzY--\r\n" end well, "--XyZzY--\r" not.
				require.Equal(t, errClass(wantEnd), errClass(err), "cut at %d, %s", n, src.name)
				require.Equal(t, n != end+1, err == io.EOF, "cut at %d, %s", n, src.name)
			}
			require.Equal(t, want, parts, "cut at %d", n)
		}
	}
}

func TestBodyEndsEarly(t *testing.T) {
	r := NewReader(strings.NewReader(crlf("--b\n\nsome data")), "b", nil)
	p, err := r.NextPart()
	require.NoError(t, err)
	data, err := io.ReadAll(p)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, "some data", string(data))
	_, err = r.NextPart()
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func TestHeaderLimits(t *testing.T) {
	part := func(header string) []byte {
		return []byte("--b\r\n" + header + "\r\nbody\r\n--b--\r\n")
	}
	line := "X-A: " + strings.Repeat("v", 93) + "\r\n" // 100 bytes
	tests := []struct {
		name    string
		header  string
		opts    Options
		tooBig  bool
		nFields int
	}{
		{"at byte limit", strings.Repeat(line, 9) + "X-B: 123\r\n", Options{MaxHeaderBytes: 912}, false, 2},
		{"over byte limit", strings.Repeat(line, 9) + "X-B: 1234\r\n", Options{MaxHeaderBytes: 912}, true, 0},
		{"default byte limit", strings.Repeat(line, 50) + "X-Big: " + strings.Repeat("v", 16<<10) + "\r\n", Options{}, true, 0},
		{"at field limit", strings.Repeat("A: 1\r\n", 3), Options{MaxHeaders: 3}, false, 1},
		{"continuations do not count", "A: 1\r\n 2\r\n\t3\r\nB: 1\r\n", Options{MaxHeaders: 2}, false, 2},
		{"over field limit", strings.Repeat("A: 1\r\n", 4), Options{MaxHeaders: 3}, true, 0},
		{"default field limit", strings.Repeat("A: 1\r\n", 65), Options{}, true, 0},
		{"no header", "", Options{MaxHeaders: 1, MaxHeaderBytes: 2}, false, 0},
	}
	for _, tt := range tests {
		for _, src := range sources {
			t.Run(tt.name+"/"+src.name, func(t *testing.T) {
				r := NewReader(src.wrap(part(tt.header)), "b", &tt.opts)
				p, err := r.NextPart()
				if tt.tooBig {
					require.ErrorIs(t, err, ErrHeaderTooLarge)
					_, err2 := r.NextPart()
					require.Equal(t, err, err2, "sticky")
					return
				}
				require.NoError(t, err)
				assert.Len(t, p.Header, tt.nFields)
				body, err := io.ReadAll(p)
				require.NoError(t, err)
				assert.Equal(t, "body", string(body))
			})
		}
	}
}

// TestLongLines: mime/multipart reads lines outside parts through a 4 KiB
// buffer and fails on longer ones; header lines and bodies have no such
// limit.
func TestLongLines(t *testing.T) {
	ok := strings.Repeat("p", stdLineLimit-1) + "\n"
	long := strings.Repeat("p", stdLineLimit) + "\n"
	hdr := "X-Long: " + strings.Repeat("h", 8000)
	tests := map[string]struct {
		body string
		ok   bool
	}{
		"preamble line of 4 KiB": {ok + "--b\r\n\r\nx\r\n--b--", true},
		"longer preamble line":   {long + "--b\r\n\r\nx\r\n--b--", false},
		"long padding":           {"--b\r\n\r\nx\r\n--b--" + strings.Repeat(" ", 5000) + "\r\n", false},
		"long header line":       {"--b\r\n" + hdr + "\r\n\r\nx\r\n--b--", true},
		"long body line":         {"--b\r\n\r\n" + strings.Repeat("x", 9000) + "\r\n--b--", true},
	}
	for name, tt := range tests {
		want, wantEnd := collectStd([]byte(tt.body), "b")
		require.Equal(t, tt.ok, wantEnd == io.EOF, "%s: std says %v", name, wantEnd)
		for _, src := range sources {
			parts, end := collect(t, NewReader(src.wrap([]byte(tt.body)), "b", nil), false)
			assert.Equal(t, wantEnd == io.EOF, end == io.EOF, "%s, %s: %v", name, src.name, end)
			assert.Equal(t, want, parts, name)
		}
	}
}

func TestQuotedPrintable(t *testing.T) {
	body := crlf("--b\nContent-Disposition: form-data; name=\"q\"\nContent-Transfer-Encoding: quoted-printable\nX: y\n\nd=C3=A9j=\n=C3=A0 vu\n--b--\n")
	for _, writeTo := range []bool{false, true} {
		parts, end := collect(t, NewReader(strings.NewReader(body), "b", nil), writeTo)
		require.Equal(t, io.EOF, end)
		require.Len(t, parts, 1)
		assert.Equal(t, "déjà vu", parts[0].Body)
		assert.Equal(t, textproto.MIMEHeader{"Content-Disposition": {`form-data; name="q"`}, "X": {"y"}}, parts[0].Header)
	}
}

func TestFileName(t *testing.T) {
	tests := map[string]string{
		`form-data; name="f"; filename="../../etc/passwd"`:              "../../etc/passwd",
		`form-data; name="f"; filename="C:\\dir\\a.txt"`:                `C:\dir\a.txt`,
		`form-data; name="f"; filename*=UTF-8''%E2%82%AC%20rates.txt`:   "€ rates.txt",
		`form-data; name="f"; filename="a.txt"; filename*=UTF-8''b.txt`: "b.txt",
		`attachment; filename="a.txt"`:                                  "a.txt",
		`form-data; name="f"; filename=`:                                "",
		`form-data; name="f"`:                                           "",
	}
	for cd, want := range tests {
		body := "--b\r\nContent-Disposition: " + cd + "\r\n\r\n\r\n--b--"
		r := NewReader(strings.NewReader(body), "b", nil)
		p, err := r.NextPart()
		require.NoError(t, err)
		assert.Equal(t, want, p.FileName(), cd)
		sp, err := multipart.NewReader(strings.NewReader(body), "b").NextPart()
		require.NoError(t, err)
		assert.Equal(t, sp.FileName(), base(p.FileName()), cd)
		assert.Equal(t, sp.FormName(), p.FormName(), cd)
	}
}

func TestSkippedPartsAndClose(t *testing.T) {
	body := buildForm("b", fieldPart("a", strings.Repeat("A", 100000)), fieldPart("b", "B"), fieldPart("c", "C"))
	r := NewReader(iotest.HalfReader(bytes.NewReader(body)), "b", nil)
	p1, err := r.NextPart()
	require.NoError(t, err)
	buf := make([]byte, 10)
	_, err = io.ReadFull(p1, buf)
	require.NoError(t, err)
	p2, err := r.NextPart() // discards the rest of p1
	require.NoError(t, err)
	n, err := p1.Read(buf)
	assert.Equal(t, 0, n)
	assert.Equal(t, io.EOF, err, "a discarded part reads as ended")
	require.NoError(t, p2.Close())
	p3, err := r.NextPart()
	require.NoError(t, err)
	v, err := io.ReadAll(p3)
	require.NoError(t, err)
	assert.Equal(t, "C", string(v))
	_, err = r.NextPart()
	assert.Equal(t, io.EOF, err)
}

// shortWriter accepts at most n bytes per Write.
type shortWriter struct{ n int }

func (w shortWriter) Write(p []byte) (int, error) { return min(len(p), w.n), nil }

func TestWriteTo(t *testing.T) {
	body := buildForm("b", fieldPart("a", strings.Repeat("A", 200000)))
	r := NewReader(bytes.NewReader(body), "b", nil)
	p, err := r.NextPart()
	require.NoError(t, err)
	n, err := p.WriteTo(shortWriter{10})
	assert.Equal(t, int64(10), n)
	assert.Equal(t, io.ErrShortWrite, err)
	boom := errors.New("boom")
	n, err = p.WriteTo(iotest.TruncateWriter(errWriter{boom}, 1<<30))
	assert.Equal(t, int64(0), n)
	assert.Equal(t, boom, err)
	var out bytes.Buffer
	n, err = p.WriteTo(&out)
	require.NoError(t, err)
	assert.Equal(t, int64(200000-10), n)
	n, err = p.WriteTo(&out)
	assert.Equal(t, int64(0), n)
	assert.NoError(t, err, "WriteTo at the end is success")
}

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

func TestSourceErrors(t *testing.T) {
	boom := errors.New("boom")
	body := "--b\r\n\r\nsome body"
	r := NewReader(io.MultiReader(strings.NewReader(body), iotest.ErrReader(boom)), "b", nil)
	p, err := r.NextPart()
	require.NoError(t, err)
	data, err := io.ReadAll(p)
	assert.Equal(t, boom, err)
	assert.Equal(t, "some body", string(data))
	_, err = r.NextPart()
	assert.ErrorIs(t, err, boom)

	r = NewReader(emptyReads{}, "b", nil)
	_, err = r.NextPart()
	assert.ErrorIs(t, err, io.ErrNoProgress)
}

type emptyReads struct{}

func (emptyReads) Read([]byte) (int, error) { return 0, nil }

func TestEmptyBoundary(t *testing.T) {
	r := NewReader(strings.NewReader("--\r\n\r\n\r\n----"), "", nil)
	_, err := r.NextPart()
	assert.ErrorIs(t, err, errEmptyBoundary)
}
