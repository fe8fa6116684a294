package thumbnail

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tentRef is the tent reduction of one axis computed directly, in
// float64: output i weighs input j by max(0, f - |j+0.5 - i*f|), the
// distance from the block edge at i*f, and divides by the weights present.
func tentRef(in []float64, f int) []float64 {
	if f == 1 {
		return append([]float64(nil), in...)
	}
	blocks := (len(in) + f - 1) / f
	out := make([]float64, blocks+1)
	for i := range out {
		var s, w float64
		for j := range in {
			if t := float64(f) - math.Abs(float64(j)+0.5-float64(i*f)); t > 0 {
				s += t * in[j]
				w += t
			}
		}
		out[i] = s / w
	}
	return out
}

// reduceRef reduces a plane of w x h samples by the tent, separably.
func reduceRef(pix []float64, w, h, fx, fy int) ([]float64, int, int) {
	var rows [][]float64
	for y := range h {
		rows = append(rows, tentRef(pix[y*w:(y+1)*w], fx))
	}
	ow := len(rows[0])
	var cols [][]float64
	for x := range ow {
		col := make([]float64, h)
		for y := range h {
			col[y] = rows[y][x]
		}
		cols = append(cols, tentRef(col, fy))
	}
	oh := len(cols[0])
	out := make([]float64, ow*oh)
	for x := range ow {
		for y := range oh {
			out[y*ow+x] = cols[x][y]
		}
	}
	return out, ow, oh
}

// TestReduceMatchesReference checks the lane arithmetic of reduce (chunks,
// the byte-by-byte tail, the scalar path for huge factors, both edges and
// partial blocks) against the direct float64 tent, for one and four
// channels, and the sample positions it reports.
func TestReduceMatchesReference(t *testing.T) {
	tests := []struct{ w, h, fx, fy int }{
		{37, 23, 1, 1},
		{37, 23, 2, 3},
		{613, 411, 7, 7},   // the common case
		{613, 411, 3, 1},   // horizontal only
		{613, 411, 1, 5},   // vertical only
		{101, 640, 4, 24},  // S1 needs more than one 16-bit chunk
		{101, 640, 5, 100}, // many chunks
		{9, 700, 2, 300},   // too large for lanes: byte by byte
		{700, 9, 300, 2},
		{1, 1, 1, 1},
		{5, 5, 7, 7}, // one partial block
	}
	for _, tt := range tests {
		for _, ch := range []int{1, 4} {
			t.Run(fmt.Sprintf("%dx%d/%d,%d/ch%d", tt.w, tt.h, tt.fx, tt.fy, ch), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(tt.w), uint64(tt.h)))
				n := tt.w * ch
				data := make([]byte, n*tt.h)
				for i := range data {
					data[i] = byte(rng.Uint32())
				}
				src := rowSource{w: tt.w, h: tt.h, ux: 1, uy: 1, ch: ch, row: func(y int, _ []byte) []byte {
					return data[y*n : (y+1)*n]
				}}
				planes, transparent := reduce(src, tt.fx, tt.fy)
				require.Len(t, planes, ch)
				assert.Equal(t, ch == 4, transparent)
				for c, p := range planes {
					in := make([]float64, tt.w*tt.h)
					for i := range in {
						in[i] = float64(data[i*ch+c])
					}
					want, ow, oh := reduceRef(in, tt.w, tt.h, tt.fx, tt.fy)
					require.Equal(t, [2]int{ow, oh}, [2]int{p.w, p.h})
					for i, v := range want {
						require.InDelta(t, v, float64(p.pix[i]), 1e-3, "channel %d sample %d", c, i)
					}
					wantX0, wantY0 := 0.5, 0.5
					if tt.fx > 1 {
						wantX0 = 0
					}
					if tt.fy > 1 {
						wantY0 = 0
					}
					assert.Equal(t, []float64{wantX0, wantY0, float64(tt.fx), float64(tt.fy)}, []float64{p.x0, p.y0, p.ux, p.uy})
				}
			})
		}
	}
}

// TestReduceOpaqueRGBA: an all-opaque RGBA source is reported opaque,
// one alpha of 254 anywhere is not.
func TestReduceOpaqueRGBA(t *testing.T) {
	m := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for i := range m.Pix {
		m.Pix[i] = 255
	}
	_, srcs := sourcesOf(m, false)
	_, transparent := reduce(srcs[0], 7, 7)
	assert.False(t, transparent)
	m.Pix[4*(199*300+299)+3] = 254
	_, transparent = reduce(srcs[0], 7, 7)
	assert.True(t, transparent)
}

// TestScaleExtremes: extreme aspect ratios and reductions (the factor cap
// included) keep a solid colour solid.
func TestScaleExtremes(t *testing.T) {
	tests := []struct{ w, h, size, wantW, wantH int }{
		{20000, 3, 2, 2, 1},
		{3, 20000, 1, 1, 1},
		{9000, 9, 3, 3, 1},
		{1, 1, 1, 1, 1},
		{2, 1, 1, 1, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%d@%d", tt.w, tt.h, tt.size), func(t *testing.T) {
			m := image.NewGray(image.Rect(0, 0, tt.w, tt.h))
			for i := range m.Pix {
				m.Pix[i] = 77
			}
			for _, o := range []int{1, 8} {
				th := scale(m, o, tt.size, false)
				w, h := tt.wantW, tt.wantH
				if o == 8 {
					w, h = fit(tt.h, tt.w, tt.size)
				}
				require.Equal(t, [2]int{w, h}, [2]int{th.w, th.h})
				for _, v := range th.img.(*image.Gray).Pix {
					assert.Equal(t, uint8(77), v)
				}
			}
		})
	}
}
