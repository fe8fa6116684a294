package thumbnail

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/png"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The colours of the test images, as of the WebP fixtures.
var (
	red   = color.RGBA{200, 30, 30, 255}
	green = color.RGBA{30, 200, 30, 255}
	blue  = color.RGBA{30, 30, 200, 255}
)

// markedImage is w x h grey with a red square at the top-left corner and a
// green one at the top-right, each side/4 wide, as stored.
func markedImage(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(m, m.Rect, image.NewUniform(gray(128)), image.Point{}, draw.Src)
	s := h / 2
	draw.Draw(m, image.Rect(0, 0, s, s), image.NewUniform(red), image.Point{}, draw.Src)
	draw.Draw(m, image.Rect(w-s, 0, w, s), image.NewUniform(green), image.Point{}, draw.Src)
	return m
}

// corner names a corner of the displayed image.
type corner string

const (
	tl corner = "top-left"
	tr corner = "top-right"
	bl corner = "bottom-left"
	br corner = "bottom-right"
)

// at returns the pixel of m a little inside corner c.
func (c corner) at(m image.Image, inset int) color.Color {
	b := m.Bounds()
	x, y := b.Min.X+inset, b.Min.Y+inset
	if c == tr || c == br {
		x = b.Max.X - 1 - inset
	}
	if c == bl || c == br {
		y = b.Max.Y - 1 - inset
	}
	return m.At(x, y)
}

// TestMakeOrientation checks every EXIF orientation, in both byte orders,
// with and without scaling: the displayed size swaps for 5 to 8, and the
// stored top-left (red) and top-right (green) corners land where a viewer
// shows them.
func TestMakeOrientation(t *testing.T) {
	tests := []struct {
		o          uint16
		red, green corner
	}{
		{1, tl, tr}, // as stored
		{2, tr, tl}, // mirrored
		{3, br, bl}, // rotated 180
		{4, bl, br}, // flipped
		{5, tl, bl}, // transposed
		{6, tr, br}, // phone held upright, home button down: rotate 90° clockwise
		{7, br, tr}, // transversed
		{8, bl, tl}, // rotate 90° counter-clockwise
	}
	const w, h = 128, 64
	plain := encodeJPEG(t, markedImage(w, h), 95)
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, tt := range tests {
			for _, size := range []int{256, 32, 33} {
				t.Run(fmt.Sprintf("%v/%d/size%d", order, tt.o, size), func(t *testing.T) {
					jpg := withEXIF(plain, order, tt.o)
					dw, dh := w, h
					if tt.o >= 5 {
						dw, dh = h, w
					}
					info, err := Analyze(bytes.NewReader(jpg), nil)
					require.NoError(t, err)
					assert.Equal(t, Info{Format: "jpeg", Width: dw, Height: dh, Orientation: int(tt.o)}, info)

					var out bytes.Buffer
					ct, tw, th, err := Make(&out, bytes.NewReader(jpg), size, nil)
					require.NoError(t, err)
					assert.Equal(t, "image/jpeg", ct)
					wantW, wantH := fit(dw, dh, size)
					assert.Equal(t, [2]int{wantW, wantH}, [2]int{tw, th})
					m := decodeAny(t, out.Bytes())
					require.Equal(t, image.Rect(0, 0, tw, th), m.Bounds())
					inset := max(tw, th) / 16
					assert.True(t, near(tt.red.at(m, inset), red, 40), "red corner %s: %v", tt.red, tt.red.at(m, inset))
					assert.True(t, near(tt.green.at(m, inset), green, 40), "green corner %s: %v", tt.green, tt.green.at(m, inset))
				})
			}
		}
	}
}

