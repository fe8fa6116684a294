package thumbnail

import (
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"math"
)

// margin is how many reduced samples per output sample, at least, the
// cheap integer reduction leaves to the final Lanczos filter: the integer
// steps do the bulk of a large reduction without aliasing, and the Lanczos
// step, widened by the remaining ratio, keeps the result sharp.
const margin = 2

// thumb is a scaled, oriented image ready to be encoded.
type thumb struct {
	img  image.Image
	w, h int
	png  bool // has transparency: encode as PNG
}

// encode writes the thumbnail as JPEG or PNG and returns its content type.
func (t thumb) encode(w io.Writer, quality int) (string, error) {
	if t.png {
		enc := png.Encoder{CompressionLevel: png.DefaultCompression}
		return "image/png", enc.Encode(w, t.img)
	}
	return "image/jpeg", jpeg.Encode(w, t.img, &jpeg.Options{Quality: quality})
}

// fit returns the size of a w x h image scaled to fit within box x box,
// aspect kept and never enlarged.
func fit(w, h, box int) (int, int) {
	if w <= box && h <= box {
		return w, h
	}
	if w >= h {
		return box, max(1, int(math.Round(float64(h)*float64(box)/float64(w))))
	}
	return max(1, int(math.Round(float64(w)*float64(box)/float64(h)))), box
}

// prefactor is the integer tent reduction of an axis with ratio input
// samples per output sample: as large as leaves at least margin samples
// per output sample to the Lanczos step; 1 (none) for ratios below
// 2*margin.
func prefactor(ratio float64) int {
	return max(1, int(ratio/margin))
}

// scale makes the thumbnail of img: stored orientation o (EXIF, 1..8),
// displayed within size x size; videoRange as for sourcesOf. Every channel
// is reduced at its own resolution (chroma planes stay subsampled): by a
// tent filter over an integer factor (see reduce), then with Lanczos3 to
// the output size, then oriented.
// Colour conversion, if any, happens only at the output size.
func scale(img image.Image, o, size int, videoRange bool) thumb {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	tw, th := fit(dw, dh, size)
	sw, sh := tw, th // in stored orientation
	if o >= 5 {
		sw, sh = th, tw
	}
	k, srcs := sourcesOf(img, videoRange)
	// The JPEG encoder keeps chroma at half resolution (4:2:0), so a YCbCr
	// thumbnail's chroma planes are made at half size: half the work. Not
	// when an odd size would be flipped, which would misalign them by a
	// pixel.
	halfChroma := k == kindYCbCr && (o == 1 || sw%2 == 0 && sh%2 == 0)
	var (
		out         [][]float32
		transparent bool
	)
	for i, s := range srcs {
		// Output sample j covers [j, j+1)*span/ow of the image.
		ow, oh, spanX, spanY := sw, sh, float64(w), float64(h)
		if halfChroma && i > 0 {
			// A chroma sample covers two output pixels, the last one of an
			// odd size one past the image.
			ow, oh = (sw+1)/2, (sh+1)/2
			spanX, spanY = float64(w)*float64(2*ow)/float64(sw), float64(h)*float64(2*oh)/float64(sh)
		}
		fx := prefactor(spanX / float64(ow) / float64(s.ux))
		fy := prefactor(spanY / float64(oh) / float64(s.uy))
		planes, tr := reduce(s, fx, fy)
		transparent = transparent || tr
		for _, p := range planes {
			r := resample(p, spanX, spanY, ow, oh, lanczos3)
			r, _, _ = orient(r, ow, oh, o)
			out = append(out, r)
		}
	}
	t := thumb{w: tw, h: th}
	rect := image.Rect(0, 0, tw, th)
	switch {
	case k == kindYCbCr:
		if videoRange {
			expandVideoRange(out[0], out[1], out[2])
		}
		ycc := &image.YCbCr{
			Y: bytesOf(out[0]), Cb: bytesOf(out[1]), Cr: bytesOf(out[2]),
			YStride: tw, CStride: tw, SubsampleRatio: image.YCbCrSubsampleRatio444, Rect: rect,
		}
		if halfChroma {
			ycc.CStride, ycc.SubsampleRatio = (tw+1)/2, image.YCbCrSubsampleRatio420
		}
		t.img = ycc
	case k == kindGray:
		t.img = &image.Gray{Pix: bytesOf(out[0]), Stride: tw, Rect: rect}
	case transparent:
		t.img, t.png = nrgbaOf(out, rect), true
	default:
		t.img = rgbaOf(out, rect)
	}
	return t
}

// scaleSafe is scale with a panic (a bug, or an image type misbehaving,
// in any of its goroutines) turned into an ErrUnsupported.
func scaleSafe(img image.Image, o, size int, videoRange bool) (thumb, error) {
	return guard("scaling", func() (thumb, error) { return scale(img, o, size, videoRange), nil })
}

// clamp8 rounds v to the nearest byte, clamped to 0..255.
func clamp8(v float32) byte {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return byte(v + 0.5)
}

// bytesOf rounds a plane to bytes.
func bytesOf(p []float32) []byte {
	b := make([]byte, len(p))
	for i, v := range p {
		b[i] = clamp8(v)
	}
	return b
}

// rgbaOf assembles an opaque image from premultiplied R, G, B planes.
func rgbaOf(p [][]float32, rect image.Rectangle) *image.RGBA {
	m := image.NewRGBA(rect)
	for i := range p[0] {
		m.Pix[4*i], m.Pix[4*i+1], m.Pix[4*i+2], m.Pix[4*i+3] = clamp8(p[0][i]), clamp8(p[1][i]), clamp8(p[2][i]), 255
	}
	return m
}

// nrgbaOf assembles an image with alpha from premultiplied R, G, B, A
// planes, undoing the premultiplication at full float precision.
func nrgbaOf(p [][]float32, rect image.Rectangle) *image.NRGBA {
	m := image.NewNRGBA(rect)
	for i := range p[0] {
		a := min(max(p[3][i], 0), 255)
		if a8 := clamp8(a); a8 > 0 {
			k := 255 / a
			m.Pix[4*i] = clamp8(min(p[0][i], a) * k)
			m.Pix[4*i+1] = clamp8(min(p[1][i], a) * k)
			m.Pix[4*i+2] = clamp8(min(p[2][i], a) * k)
			m.Pix[4*i+3] = a8
		}
	}
	return m
}
