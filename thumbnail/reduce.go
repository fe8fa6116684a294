package thumbnail

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// fplane is one channel at reduced resolution, in float32 sample values
// (0..255). Sample i covers image pixels [i*ux, (i+1)*ux) horizontally
// (and likewise vertically); the last one may cover fewer.
type fplane struct {
	w, h   int
	ux, uy float64
	pix    []float32
}

// maxBox bounds fx*fy so that a box's 8-bit sum fits in a uint32.
const maxBox = 1 << 24

// reduce area-averages src by the integer factors fx, fy: each output
// sample is the exact mean of an fx x fy box of source samples (fewer at
// the right and bottom edges). It returns one plane per channel, and for
// four-channel sources whether any alpha sample is below 255. Output rows
// are spread over GOMAXPROCS goroutines.
func reduce(src rowSource, fx, fy int) (planes []fplane, transparent bool) {
	for fx*fy > maxBox {
		if fx > fy {
			fx /= 2
		} else {
			fy /= 2
		}
	}
	ow, oh := (src.w+fx-1)/fx, (src.h+fy-1)/fy
	planes = make([]fplane, src.ch)
	for c := range planes {
		planes[c] = fplane{w: ow, h: oh, ux: float64(src.ux * fx), uy: float64(src.uy * fy), pix: make([]float32, ow*oh)}
	}
	var anyTransparent atomic.Bool
	parallel(oh, func(lo, hi int) {
		acc := make([]uint32, src.w*src.ch)
		buf := make([]byte, src.w*src.ch)
		for oy := lo; oy < hi; oy++ {
			y0, y1 := oy*fy, min(oy*fy+fy, src.h)
			clear(acc)
			for y := y0; y < y1; y++ {
				addRow(acc, src.row(y, buf))
			}
			rows := y1 - y0
			if src.ch == 1 {
				boxRow1(planes[0].pix[oy*ow:(oy+1)*ow], acc, fx, rows)
			} else if boxRow4(planes, oy*ow, ow, acc, fx, rows) {
				anyTransparent.Store(true)
			}
		}
	})
	return planes, anyTransparent.Load()
}

// addRow adds a row of samples to the column sums.
func addRow(acc []uint32, row []byte) {
	acc = acc[:len(row)]
	for i, v := range row {
		acc[i] += uint32(v)
	}
}

// boxRow1 turns column sums over rows rows into the means of fx-wide boxes.
func boxRow1(out []float32, acc []uint32, fx, rows int) {
	w := len(acc)
	full := w / fx
	inv := 1 / float32(fx*rows)
	for ox := range full {
		var s uint32
		for _, v := range acc[ox*fx : ox*fx+fx] {
			s += v
		}
		out[ox] = float32(s) * inv
	}
	if full < len(out) {
		var s uint32
		for _, v := range acc[full*fx:] {
			s += v
		}
		out[full] = float32(s) / float32((w-full*fx)*rows)
	}
}

// boxRow4 is boxRow1 for interleaved RGBA, writing the four planes at
// offset off. It reports whether any box holds an alpha below 255: a box's
// mean is 255 only if every alpha in it is.
func boxRow4(planes []fplane, off, ow int, acc []uint32, fx, rows int) (transparent bool) {
	w := len(acc) / 4
	r, g, b, a := planes[0].pix[off:off+ow], planes[1].pix[off:off+ow], planes[2].pix[off:off+ow], planes[3].pix[off:off+ow]
	for ox := range ow {
		x0, x1 := ox*fx, min(ox*fx+fx, w)
		var sr, sg, sb, sa uint32
		for i := 4 * x0; i < 4*x1; i += 4 {
			sr += acc[i]
			sg += acc[i+1]
			sb += acc[i+2]
			sa += acc[i+3]
		}
		n := uint32((x1 - x0) * rows)
		if sa != 255*n {
			transparent = true
		}
		inv := 1 / float32(n)
		r[ox], g[ox], b[ox], a[ox] = float32(sr)*inv, float32(sg)*inv, float32(sb)*inv, float32(sa)*inv
	}
	return transparent
}

// parallel calls fn over [0, n) in chunks spread over GOMAXPROCS
// goroutines, and returns when all are done. A panic in fn is re-raised in
// the caller's goroutine, where it can be recovered.
func parallel(n int, fn func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		fn(0, n)
		return
	}
	chunk := max(1, n/(workers*4))
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		once  sync.Once
		fault any
	)
	for range workers {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					once.Do(func() { fault = p })
				}
			}()
			for {
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= n {
					return
				}
				fn(lo, min(lo+chunk, n))
			}
		})
	}
	wg.Wait()
	if fault != nil {
		panic(fmt.Sprintf("thumbnail: worker panic: %v", fault))
	}
}