func TestFit(t *testing.T) {
	tests := []struct{ w, h, box, wantW, wantH int }{
		{4000, 3000, 256, 256, 192},
		{3000, 4000, 256, 192, 256},
		{100, 50, 64, 64, 32},
		{50, 100, 64, 32, 64},
		{100, 50, 256, 100, 50}, // never enlarged
		{256, 256, 256, 256, 256},
		{257, 1, 256, 256, 1},
		{10000, 1, 64, 64, 1}, // at least one pixel
		{1, 1000, 10, 1, 10},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%dx%d@%d", tt.w, tt.h, tt.box), func(t *testing.T) {
			w, h := fit(tt.w, tt.h, tt.box)
			assert.Equal(t, [2]int{tt.wantW, tt.wantH}, [2]int{w, h})
		})
	}
}

func TestMakeSizes(t *testing.T) {
	tests := []struct {
		name         string
		w, h, size   int
		wantW, wantH int
	}{
		{"4:3 large", 1600, 1200, 256, 256, 192},
		{"2:1 to 64", 100, 50, 64, 64, 32},
		{"portrait", 50, 100, 64, 32, 64},
		{"smaller than the box keeps its size", 100, 50, 256, 100, 50},
		{"exactly the box", 64, 64, 64, 64, 64},
		{"one pixel", 1, 1, 256, 1, 1},
		{"a thin line", 1000, 2, 100, 100, 1},
		{"odd sizes", 999, 777, 128, 128, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := encodeJPEG(t, noisy(tt.w, tt.h, 3), 75)
			var out bytes.Buffer
			ct, w, h, err := Make(&out, bytes.NewReader(src), tt.size, nil)
			require.NoError(t, err)
			assert.Equal(t, "image/jpeg", ct)
			assert.Equal(t, [2]int{tt.wantW, tt.wantH}, [2]int{w, h})
			assert.Equal(t, image.Rect(0, 0, w, h), decodeAny(t, out.Bytes()).Bounds())
		})
	}
}

func TestMakeInvalidSize(t *testing.T) {
	jpg := encodeJPEG(t, solid(8, 8, red), 90)
	for _, size := range []int{0, -1} {
		_, _, _, err := Make(io.Discard, bytes.NewReader(jpg), size, nil)
		assert.Error(t, err)
		assert.NotErrorIs(t, err, ErrUnsupported)
	}
}

func TestMakeTransparency(t *testing.T) {
	half := solid(64, 32, blue)
	for y := 16; y < 32; y++ {
		for x := range 64 {
			half.SetNRGBA(x, y, color.NRGBA{})
		}
	}
	almost := solid(600, 400, blue)
	almost.SetNRGBA(599, 399, color.NRGBA{30, 30, 200, 254}) // one pixel, barely
	paletted := image.NewPaletted(image.Rect(0, 0, 40, 40), color.Palette{blue, color.RGBA{}})
	for i := range 800 {
		paletted.Pix[i] = 1 // the top half transparent
	}
	tests := []struct {
		name      string
		img       image.Image
		wantType  string
		transpAt  image.Point // a pixel that must be fully transparent (PNG only)
		opaqueAt  image.Point // a pixel that must be opaque blue
		size      int
		wantW     int
		wantH     int
		skipPixel bool
	}{
		{name: "half transparent", img: half, wantType: "image/png", transpAt: image.Pt(10, 14), opaqueAt: image.Pt(10, 2), size: 32, wantW: 32, wantH: 16},
		{name: "one pixel at alpha 254", img: almost, wantType: "image/png", opaqueAt: image.Pt(10, 10), size: 64, wantW: 64, wantH: 43, skipPixel: true},
		{name: "opaque NRGBA", img: solid(64, 32, blue), wantType: "image/jpeg", opaqueAt: image.Pt(5, 5), size: 32, wantW: 32, wantH: 16},
		{name: "paletted with a transparent index", img: paletted, wantType: "image/png", transpAt: image.Pt(5, 3), opaqueAt: image.Pt(5, 17), size: 20, wantW: 20, wantH: 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			ct, w, h, err := Make(&out, bytes.NewReader(encodePNG(t, tt.img)), tt.size, nil)
			require.NoError(t, err)
			assert.Equal(t, tt.wantType, ct)
			assert.Equal(t, [2]int{tt.wantW, tt.wantH}, [2]int{w, h})
			m := decodeAny(t, out.Bytes())
			assert.True(t, near(m.At(tt.opaqueAt.X, tt.opaqueAt.Y), blue, 12), "opaque pixel %v", m.At(tt.opaqueAt.X, tt.opaqueAt.Y))
			if tt.wantType == "image/png" && !tt.skipPixel {
				_, _, _, a := m.At(tt.transpAt.X, tt.transpAt.Y).RGBA()
				assert.Zero(t, a, "transparent pixel")
			}
		})
	}
}

