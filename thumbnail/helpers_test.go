package thumbnail

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// valueNoise is smooth 2-D noise: random values on a grid of cells,
// interpolated with smoothstep; values in [0,1).
type valueNoise struct {
	cell float64
	gw   int
	grid []float32
}

func newValueNoise(rng *rand.Rand, w, h int, cell float64) *valueNoise {
	gw, gh := int(float64(w)/cell)+2, int(float64(h)/cell)+2
	n := &valueNoise{cell: cell, gw: gw, grid: make([]float32, gw*gh)}
	for i := range n.grid {
		n.grid[i] = rng.Float32()
	}
	return n
}

func smooth(t float32) float32 { return t * t * (3 - 2*t) }

func (n *valueNoise) at(x, y int) float32 {
	fx, fy := float64(x)/n.cell, float64(y)/n.cell
	ix, iy := int(fx), int(fy)
	tx, ty := smooth(float32(fx-float64(ix))), smooth(float32(fy-float64(iy)))
	i := iy*n.gw + ix
	a, b, c, d := n.grid[i], n.grid[i+1], n.grid[i+n.gw], n.grid[i+n.gw+1]
	top, bot := a+(b-a)*tx, c+(d-c)*tx
	return top + (bot-top)*ty
}

// photo makes a deterministic photo-like image: a sky gradient over
// textured ground, several octaves of value noise down to a few pixels,
// and per-pixel sensor-like noise. Adapted from thumbbench's generator.
func photo(w, h int, seed uint64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(seed, 1))
	s := float64(w) / 4000
	var oct [5]*valueNoise
	for i, cell := range []float64{700, 180, 45, 9, 2.5} {
		oct[i] = newValueNoise(rng, w, h, max(1.5, cell*s))
	}
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for wk := range workers {
		wg.Go(func() {
			nz := rand.New(rand.NewPCG(seed, uint64(wk)+2))
			for y := wk; y < h; y += workers {
				row := img.Pix[y*img.Stride : y*img.Stride+4*w]
				for x := range w {
					n0, n1, n2, n3, n4 := float64(oct[0].at(x, y)), float64(oct[1].at(x, y)), float64(oct[2].at(x, y)), float64(oct[3].at(x, y)), float64(oct[4].at(x, y))
					var r, g, b float64
					fx := float64(x) / float64(w)
					hy := float64(h) * (0.55 + 0.05*math.Sin(fx*7.3))
					if float64(y) < hy {
						t := float64(y) / hy
						r, g, b = 70+110*t, 120+90*t, 200+45*t
						cloud := math.Max(0, n0*0.6+n1*0.4-0.45) * 2.2
						r, g, b = r+(250-r)*cloud, g+(250-g)*cloud, b+(250-b)*cloud
						tex := (n2-0.5)*10 + (n4-0.5)*8
						r, g, b = r+tex, g+tex, b+tex
					} else {
						t := (float64(y) - hy) / (float64(h) - hy)
						v := 0.5*n1 + 0.3*n2 + 0.15*n3 + 0.05*n4
						r, g, b = 90-30*t+180*(v-0.5), 110-20*t+140*(v-0.5), 50-10*t+80*(v-0.5)
						grass, fine := (n3-0.5)*60*(0.5+t), (n4-0.5)*60
						r, g, b = r+grass+fine, g+grass*1.2+fine, b+grass*0.5+fine
					}
					tri := func() float64 { return (nz.Float64() + nz.Float64() - 1) * 14 }
					row[4*x] = clampf(r + tri())
					row[4*x+1] = clampf(g + tri())
					row[4*x+2] = clampf(b + tri())
					row[4*x+3] = 255
				}
			}
		})
	}
	wg.Wait()
	return img
}

func clampf(v float64) uint8 {
	return uint8(math.Round(math.Min(255, math.Max(0, v))))
}

func encodeJPEG(t testing.TB, img image.Image, q int) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, img, &jpeg.Options{Quality: q}))
	return b.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

func encodeGIF(t testing.TB, g *gif.GIF) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, gif.EncodeAll(&b, g))
	return b.Bytes()
}

