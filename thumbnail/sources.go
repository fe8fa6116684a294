package thumbnail

import "image"

// kind is how a decoded image is split into channels for scaling.
type kind int

const (
	// kindYCbCr: three planes, Y, Cb and Cr, each at its own resolution
	// (chroma subsampling kept); opaque; encoded as YCbCr JPEG directly.
	kindYCbCr kind = iota
	// kindGray: one plane; opaque.
	kindGray
	// kindRGBA: one source of interleaved, alpha-premultiplied R, G, B, A.
	kindRGBA
)

// rowSource gives the rows of one image channel group, as 8-bit samples.
type rowSource struct {
	w, h   int // in samples
	ux, uy int // image pixels per sample, horizontally and vertically
	ch     int // interleaved channels per sample: 1 or 4
	// row returns row y (w*ch bytes), either a view of the image or
	// written into buf (len w*ch). It must be safe to call concurrently
	// with distinct bufs.
	row func(y int, buf []byte) []byte
}

// sourcesOf splits img into row sources. The decoders' own types (YCbCr and
// Gray from JPEG, RGBA/NRGBA/Paletted from PNG, GIF and BMP) are read from
// their pixel slices; anything else goes through RGBA64At or At.
// videoRange says that YCbCr samples are BT.601 video range (16..235), as
// lossy WebP's are, rather than JPEG's full range: YCbCr planes are kept
// as they are (the caller expands them at the output size), and an
// NYCbCrA is converted to RGB accordingly.
func sourcesOf(img image.Image, videoRange bool) (kind, []rowSource) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	rgba := func(row func(y int, buf []byte) []byte) []rowSource {
		return []rowSource{{w: w, h: h, ux: 1, uy: 1, ch: 4, row: row}}
	}
	switch m := img.(type) {
	case *image.YCbCr:
		if ux, uy, ok := subsampling(m.SubsampleRatio); ok && b.Min == (image.Point{}) {
			cw, chh := (w+ux-1)/ux, (h+uy-1)/uy
			return kindYCbCr, []rowSource{
				planeSource(m.Y, m.YStride, w, h, 1, 1),
				planeSource(m.Cb, m.CStride, cw, chh, ux, uy),
				planeSource(m.Cr, m.CStride, cw, chh, ux, uy),
			}
		}
	case *image.NYCbCrA:
		if videoRange {
			return kindRGBA, rgba(func(y int, buf []byte) []byte {
				for x := range w {
					px, py := b.Min.X+x, b.Min.Y+y
					ci := m.COffset(px, py)
					r, g, bl := videoToRGB(m.Y[m.YOffset(px, py)], m.Cb[ci], m.Cr[ci])
					premultiply(buf[4*x:4*x+4], []byte{r, g, bl, m.A[m.AOffset(px, py)]})
				}
				return buf
			})
		}
	case *image.Gray:
		off := m.PixOffset(b.Min.X, b.Min.Y)
		return kindGray, []rowSource{planeSource(m.Pix[off:], m.Stride, w, h, 1, 1)}
	case *image.RGBA:
		off := m.PixOffset(b.Min.X, b.Min.Y)
		return kindRGBA, rgba(func(y int, _ []byte) []byte {
			i := off + y*m.Stride
			return m.Pix[i : i+4*w]
		})
	case *image.NRGBA:
		off := m.PixOffset(b.Min.X, b.Min.Y)
		return kindRGBA, rgba(func(y int, buf []byte) []byte {
			i := off + y*m.Stride
			premultiply(buf, m.Pix[i:i+4*w])
			return buf
		})
	case *image.Paletted:
		var lut [256][4]byte
		for i, c := range m.Palette[:min(len(m.Palette), 256)] {
			r, g, bl, a := c.RGBA()
			lut[i] = [4]byte{byte(r >> 8), byte(g >> 8), byte(bl >> 8), byte(a >> 8)}
		}
		off := m.PixOffset(b.Min.X, b.Min.Y)
		return kindRGBA, rgba(func(y int, buf []byte) []byte {
			i := off + y*m.Stride
			for x, p := range m.Pix[i : i+w] {
				copy(buf[4*x:4*x+4], lut[p][:])
			}
			return buf
		})
	}
	if m, ok := img.(image.RGBA64Image); ok {
		return kindRGBA, rgba(func(y int, buf []byte) []byte {
			for x := range w {
				c := m.RGBA64At(b.Min.X+x, b.Min.Y+y)
				buf[4*x], buf[4*x+1], buf[4*x+2], buf[4*x+3] = byte(c.R>>8), byte(c.G>>8), byte(c.B>>8), byte(c.A>>8)
			}
			return buf
		})
	}
	return kindRGBA, rgba(func(y int, buf []byte) []byte {
		for x := range w {
			r, g, bl, a := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			buf[4*x], buf[4*x+1], buf[4*x+2], buf[4*x+3] = byte(r>>8), byte(g>>8), byte(bl>>8), byte(a>>8)
		}
		return buf
	})
}

// planeSource is a one-channel source over an 8-bit plane.
func planeSource(pix []byte, stride, w, h, ux, uy int) rowSource {
	return rowSource{w: w, h: h, ux: ux, uy: uy, ch: 1, row: func(y int, _ []byte) []byte {
		return pix[y*stride : y*stride+w]
	}}
}

// subsampling returns the image pixels per chroma sample of a ratio.
func subsampling(r image.YCbCrSubsampleRatio) (ux, uy int, ok bool) {
	switch r {
	case image.YCbCrSubsampleRatio444:
		return 1, 1, true
	case image.YCbCrSubsampleRatio422:
		return 2, 1, true
	case image.YCbCrSubsampleRatio420:
		return 2, 2, true
	case image.YCbCrSubsampleRatio440:
		return 1, 2, true
	case image.YCbCrSubsampleRatio411:
		return 4, 1, true
	case image.YCbCrSubsampleRatio410:
		return 4, 2, true
	}
	return 0, 0, false
}

// premultiply writes the non-premultiplied RGBA pixels of src to dst with
// alpha premultiplied, as color.NRGBA.RGBA does, to 8 bits.
func premultiply(dst, src []byte) {
	dst = dst[:len(src)]
	for i := 0; i+3 < len(src); i += 4 {
		a := uint32(src[i+3])
		switch a {
		case 0xff:
			copy(dst[i:i+4], src[i:i+4])
		case 0:
			dst[i], dst[i+1], dst[i+2], dst[i+3] = 0, 0, 0, 0
		default:
			dst[i] = byte((uint32(src[i])*a + 127) / 255)
			dst[i+1] = byte((uint32(src[i+1])*a + 127) / 255)
			dst[i+2] = byte((uint32(src[i+2])*a + 127) / 255)
			dst[i+3] = byte(a)
		}
	}
}

// videoToRGB converts a BT.601 video-range YCbCr sample to RGB, as libwebp
// does.
func videoToRGB(y, cb, cr byte) (r, g, b byte) {
	yy := 1.164383 * (float32(y) - 16)
	u, v := float32(cb)-128, float32(cr)-128
	return clamp8(yy + 1.596027*v), clamp8(yy - 0.391762*u - 0.812968*v), clamp8(yy + 2.017232*u)
}

// expandVideoRange maps BT.601 video-range samples (Y 16..235, Cb and Cr
// 16..240) to JPEG's full range, in place.
func expandVideoRange(y, cb, cr []float32) {
	for i := range y {
		y[i] = (y[i] - 16) * (255.0 / 219)
	}
	for _, c := range [][]float32{cb, cr} {
		for i := range c {
			c[i] = (c[i]-128)*(255.0/224) + 128
		}
	}
}
