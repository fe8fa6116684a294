package mpart

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestDifferentialRandomBodies runs FuzzDifferential's comparison on
// random bodies larger than the fuzzer tends to make: parts around the
// 4 KiB and 64 KiB buffer sizes, near-delimiters, padding, "\n" mode,
// quoted-printable parts, truncation, each read in random chunks.
func TestDifferentialRandomBodies(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 30
	}
	for seed := range n {
		rng := rand.New(rand.NewPCG(uint64(seed), 99))
		boundary, body := randomBody(rng)
		chunks := make([]byte, 1+rng.IntN(8))
		for i := range chunks {
			chunks[i] = byte(rng.UintN(256))
		}
		mode := uint8(rng.UintN(256))
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			compareWithStd(t, body, boundary, chunks, mode, &Options{MaxHeaderBytes: len(body) + 1, MaxHeaders: 10000}, false)
			compareWithStd(t, body, boundary, chunks, mode, &Options{MaxHeaderBytes: 200, MaxHeaders: 3, BufferSize: 1}, true)
		})
	}
}

var randomBoundaries = []string{"b", "XyZzY", "- a-", "boundary", benchBoundary, "----WebKitFormBoundary7MA4YWxkTrZu0gW"}

// randomBody returns a boundary and a multipart body built from random
// choices, mostly well-formed.
func randomBody(rng *rand.Rand) (string, []byte) {
	boundary := randomBoundaries[rng.IntN(len(randomBoundaries))]
	nl := "\r\n"
	if rng.IntN(5) == 0 {
		nl = "\n"
	}
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	var b bytes.Buffer
	if rng.IntN(3) == 0 {
		b.WriteString("preamble " + strings.Repeat("p", rng.IntN(5000)) + nl)
	}
	for i := range rng.IntN(5) {
		b.WriteString("--" + boundary + pick("", "", " ", "\t ") + nl)
		qp := rng.IntN(6) == 0
		b.WriteString(fmt.Sprintf(`Content-Disposition: form-data; name="f%d"`, i))
		if rng.IntN(2) == 0 {
			b.WriteString(`; filename="` + pick("a.txt", `C:\x\y.bin`, "../z", "") + `"`)
		}
		b.WriteString(nl)
		if rng.IntN(3) == 0 {
			b.WriteString("Content-Type: application/octet-stream" + nl + " ; folded" + nl)
		}
		if qp {
			b.WriteString("Content-Transfer-Encoding: " + pick("quoted-printable", "Quoted-Printable") + nl)
		}
		b.WriteString(nl)
		if qp {
			b.WriteString(pick("caf=C3=A9 =", "line=\r\nsoft", "bad =ZZ", "=4", strings.Repeat("a=3D", rng.IntN(3000))))
		} else {
			b.Write(randomContent(rng, boundary, nl))
		}
		b.WriteString(nl)
	}
	b.WriteString("--" + boundary + "--" + pick("", " ", "\t") + pick("", nl, nl+"epilogue"+nl))
	body := b.Bytes()
	if rng.IntN(5) == 0 {
		body = body[:rng.IntN(len(body)+1)]
	}
	return boundary, body
}

// randomContent is random bytes of a size near a buffer size, with
// near-delimiters in it.
func randomContent(rng *rand.Rand, boundary, nl string) []byte {
	sizes := []int{0, 1, 100, 4095, 4096, 4097, 8192, 65535, 65536, 65537, 100000}
	size := max(0, sizes[rng.IntN(len(sizes))]+rng.IntN(7)-3)
	c := make([]byte, size)
	for i := range c {
		c[i] = byte(rng.UintN(256))
	}
	near := []string{nl + "--" + boundary + "x", nl + "--" + boundary + "-x", nl + "--" + boundary[:len(boundary)/2], "--" + boundary, nl + "-"}
	for range rng.IntN(6) {
		if size == 0 {
			break
		}
		s := near[rng.IntN(len(near))]
		copy(c[rng.IntN(size):], s)
	}
	// A lone trailing near-delimiter that is cut off by the real one.
	if size > 10 && rng.IntN(4) == 0 {
		s := nl + "--" + boundary
		copy(c[size-rng.IntN(min(size, len(s))+1):], s)
	}
	return c
}
