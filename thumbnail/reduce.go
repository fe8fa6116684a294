package thumbnail

import (
	"encoding/binary"
	"sync/atomic"
)

// fplane is one channel at reduced resolution, in float32 sample values
// (0..255). Sample (i, j) is centred on image coordinates (x0+i*ux,
// y0+j*uy), in pixels from the image's top-left edge.
type fplane struct {
	w, h   int
	x0, y0 float64
	ux, uy float64
	pix    []float32
}

// maxFactor bounds reduction factors so that sums fit a uint32 per axis
// (255 * 2f² < 2^32).
const maxFactor = 2048

// reduce shrinks src by the integer factors fx, fy (1 leaves an axis as it
// is) with a tent filter twice the factor wide. Cut the image into blocks
// of f samples; output sample i is centred on the edge between blocks i-1
// and i, and weighs the samples of both by their closeness to it: 2r+1 for
// the sample r of block i-1, 2f-2r-1 for the sample r of block i. There
// is one more output sample than blocks, the outer two centred on the
// image's edges and missing their outer half (the weights are renormalised
// per sample, exactly, in integers).
//
// The tent is a box convolved with itself: an area average's frequency
// response squared. Detail finer than the reduced grid can hold, which a
// box lets through at up to a fifth of its amplitude to fold back as moiré,
// is held to about one percent.
//
// Per axis, a tent is two sums per block: S0 = Σ x and S1 = Σ r·x, as
// 2·S1+S0 and (2f-1)·S0-2·S1 are the rising and falling halves. So each
// source row is read once and costs two adds and a multiply per byte, done
// eight bytes at a time in the 16-bit lanes of uint64s.
//
// It returns one plane per channel, and for four-channel sources whether
// any alpha sample is below 255 (a weighted mean of alphas is 255 only if
// all are). Output rows are spread over GOMAXPROCS goroutines.
func reduce(src rowSource, fx, fy int) (planes []fplane, transparent bool) {
	fx, fy = min(max(fx, 1), maxFactor), min(max(fy, 1), maxFactor)
	ax, ay := newAxis(src.w, fx), newAxis(src.h, fy)
	ow, oh := ax.out(), ay.out()
	planes = make([]fplane, src.ch)
	for c := range planes {
		planes[c] = fplane{
			w: ow, h: oh, pix: make([]float32, ow*oh),
			x0: ax.origin() * float64(src.ux), y0: ay.origin() * float64(src.uy),
			ux: float64(src.ux * fx), uy: float64(src.uy * fy),
		}
	}
	n := src.w * src.ch // bytes per row
	zero := make([]uint32, n)
	var anyTransparent atomic.Bool
	parallelWith(oh, func() *reducer { return newReducer(n) }, func(w *reducer, lo, hi int) {
		if fy > 1 && lo > 0 {
			w.m.block(src, w.buf, ay, lo-1, w.prev)
		}
		for oy := lo; oy < hi; oy++ {
			var sumY uint32
			if fy == 1 {
				row := src.row(oy, w.buf)
				for i, v := range row {
					w.col[i] = uint32(v)
				}
				sumY = 1
			} else {
				w.m.block(src, w.buf, ay, oy, w.cur)
				sumY = ay.tent(w.col, w.prev, w.cur, zero, oy)
				w.prev, w.cur = w.cur, w.prev
			}
			if src.ch == 1 {
				ax.row1(planes[0].pix[oy*ow:(oy+1)*ow], w.col, sumY)
			} else if ax.row4(planes, oy*ow, w.col, sumY) {
				anyTransparent.Store(true)
			}
		}
	})
	return planes, anyTransparent.Load()
}

// reducer is a goroutine's scratch space for reduce.
type reducer struct {
	m         *moments
	prev, cur *halves // of the blocks before and at the output row
	col       []uint32
	buf       []byte
}

func newReducer(n int) *reducer {
	return &reducer{
		m: newMoments(n), prev: newHalves(n), cur: newHalves(n),
		col: make([]uint32, n), buf: make([]byte, n),
	}
}

// axis describes the reduction of one axis of n samples by f.
type axis struct {
	n, f    int
	blocks  int      // ceil(n/f)
	pattern []uint32 // the 2f tent weights: 1, 3, ..., 2f-1, 2f-1, ..., 3, 1
	invFull float64  // 1 / the sum of the pattern
}

func newAxis(n, f int) axis {
	a := axis{n: n, f: f, blocks: (n + f - 1) / f, pattern: make([]uint32, 2*f)}
	for r := range f {
		a.pattern[r] = uint32(2*r + 1)
		a.pattern[2*f-1-r] = uint32(2*r + 1)
	}
	a.invFull = 1 / float64(2*f*f)
	return a
}

