package thumbnail

import "math"

// kernel is a separable resampling filter.
type kernel struct {
	support float64 // the filter is zero outside [-support, support]
	at      func(x float64) float64
}

// lanczos3 is the windowed sinc filter with three lobes, the reference of
// high-quality downscaling (disintegration/imaging's Lanczos).
var lanczos3 = kernel{support: 3, at: func(x float64) float64 {
	x = math.Abs(x)
	if x >= 3 {
		return 0
	}
	return sinc(x) * sinc(x/3)
}}

// sinc is sin(pi x)/(pi x).
func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	x *= math.Pi
	return math.Sin(x) / x
}

// taps holds, for each output sample, the input samples it reads and
// their normalised weights.
type taps struct {
	start  []int     // first input sample of output j
	count  []int     // number of input samples of output j
	n      int       // stride of weight: the largest count
	weight []float32 // n per output sample
}

// makeTaps computes the filter taps that take in samples, sample i centred
// on image coordinate origin+i*unit, to out samples spread evenly over span
// image pixels. When an output sample spans more than one input sample the
// kernel is widened by that ratio, so it low-passes (no aliasing);
// otherwise it interpolates. Taps outside the input are dropped and the
// rest renormalised.
func makeTaps(in int, origin, unit, span float64, out int, k kernel) taps {
	ratio := span / float64(out) / unit // input samples per output sample
	scale := max(1, ratio)
	support := k.support * scale
	t := taps{start: make([]int, out), count: make([]int, out), n: int(math.Ceil(2*support)) + 3}
	t.weight = make([]float32, out*t.n)
	for j := range out {
		c := ((float64(j)+0.5)*span/float64(out) - origin) / unit // centre, in input samples
		lo := max(0, int(math.Floor(c-support)))
		hi := min(in, int(math.Ceil(c+support))+1)
		if hi-lo > t.n {
			hi = lo + t.n
		}
		ws := t.weight[j*t.n : j*t.n+max(0, hi-lo)]
		var sum float64
		for i := lo; i < hi; i++ {
			w := k.at((float64(i) - c) / scale)
			ws[i-lo] = float32(w)
			sum += w
		}
		if sum == 0 || hi <= lo { // cannot happen with the kernels here: nearest sample
			lo = min(max(0, int(math.Round(c))), in-1)
			hi = lo + 1
			ws = t.weight[j*t.n : j*t.n+1]
			ws[0], sum = 1, 1
		}
		for i := range ws {
			ws[i] = float32(float64(ws[i]) / sum)
		}
		t.start[j], t.count[j] = lo, hi-lo
	}
	return t
}

// resample scales p to ow x oh samples spanning spanX x spanY image pixels
// from the top-left corner (the whole image, or a little more for the
// last chroma sample of an odd size), horizontally then vertically, with
// kernel k.
func resample(p fplane, spanX, spanY float64, ow, oh int, k kernel) []float32 {
	tx := makeTaps(p.w, p.x0, p.ux, spanX, ow, k)
	ty := makeTaps(p.h, p.y0, p.uy, spanY, oh, k)
	tmp := make([]float32, ow*p.h)
	parallel(p.h, func(lo, hi int) {
		for y := lo; y < hi; y++ {
			in := p.pix[y*p.w : (y+1)*p.w]
			dst := tmp[y*ow : (y+1)*ow]
			for j := range dst {
				s := tx.start[j]
				ws := tx.weight[j*tx.n : j*tx.n+tx.count[j]]
				src := in[s : s+len(ws)]
				var sum float32
				for i, w := range ws {
					sum += w * src[i]
				}
				dst[j] = sum
			}
		}
	})
	out := make([]float32, ow*oh)
	parallel(oh, func(lo, hi int) {
		for y := lo; y < hi; y++ {
			dst := out[y*ow : (y+1)*ow]
			s := ty.start[y]
			for i, w := range ty.weight[y*ty.n : y*ty.n+ty.count[y]] {
				src := tmp[(s+i)*ow : (s+i+1)*ow]
				for j, v := range src {
					dst[j] += w * v
				}
			}
		}
	})
	return out
}
