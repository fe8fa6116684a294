package thumbnail

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fimage is a float64 RGB image, the references' working format.
type fimage struct {
	w, h int
	c    [3][]float64
}

func toF(m image.Image) fimage {
	b := m.Bounds()
	f := fimage{w: b.Dx(), h: b.Dy()}
	for i := range f.c {
		f.c[i] = make([]float64, f.w*f.h)
	}
	for y := range f.h {
		for x := range f.w {
			r, g, bl, _ := m.At(b.Min.X+x, b.Min.Y+y).RGBA()
			i := y*f.w + x
			f.c[0][i], f.c[1][i], f.c[2][i] = float64(r)/257, float64(g)/257, float64(bl)/257
		}
	}
	return f
}

// weights1D gives, for each of out samples over in, the input samples and
// weights of a separable filter.
type weights1D [][]struct {
	i int
	w float64
}

// areaWeights: output sample j is the exact mean of the input interval
// [j*in/out, (j+1)*in/out), partial pixels weighted by their overlap.
func areaWeights(in, out int) weights1D {
	ws := make(weights1D, out)
	scale := float64(in) / float64(out)
	for j := range ws {
		lo, hi := float64(j)*scale, float64(j+1)*scale
		for i := int(lo); i < in && float64(i) < hi; i++ {
			if ov := math.Min(hi, float64(i+1)) - math.Max(lo, float64(i)); ov > 0 {
				ws[j] = append(ws[j], struct {
					i int
					w float64
				}{i, ov / scale})
			}
		}
	}
	return ws
}

// lanczosWeights: Lanczos3 widened by the reduction ratio, as
// disintegration/imaging resamples (taps outside dropped, renormalised).
func lanczosWeights(in, out int) weights1D {
	ws := make(weights1D, out)
	scale := float64(in) / float64(out)
	support := 3 * scale
	for j := range ws {
		c := (float64(j) + 0.5) * scale
		var sum float64
		for i := max(0, int(math.Floor(c-support))); i < min(in, int(math.Ceil(c+support))); i++ {
			x := (float64(i) + 0.5 - c) / scale
			if w := lanczos3.at(x); w != 0 {
				ws[j] = append(ws[j], struct {
					i int
					w float64
				}{i, w})
				sum += w
			}
		}
		for k := range ws[j] {
			ws[j][k].w /= sum
		}
	}
	return ws
}

// resize applies separable weights in float64.
func (f fimage) resize(ow, oh int, wsX, wsY weights1D) fimage {
	out := fimage{w: ow, h: oh}
	for c := range f.c {
		tmp := make([]float64, ow*f.h)
		for y := range f.h {
			for j, ws := range wsX {
				var s float64
				for _, t := range ws {
					s += t.w * f.c[c][y*f.w+t.i]
				}
				tmp[y*ow+j] = s
			}
		}
		out.c[c] = make([]float64, ow*oh)
		for j, ws := range wsY {
			for x := range ow {
				var s float64
				for _, t := range ws {
					s += t.w * tmp[t.i*ow+x]
				}
				out.c[c][j*ow+x] = s
			}
		}
	}
	return out
}

// nearest samples the pixel nearest each output centre: aliasing's poster
// child.
func (f fimage) nearest(ow, oh int) fimage {
	out := fimage{w: ow, h: oh}
	for c := range f.c {
		out.c[c] = make([]float64, ow*oh)
		for y := range oh {
			for x := range ow {
				sx, sy := (2*x+1)*f.w/(2*ow), (2*y+1)*f.h/(2*oh)
				out.c[c][y*ow+x] = f.c[c][sy*f.w+sx]
			}
		}
	}
	return out
}

// psnr compares two images of one size, over 8-bit RGB.
func psnr(a, b fimage) float64 {
	var se float64
	n := 0
	for c := range a.c {
		for i := range a.c[c] {
			d := math.Round(math.Min(255, math.Max(0, a.c[c][i]))) - math.Round(math.Min(255, math.Max(0, b.c[c][i])))
			se += d * d
			n++
		}
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(se/float64(n)))
}

// psnr420 compares two images of one size as a JPEG encoder keeps them:
// Y at full resolution, Cb and Cr averaged over 2x2 pixels (4:2:0), over
// all those samples (the usual PSNR of video coding).
func psnr420(a, b fimage) float64 {
	ya, ca := to420(a)
	yb, cb := to420(b)
	var se float64
	for i := range ya {
		d := ya[i] - yb[i]
		se += d * d
	}
	for i := range ca {
		d := ca[i] - cb[i]
		se += d * d
	}
	return 10 * math.Log10(255*255/(se/float64(len(ya)+len(ca))))
}

// to420 returns the JFIF Y plane of f, rounded as 8-bit, and its Cb and Cr
// planes averaged over 2x2 blocks (the last ones partial).
func to420(f fimage) (y, c []float64) {
	cw, ch := (f.w+1)/2, (f.h+1)/2
	c = make([]float64, 2*cw*ch)
	n := make([]float64, cw*ch)
	for py := range f.h {
		for px := range f.w {
			i := py*f.w + px
			r, g, b := clamp255(f.c[0][i]), clamp255(f.c[1][i]), clamp255(f.c[2][i])
			y = append(y, math.Round(0.299*r+0.587*g+0.114*b))
			j := (py/2)*cw + px/2
			c[j] += -0.168736*r - 0.331264*g + 0.5*b
			c[cw*ch+j] += 0.5*r - 0.418688*g - 0.081312*b
			n[j]++
		}
	}
	for j := range n {
		c[j] /= n[j]
		c[cw*ch+j] /= n[j]
	}
	return y, c
}