// taps returns the input range [lo, lo+len(ws)) of output i and its
// weights (for f > 1).
func (a axis) taps(i int) (lo int, ws []uint32) {
	lo, hi := (i-1)*a.f, (i+1)*a.f
	ws = a.pattern
	if lo < 0 {
		ws, lo = ws[-lo:], 0
	}
	if hi > a.n {
		ws = ws[:len(ws)-(hi-a.n)]
	}
	return lo, ws
}

// out is the number of output samples: n when f is 1, else one per block
// edge, the image's outer edges included.
func (a axis) out() int {
	if a.f == 1 {
		return a.n
	}
	return a.blocks + 1
}

// origin is where output sample 0 is centred, in input samples.
func (a axis) origin() float64 {
	if a.f == 1 {
		return 0.5
	}
	return 0
}

// size is the number of input samples in block b (0 outside the axis).
func (a axis) size(b int) int {
	if b < 0 || b >= a.blocks {
		return 0
	}
	return min(a.f, a.n-b*a.f)
}

// weight is the sum of the tent weights of output sample i: the rising
// half over block i-1 and the falling half over block i.
func (a axis) weight(i int) uint32 {
	k0, k1 := a.size(i-1), a.size(i)
	return uint32(k0*k0 + 2*a.f*k1 - k1*k1)
}

// tent writes the vertical tent of output row i, from the rising half of
// block i-1 (prev) and the falling half of block i (cur), to col and
// returns its weight. zero stands in for the halves of missing blocks.
func (a axis) tent(col []uint32, prev, cur *halves, zero []uint32, i int) uint32 {
	rise, fall := prev.rise[:len(col)], cur.fall[:len(col)]
	if a.size(i-1) == 0 {
		rise = zero[:len(col)]
	}
	if a.size(i) == 0 {
		fall = zero[:len(col)]
	}
	for x := range col {
		col[x] = rise[x] + fall[x]
	}
	return a.weight(i)
}

// row1 filters a row of column values horizontally into out, dividing by
// the weights. An interior output's taps are the whole symmetric pattern,
// so mirrored inputs are added before they are weighed.
func (a axis) row1(out []float32, col []uint32, sumY uint32) {
	invY := 1 / float64(sumY)
	if a.f == 1 {
		for i, v := range col {
			out[i] = float32(float64(v) * invY)
		}
		return
	}
	f := a.f
	half := a.pattern[:f]
	for i := range out {
		lo := (i - 1) * f
		if lo < 0 || lo+2*f > len(col) {
			lo, ws := a.taps(i)
			in := col[lo : lo+len(ws)]
			var s uint64
			for k, w := range ws {
				s += uint64(w) * uint64(in[k])
			}
			out[i] = float32(float64(s) * invY / float64(a.weight(i)))
			continue
		}
		in := col[lo : lo+2*f]
		last := len(in) - 1
		var s uint64
		for k, w := range half {
			s += uint64(w) * uint64(in[k]+in[last-k])
		}
		out[i] = float32(float64(s) * invY * a.invFull)
	}
}

// row4 is row1 for interleaved RGBA, writing the four planes at offset
// off. It reports whether any alpha is below 255.
func (a axis) row4(planes []fplane, off int, col []uint32, sumY uint32) (transparent bool) {
	ow := planes[0].w
	r, g, b, al := planes[0].pix[off:off+ow], planes[1].pix[off:off+ow], planes[2].pix[off:off+ow], planes[3].pix[off:off+ow]
	one := []uint32{1}
	for i := range ow {
		lo, ws, w := i, one, uint64(sumY)
		if a.f > 1 {
			lo, ws = a.taps(i)
			w *= uint64(a.weight(i))
		}
		in := col[4*lo : 4*(lo+len(ws))]
		var sr, sg, sb, sa uint64
		for k, t := range ws {
			t := uint64(t)
			c := in[4*k : 4*k+4]
			sr += t * uint64(c[0])
			sg += t * uint64(c[1])
			sb += t * uint64(c[2])
			sa += t * uint64(c[3])
		}
		if sa != 255*w {
			transparent = true
		}
		inv := 1 / float64(w)
		r[i], g[i], b[i], al[i] = float32(float64(sr)*inv), float32(float64(sg)*inv), float32(float64(sb)*inv), float32(float64(sa)*inv)
	}
	return transparent
}

// halves are, for each column of one block of rows, the rising and
// falling halves of the tents that block is part of: with S0 = Σ x and
// S1 = Σ r·x over the rows r of the block, 2·S1+S0 and (2f-1)·S0-2·S1.
type halves struct {
	rise, fall []uint32
}

func newHalves(n int) *halves {
	return &halves{rise: make([]uint32, n), fall: make([]uint32, n)}
}

