package mpart

import "bytes"

// finder finds the delimiter in the buffer: index(s) is bytes.Index(s, d),
// only faster on long inputs.
//
// bytes.Index looks for the delimiter's first byte, '\r', with IndexByte
// and compares at each one. In random data (compressed files, images) that
// is a call every 256 bytes, and in text with CRLF line ends one per line,
// which holds it to about a third of memmove's speed: the scan, not the
// copy, would bound an upload. finder looks at one byte in every len(d)
// instead. Each occurrence of d covers exactly one of the positions
// len(d)-1, 2*len(d)-1, ... so where the byte at such a position does not
// occur in d, no occurrence covers it; where it does, the few starts that
// would put that byte in place are checked, in increasing order. The
// answer is bytes.Index's (FuzzIndex checks that); short inputs and short
// delimiters go to bytes.Index itself, and so does the rest of an input
// where more than one start in four bytes has needed a check, which keeps
// the worst case (a boundary and a body chosen to defeat the sampling)
// bytes.Index's.
type finder struct {
	d []byte
	// at[c] holds the offsets m with d[m] == c, in decreasing order, so
	// that the starts j-m they give for a sampled position j increase:
	// at[c] is offsets[start[c]:start[c+1]].
	start   [257]int32
	offsets []int32
	in      [256]bool // in[c]: c occurs in d
}

// Below these, bytes.Index is as fast or faster.
const (
	finderMinDelim = 16 // bytes of delimiter
	finderMinInput = 4  // times the delimiter's length
)

func (f *finder) reset(d []byte) {
	f.d = d
	var count [256]int32
	f.in = [256]bool{}
	for _, c := range d {
		count[c]++
		f.in[c] = true
	}
	f.start[0] = 0
	for c := range 256 {
		f.start[c+1] = f.start[c] + count[c]
	}
	f.offsets = make([]int32, len(d))
	next := f.start
	for m := len(d) - 1; m >= 0; m-- {
		c := d[m]
		f.offsets[next[c]] = int32(m)
		next[c]++
	}
}

// index returns the index of the first occurrence of f.d in s, or -1.
func (f *finder) index(s []byte) int {
	n := len(f.d)
	if n < finderMinDelim || len(s) < finderMinInput*n {
		return bytes.Index(s, f.d)
	}
	d0 := f.d[0]
	checks := 0
	for j := n - 1; j < len(s); j += n {
		if !f.in[s[j]] {
			continue
		}
		c := int(s[j])
		at := f.offsets[f.start[c]:f.start[c+1]]
		if checks += len(at); checks > 16+j>>2 {
			// Input made of the delimiter's bytes (a boundary of one
			// letter repeated, and many of it in the body): too many
			// starts to check. No occurrence starts before j-n+1.
			if i := bytes.Index(s[j-n+1:], f.d); i >= 0 {
				return j - n + 1 + i
			}
			return -1
		}
		for _, m := range at {
			st := j - int(m)
			if s[st] == d0 && st+n <= len(s) && bytes.Equal(s[st:st+n], f.d) {
				return st
			}
		}
	}
	return -1
}
