package mpart

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzIndex checks that finder.index answers what bytes.Index answers.
// With alphabet > 0 the inputs are folded onto that many letters, so that
// near-matches and overlapping occurrences are common.
func FuzzIndex(f *testing.F) {
	f.Add([]byte("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n--0123456789abcdefyy"), []byte("\r\n--0123456789abcdef"), uint8(0), uint16(0))
	f.Add([]byte("abababababababababababababababababababababababababababababababababababababababababababab"), []byte("abababababababababb"), uint8(2), uint16(40))
	f.Fuzz(func(t *testing.T, s, d []byte, alphabet uint8, at uint16) {
		if len(d) == 0 {
			return
		}
		if alphabet > 0 {
			for i := range s {
				s[i] = 'a' + s[i]%alphabet
			}
			for i := range d {
				d[i] = 'a' + d[i]%alphabet
			}
		}
		if int(at)+len(d) <= len(s) {
			copy(s[at:], d)
		}
		var fd finder
		fd.reset(d)
		require.Equal(t, bytes.Index(s, d), fd.index(s), "%q in %q", d, s)
	})
}

func TestIndexRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var fd finder
	for range 100000 {
		alpha := 1 + rng.IntN(4)
		d := make([]byte, 1+rng.IntN(40))
		for i := range d {
			d[i] = byte('a' + rng.IntN(alpha))
		}
		s := make([]byte, rng.IntN(400))
		for i := range s {
			s[i] = byte('a' + rng.IntN(alpha))
		}
		if len(s) > len(d) && rng.IntN(2) == 0 {
			copy(s[rng.IntN(len(s)-len(d)):], d)
		}
		fd.reset(d)
		require.Equal(t, bytes.Index(s, d), fd.index(s), "%q in %q", d, s)
	}
}

// BenchmarkIndex compares finder with bytes.Index on 64 KiB with no
// delimiter: random, text, and a body made against the sampling (with the
// boundary "aaa...a").
func BenchmarkIndex(b *testing.B) {
	random := make([]byte, 64<<10)
	rand.NewChaCha8([32]byte{2}).Read(random)
	text := randomText(64 << 10)
	aaa := bytes.Repeat([]byte("a"), 70)
	hostile := bytes.Repeat([]byte("\r\n--"+string(aaa[:69])+"bb"), 64<<10/75)
	for _, in := range []struct {
		name     string
		boundary []byte
		s        []byte
	}{{"random", []byte(benchBoundary), random}, {"text", []byte(benchBoundary), text}, {"hostile", aaa, hostile}} {
		d := []byte("\r\n--" + string(in.boundary))
		var fd finder
		fd.reset(d)
		b.Run("bytes.Index/"+in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.s)))
			for b.Loop() {
				//lint:ignore S1003 bytes.Index is what is measured
				if bytes.Index(in.s, d) >= 0 {
					b.Fatal("found")
				}
			}
		})
		b.Run("finder/"+in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.s)))
			for b.Loop() {
				if fd.index(in.s) >= 0 {
					b.Fatal("found")
				}
			}
		})
	}
}

// randomText is CRLF text of words, with lines of 1 to 15 words.
func randomText(size int) []byte {
	rng := rand.New(rand.NewPCG(7, 8))
	words := []string{"the", "upload", "of", "a", "file", "42", "0xdeadbeef", "is", "streamed", "-", "into", "blob", "store", "cafe", "fade", "Data:", "2026-11-23"}
	var b bytes.Buffer
	for b.Len() < size {
		for i := range 1 + rng.IntN(15) {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[rng.IntN(len(words))])
		}
		b.WriteString("\r\n")
	}
	return b.Bytes()[:size]
}