// byteOrder is a byte order that can also append.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// exifTIFF builds the TIFF structure of an Exif payload holding one
// Orientation entry, in the given byte order, with padding entries around
// it so the parser has to walk the IFD.
func exifTIFF(order byteOrder, orientation uint16) []byte {
	var b []byte
	if order == binary.LittleEndian {
		b = append(b, "II*\x00"...)
	} else {
		b = append(b, "MM\x00*"...)
	}
	b = order.AppendUint32(b, 8)
	b = order.AppendUint16(b, 3)
	entry := func(tag, typ uint16, count, value uint32) {
		b = order.AppendUint16(b, tag)
		b = order.AppendUint16(b, typ)
		b = order.AppendUint32(b, count)
		if typ == typeShort {
			b = order.AppendUint16(b, uint16(value))
			b = order.AppendUint16(b, 0)
		} else {
			b = order.AppendUint32(b, value)
		}
	}
	entry(0x010f, 2, 4, 0x00414243) // Make, "CBA\0" inline
	entry(tagOrientation, typeShort, 1, uint32(orientation))
	entry(0x011a, 5, 1, 38) // XResolution: a RATIONAL pointing past the IFD
	b = order.AppendUint32(b, 0)
	return append(b, 72, 0, 0, 0, 1, 0, 0, 0)
}

// withEXIF inserts an APP1 Exif segment holding the orientation right
// after the SOI marker of a JPEG.
func withEXIF(jpg []byte, order byteOrder, orientation uint16) []byte {
	return withEXIFPayload(jpg, exifTIFF(order, orientation))
}

// withEXIFPayload inserts an APP1 Exif segment with the TIFF payload right
// after the SOI marker of a JPEG.
func withEXIFPayload(jpg, tiff []byte) []byte {
	payload := append([]byte("Exif\x00\x00"), tiff...)
	seg := []byte{0xff, markerAPP1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

// tinyJPEGHeader is a JPEG's SOI and baseline frame header claiming w x h
// with three components, then EOI: a header and no image.
func tinyJPEGHeader(w, h int) []byte {
	return []byte{0xff, markerSOI, 0xff, markerSOF0, 0, 17, 8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 3,
		1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xff, markerEOI}
}

// bufioReader reads b.
func bufioReader(b []byte) *bufio.Reader {
	return bufio.NewReader(bytes.NewReader(b))
}

// solid is a w x h image of one colour.
func solid(w, h int, c color.Color) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	r, g, b, a := c.RGBA()
	var px [4]byte
	if a > 0 {
		px = [4]byte{byte(r * 0xffff / a >> 8), byte(g * 0xffff / a >> 8), byte(b * 0xffff / a >> 8), byte(a >> 8)}
	}
	for i := 0; i < len(m.Pix); i += 4 {
		copy(m.Pix[i:], px[:])
	}
	return m
}

// decodeAny decodes a thumbnail the package wrote.
func decodeAny(t testing.TB, data []byte) image.Image {
	t.Helper()
	m, _, err := image.Decode(bytes.NewReader(data))
	require.NoError(t, err)
	return m
}

// near reports whether two colours are within tol per 8-bit channel.
func near(c1, c2 color.Color, tol int) bool {
	r1, g1, b1, a1 := c1.RGBA()
	r2, g2, b2, a2 := c2.RGBA()
	d := func(a, b uint32) bool { return math.Abs(float64(a>>8)-float64(b>>8)) <= float64(tol) }
	return d(r1, r2) && d(g1, g2) && d(b1, b2) && d(a1, a2)
}

func encodePNGTo(w io.Writer, img image.Image) error {
	return (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(w, img)
}

// gray is an 8-bit gray colour.
func gray(v uint8) color.Gray { return color.Gray{Y: v} }

// noisy is a w x h image of uniform random opaque pixels: cheap to make,
// and it makes large JPEGs.
func noisy(w, h int, seed uint64) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(seed, 3))
	for i := 0; i+8 <= len(m.Pix); i += 8 {
		binary.LittleEndian.PutUint64(m.Pix[i:], rng.Uint64()|0xff000000ff000000)
	}
	return m
}