// gifFrames builds a GIF of n w x h frames of one colour each, the first
// red, the rest blue. Frames after the second are copies of its bytes, so
// that building hundreds of large frames is cheap.
func gifFrames(t testing.TB, w, h, n int) (data []byte, firstFrameEnd int) {
	pal := color.Palette{red, blue}
	frame := func(i uint8) *image.Paletted {
		m := image.NewPaletted(image.Rect(0, 0, w, h), pal)
		for j := range m.Pix {
			m.Pix[j] = i
		}
		return m
	}
	two := encodeGIF(t, &gif.GIF{Image: []*image.Paletted{frame(0), frame(1)}, Delay: []int{10, 10}})
	// Frames start at their graphic control extensions (0x21 0xF9).
	first := bytes.Index(two, []byte{0x21, 0xf9})
	second := first + 1 + bytes.Index(two[first+1:], []byte{0x21, 0xf9})
	require.Positive(t, first)
	require.Greater(t, second, first)
	data = append([]byte{}, two[:second]...)
	for range n - 1 {
		data = append(data, two[second:len(two)-1]...)
	}
	return append(data, ';'), second
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestMakeGIFFirstFrameOnly(t *testing.T) {
	one, _ := gifFrames(t, 1000, 1000, 1)
	many, firstEnd := gifFrames(t, 1000, 1000, 300)
	require.Greater(t, len(many), 50*len(one))

	var out bytes.Buffer
	cr := &countingReader{r: bytes.NewReader(many)}
	var err error
	var w, h int
	var ct string
	allocMany := allocated(func() { ct, w, h, err = Make(&out, cr, 64, nil) })
	require.NoError(t, err)
	assert.Equal(t, "image/jpeg", ct)
	assert.Equal(t, [2]int{64, 64}, [2]int{w, h})
	assert.True(t, near(decodeAny(t, out.Bytes()).At(32, 32), red, 12), "the first frame is red")
	// Nothing after the first frame is read beyond buffering.
	assert.LessOrEqual(t, cr.n, firstEnd+2*4096, "bytes read of %d", len(many))

	allocOne := allocated(func() { _, _, _, err = Make(io.Discard, bytes.NewReader(one), 64, nil) })
	require.NoError(t, err)
	assert.Less(t, allocMany, allocOne*3/2+1<<20, "300 frames cost about one")
}

func TestMakeGIFFrameSmallerThanScreen(t *testing.T) {
	// A 20x10 red frame at (10,10) on a 40x40 screen: the rest is
	// transparent, so the thumbnail is a PNG.
	frame := image.NewPaletted(image.Rect(10, 10, 30, 20), color.Palette{red})
	data := encodeGIF(t, &gif.GIF{Image: []*image.Paletted{frame}, Delay: []int{0},
		Config: image.Config{Width: 40, Height: 40, ColorModel: frame.Palette}})
	var out bytes.Buffer
	ct, w, h, err := Make(&out, bytes.NewReader(data), 40, nil)
	require.NoError(t, err)
	assert.Equal(t, "image/png", ct)
	assert.Equal(t, [2]int{40, 40}, [2]int{w, h})
	m, err := png.Decode(&out)
	require.NoError(t, err)
	assert.True(t, near(m.At(20, 15), red, 2))
	_, _, _, a := m.At(2, 2).RGBA()
	assert.Zero(t, a)
}
