package mpart

import (
	"bytes"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/textproto"
	"strings"
)

// chunkReader returns data in reads whose sizes cycle through sizes (a
// size byte b means b+1 bytes if b < 200, else (b-199) KiB), so that a
// boundary or header can be cut anywhere. With eofWithLast the last read
// returns io.EOF along with its bytes.
type chunkReader struct {
	data        []byte
	sizes       []byte
	i           int
	eofWithLast bool
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := 1
	if len(c.sizes) > 0 {
		b := int(c.sizes[c.i%len(c.sizes)])
		c.i++
		if b < 200 {
			n = b + 1
		} else {
			n = (b - 199) << 10
		}
	}
	n = copy(p, c.data[:min(n, len(c.data))])
	c.data = c.data[n:]
	if c.eofWithLast && len(c.data) == 0 {
		return n, io.EOF
	}
	return n, nil
}

// randomChunks returns a reader of data in random-sized reads of 1 to
// maxChunk bytes.
type randomChunks struct {
	r        io.Reader
	rng      *rand.Rand
	maxChunk int
}

func (c *randomChunks) Read(p []byte) (int, error) {
	n := 1 + c.rng.IntN(c.maxChunk)
	return c.r.Read(p[:min(n, len(p))])
}

// formPart is one part for buildForm.
type formPart struct {
	header textproto.MIMEHeader
	body   []byte
}

// buildForm writes parts with mime/multipart.Writer and the given boundary.
func buildForm(boundary string, parts ...formPart) []byte {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if err := w.SetBoundary(boundary); err != nil {
		panic(err)
	}
	for _, p := range parts {
		pw, err := w.CreatePart(p.header)
		if err != nil {
			panic(err)
		}
		if _, err := pw.Write(p.body); err != nil {
			panic(err)
		}
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func fieldPart(name, value string) formPart {
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="`+name+`"`)
	return formPart{header: h, body: []byte(value)}
}

func filePart(name, filename, contentType string, body []byte) formPart {
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="`+name+`"; filename="`+filename+`"`)
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return formPart{header: h, body: body}
}

// crlf turns a readable literal with "\n" line ends into one with "\r\n".
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// seedBody is a body and its boundary, for the fuzz corpus and the tables.
type seedBody struct {
	name     string
	boundary string
	body     []byte
}

func seedBodies() []seedBody {
	const b = "XyZzY"
	rng := rand.New(rand.NewPCG(1, 2))
	bin := make([]byte, 3000)
	for i := range bin {
		bin[i] = byte(rng.UintN(256))
	}
	tricky := []byte("a\r\n--XyZzYz\r\n--XyZz\r\n-XyZzY--XyZzY\n--XyZzY\r--XyZzY-x\r\n--XyZzY-")
	seeds := []seedBody{
		{"form", b, buildForm(b, fieldPart("title", "Invoice"), filePart("file", "inv.pdf", "application/pdf", []byte("%PDF-1.7\r\n...")))},
		{"binary", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab", buildForm("0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab", filePart("f", `C:\dir\a.bin`, "", bin))},
		{"tricky content", b, buildForm(b, filePart("f", "t.txt", "text/plain", tricky), fieldPart("g", "--XyZzY"))},
		{"empty parts", b, buildForm(b, fieldPart("a", ""), formPart{header: textproto.MIMEHeader{}}, fieldPart("c", ""))},
		{"no parts", b, []byte("--XyZzY--\r\n")},
		{"no parts, no newline", b, []byte("--XyZzY--")},
		{"preamble and epilogue", b, []byte(crlf("This is a preamble.\n--XyZzY\nContent-Disposition: form-data; name=\"a\"\n\nA\n--XyZzY--\nepilogue\n"))},
		{"lf only", b, []byte("preamble\n--XyZzY\nContent-Type: text/plain\n\nline1\nline2\n--XyZzY\n\nno header\n--XyZzY--\n")},
		{"padding", b, []byte("--XyZzY \t\r\nA: b\r\n\r\nbody\r\n--XyZzY\t\r\n\r\n\r\n--XyZzY-- \t\r\n")},
		{"quoted-printable", b, []byte(crlf("--XyZzY\nContent-Disposition: form-data; name=\"q\"\nContent-Transfer-Encoding: quoted-printable\n\nd=C3=A9j=\n=C3=A0 vu\n--XyZzY--\n"))},
		{"bad quoted-printable", b, []byte(crlf("--XyZzY\nContent-Transfer-Encoding: Quoted-Printable\n\nbad =\x01 qp\n--XyZzY\n\nnext\n--XyZzY--\n"))},
		{"folded header", b, []byte(crlf("--XyZzY\nContent-Disposition: form-data;\n name=\"f\";\n\tfilename=\"a b.txt\"\nX-Long: 1\n  2\n\nbody\n--XyZzY--\n"))},
		{"filename star", b, []byte(crlf("--XyZzY\nContent-Disposition: form-data; name=\"f\"; filename*=UTF-8''%E2%82%AC%20rates.txt\n\n€\n--XyZzY--\n"))},
		{"truncated body", b, []byte(crlf("--XyZzY\nContent-Type: text/plain\n\npartial bo"))},
		{"truncated header", b, []byte(crlf("--XyZzY\nContent-Type: te"))},
		{"truncated delimiter", b, []byte(crlf("--XyZzY\n\nbody\n--XyZ"))},
		{"no final boundary", b, []byte(crlf("--XyZzY\n\nbody\n--XyZzY\n"))},
		{"body starts with boundary", b, []byte(crlf("--XyZzY\n\n--XyZzY\n\nsecond\n--XyZzY--"))},
		{"malformed header", b, []byte(crlf("--XyZzY\nno colon here\n\nbody\n--XyZzY--\n"))},
		{"leading space header", b, []byte(crlf("--XyZzY\n Content-Type: x\n\nbody\n--XyZzY--\n"))},
		{"junk after part", b, []byte(crlf("--XyZzY\n\nbody\n--XyZzY junk\n--XyZzY--\n"))},
		{"empty boundary", "", []byte(crlf("--\n\nbody\n----\n"))},
		{"odd boundary", "- a-", []byte(crlf("--- a-\n\nx\r\n--- a--\n--- a---\n"))},
		{"lf final boundary in crlf mode", b, []byte("--XyZzY\r\n\r\nx\r\n--XyZzY--\n")},
		{"lf final boundary in preamble", b, []byte("--XyZzY--\n--XyZzY\r\n\r\nx\r\n--XyZzY--")},
		{"crlf inside lf mode", b, []byte("--XyZzY\nA: b\r\n\r\nx\r\n--XyZzY\r\n\r\ny\n--XyZzY--\r\n")},
		{"final boundary then dash", b, []byte("--XyZzY\r\n\r\nx\r\n--XyZzY---\r\n")},
		{"delimiter then cr", b, []byte("--XyZzY\r\n\r\nx\r\n--XyZzY\rz\r\n--XyZzY--")},
	}
	return seeds
}