func clamp255(v float64) float64 { return math.Round(math.Min(255, math.Max(0, v))) }

// TestQualityAgainstReferences scales photo-like images (fine texture and
// per-pixel noise: the aliasing-prone content) and compares the result
// with an exact float64 area average to the same size and with a
// full-resolution float64 Lanczos3 (what disintegration/imaging computes).
// A nearest-pixel sample, aliased, is shown to fail the same bar.
//
// JPEG sources are scaled in YCbCr and their thumbnails keep chroma at
// half resolution, as the JPEG encoder does; they are compared as 4:2:0
// (psnr420), the references subsampled alike. RGBA sources (the PNG path)
// are compared in RGB.
func TestQualityAgainstReferences(t *testing.T) {
	tests := []struct {
		w, h, size int
		jpeg       bool
	}{
		{1200, 900, 256, true},  // 4.69x
		{1600, 1200, 100, true}, // 16x
		{1000, 750, 300, true},  // 3.33x: no tent step, Lanczos only
		{1200, 900, 256, false},
		{1600, 1200, 100, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%d@%d/jpeg=%v", tt.w, tt.h, tt.size, tt.jpeg), func(t *testing.T) {
			t.Parallel()
			var src image.Image = photo(tt.w, tt.h, 11)
			measure := psnr
			if tt.jpeg {
				var err error
				src, err = jpeg.Decode(bytes.NewReader(encodeJPEG(t, src, 90)))
				require.NoError(t, err)
				measure = psnr420
			}
			th := scale(src, 1, tt.size, false)
			got := toF(th.img)

			full := toF(src)
			area := full.resize(th.w, th.h, areaWeights(full.w, th.w), areaWeights(full.h, th.h))
			lanczos := full.resize(th.w, th.h, lanczosWeights(full.w, th.w), lanczosWeights(full.h, th.h))
			near := full.nearest(th.w, th.h)

			pArea, pLanczos := measure(got, area), measure(got, lanczos)
			pLanczosArea, pNearArea := measure(lanczos, area), measure(near, area)
			t.Logf("%s: PSNR vs area average: ours %.1f dB, full Lanczos3 %.1f dB, nearest %.1f dB; ours vs full Lanczos3 %.1f dB",
				t.Name(), pArea, pLanczosArea, pNearArea, pLanczos)
			assert.Greater(t, pArea, 35.0, "ours vs the area average")
			assert.Greater(t, pLanczos, 40.0, "ours vs full-resolution Lanczos3")
			assert.Greater(t, pArea, pLanczosArea-1, "as close to the area average as full Lanczos3")
			assert.Less(t, pNearArea, pArea-5, "the test tells aliasing apart")
		})
	}
}

// zonePlate is an n x n grey zone plate: concentric rings whose spatial
// frequency grows linearly from 0 at the centre to 0.5 cycles/pixel (the
// Nyquist limit) at the corners.
func zonePlate(n int) *image.Gray {
	m := image.NewGray(image.Rect(0, 0, n, n))
	rmax := math.Sqrt2 * float64(n) / 2
	k := math.Pi / (2 * rmax) // phase k r², frequency k r / π
	for y := range n {
		for x := range n {
			dx, dy := float64(x)-float64(n)/2+0.5, float64(y)-float64(n)/2+0.5
			m.Pix[y*m.Stride+x] = uint8(math.Round(127.5 + 127.5*math.Cos(k*(dx*dx+dy*dy))))
		}
	}
	return m
}

// TestZonePlateDoesNotAlias reduces a zone plate 16x: every ring finer
// than the output can show must average out to flat grey. Aliasing shows
// as false rings (moiré) of large amplitude far from the centre.
func TestZonePlateDoesNotAlias(t *testing.T) {
	const n, factor = 1024, 16
	src := zonePlate(n)
	th := scale(src, 1, n/factor, false)
	out := th.img.(*image.Gray)
	require.Equal(t, n/factor, out.Rect.Dx())

	// Output Nyquist is 1/(2*factor) cycles per source pixel, reached at
	// radius rmax/factor; beyond twice that, only grey should remain.
	deviation := func(at func(x, y int) float64) (maxDev, rms float64) {
		var ss float64
		cnt := 0
		o := n / factor
		limit := 2 * math.Sqrt2 * float64(o) / 2 / factor
		for y := range o {
			for x := range o {
				dx, dy := float64(x)-float64(o)/2+0.5, float64(y)-float64(o)/2+0.5
				if math.Hypot(dx, dy) < limit {
					continue
				}
				d := at(x, y) - 127.5
				maxDev = math.Max(maxDev, math.Abs(d))
				ss += d * d
				cnt++
			}
		}
		return maxDev, math.Sqrt(ss / float64(cnt))
	}
	maxDev, rms := deviation(func(x, y int) float64 { return float64(out.Pix[y*out.Stride+x]) })
	naive := toF(src).nearest(n/factor, n/factor)
	naiveMax, naiveRMS := deviation(func(x, y int) float64 { return naive.c[0][y*(n/factor)+x] })
	t.Logf("beyond the passband: ours max %.1f rms %.2f levels; nearest max %.1f rms %.1f", maxDev, rms, naiveMax, naiveRMS)
	assert.Less(t, maxDev, 8.0)
	assert.Less(t, rms, 2.0)
	assert.Greater(t, naiveRMS, 30.0, "the test tells aliasing apart")
}