// moments is the scratch space that sums a block: S0 and S1 for the
// columns not summed in lanes, or for all columns of a block summed in
// several chunks; and the lane sums, where byte 8k+2l of a row goes to
// lane l of e0[k] (and e1[k] weighted by r), byte 8k+2l+1 to lane l of
// o0[k] (o1[k]).
type moments struct {
	s0, s1         []uint32
	e0, o0, e1, o1 []uint64
}

func newMoments(n int) *moments {
	return &moments{
		s0: make([]uint32, n), s1: make([]uint32, n),
		e0: make([]uint64, n/8), o0: make([]uint64, n/8), e1: make([]uint64, n/8), o1: make([]uint64, n/8),
	}
}

// lanes masks the even bytes of a uint64 into four 16-bit lanes.
const lanes = 0x00ff00ff00ff00ff

// block computes into dst the tent halves of block b of the rows of src.
func (m *moments) block(src rowSource, buf []byte, a axis, b int, dst *halves) {
	k := a.size(b)
	f2 := uint32(2*a.f - 1)
	n := len(dst.rise)
	// 16-bit lanes hold the sums of chunk rows: chunk*(f-1)*255 and
	// chunk*255 stay within 65535. Bytes from tail on are summed one by
	// one; all are when r*255 would not fit a lane.
	chunk := max(1, 257/max(1, a.f-1))
	tail := 8 * len(m.e0)
	if a.f-1 > 257 {
		tail = 0
	}
	single := tail > 0 && k <= chunk // lanes straight to rise and fall
	from := 0                        // columns from here on go through s0, s1
	if single {
		from = tail
	}
	clear(m.s0[from:])
	clear(m.s1[from:])
	for r0 := 0; r0 < k; r0 += chunk {
		if tail > 0 {
			clear(m.e0)
			clear(m.o0)
			clear(m.e1)
			clear(m.o1)
		}
		for r := r0; r < min(r0+chunk, k); r++ {
			row := src.row(b*a.f+r, buf)
			if tail > 0 {
				m.add(row, uint64(r))
			}
			for i := tail; i < n; i++ {
				m.s0[i] += uint32(row[i])
				m.s1[i] += uint32(r) * uint32(row[i])
			}
		}
		switch {
		case single:
			m.flushTent(dst.rise, dst.fall, f2)
		case tail > 0:
			flush(m.s0, m.e0, m.o0)
			flush(m.s1, m.e1, m.o1)
		}
	}
	for i := from; i < n; i++ {
		dst.rise[i] = 2*m.s1[i] + m.s0[i]
		dst.fall[i] = f2*m.s0[i] - 2*m.s1[i]
	}
}

// add adds row (its first 8*len(e0) bytes) to the lane sums, with weight r
// for the first moments.
func (m *moments) add(row []byte, r uint64) {
	e0, o0, e1, o1 := m.e0, m.o0[:len(m.e0)], m.e1[:len(m.e0)], m.o1[:len(m.e0)]
	row = row[:8*len(e0)]
	for k := range e0 {
		v := binary.LittleEndian.Uint64(row[8*k:])
		e, o := v&lanes, v>>8&lanes
		e0[k] += e
		o0[k] += o
		e1[k] += e * r
		o1[k] += o * r
	}
}

// flushTent writes the tent halves of the lane sums, for the columns they
// hold, to rise and fall.
func (m *moments) flushTent(rise, fall []uint32, f2 uint32) {
	e0, o0, e1, o1 := m.e0, m.o0[:len(m.e0)], m.e1[:len(m.e0)], m.o1[:len(m.e0)]
	rise, fall = rise[:8*len(e0)], fall[:8*len(e0)]
	for k := range e0 {
		ri, fa := rise[8*k:8*k+8], fall[8*k:8*k+8]
		for l := range 4 {
			sh := 16 * uint(l)
			s0, s1 := uint32(e0[k]>>sh&0xffff), uint32(e1[k]>>sh&0xffff)
			ri[2*l], fa[2*l] = 2*s1+s0, f2*s0-2*s1
			s0, s1 = uint32(o0[k]>>sh&0xffff), uint32(o1[k]>>sh&0xffff)
			ri[2*l+1], fa[2*l+1] = 2*s1+s0, f2*s0-2*s1
		}
	}
}

// flush adds lane sums to column sums.
func flush(acc []uint32, even, odd []uint64) {
	acc = acc[:8*len(even)]
	odd = odd[:len(even)]
	for k, e := range even {
		o := odd[k]
		a := acc[8*k : 8*k+8]
		a[0] += uint32(e & 0xffff)
		a[1] += uint32(o & 0xffff)
		a[2] += uint32(e >> 16 & 0xffff)
		a[3] += uint32(o >> 16 & 0xffff)
		a[4] += uint32(e >> 32 & 0xffff)
		a[5] += uint32(o >> 32 & 0xffff)
		a[6] += uint32(e >> 48)
		a[7] += uint32(o >> 48)
	}
}
