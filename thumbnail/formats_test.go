package thumbnail

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// halvesImage is 32x24: left half red, right half blue, an 8x8 green square
// at the top left (as the WebP fixtures).
func halvesImage() *image.NRGBA {
	m := solid(32, 24, red)
	draw.Draw(m, image.Rect(16, 0, 32, 24), image.NewUniform(blue), image.Point{}, draw.Src)
	draw.Draw(m, image.Rect(0, 0, 8, 8), image.NewUniform(green), image.Point{}, draw.Src)
	return m
}

func encodeWith(t testing.TB, enc func(io.Writer, image.Image) error, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, enc(&b, m))
	return b.Bytes()
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// formatCases are small images of every supported format and the main
// pixel layouts of each, with what Make must make of them. (A BMP with
// alpha is not among them: x/image/bmp ignores the alpha of the 32-bit
// BMPs its own encoder writes, as Windows does for their header version.)
func formatCases(t testing.TB) []struct {
	name, format, contentType string
	data                      []byte
	transparentBottom         bool
} {
	hv := halvesImage()
	gray16 := image.NewGray16(hv.Rect)
	rgba64 := image.NewRGBA64(hv.Rect)
	draw.Draw(gray16, hv.Rect, hv, image.Point{}, draw.Src)
	draw.Draw(rgba64, hv.Rect, hv, image.Point{}, draw.Src)
	withAlpha := halvesImage()
	for y := 12; y < 24; y++ {
		for x := range 32 {
			withAlpha.SetNRGBA(x, y, color.NRGBA{})
		}
	}
	pal := image.NewPaletted(hv.Rect, color.Palette{red, blue, green})
	draw.Draw(pal, hv.Rect, hv, image.Point{}, draw.Src)
	tiffDeflate := func(w io.Writer, m image.Image) error {
		return tiff.Encode(w, m, &tiff.Options{Compression: tiff.Deflate, Predictor: true})
	}
	gifEnc := func(w io.Writer, m image.Image) error { return gif.Encode(w, m, nil) }
	return []struct {
		name, format, contentType string
		data                      []byte
		transparentBottom         bool
	}{
		{"jpeg 4:2:0", "jpeg", "image/jpeg", encodeJPEG(t, hv, 95), false},
		{"jpeg gray", "jpeg", "image/jpeg", encodeJPEG(t, gray16, 95), false},
		{"png nrgba", "png", "image/jpeg", encodePNG(t, hv), false},
		{"png alpha", "png", "image/png", encodePNG(t, withAlpha), true},
		{"png paletted", "png", "image/jpeg", encodePNG(t, pal), false},
		{"png rgba64", "png", "image/jpeg", encodePNG(t, rgba64), false},
		{"png gray16", "png", "image/jpeg", encodePNG(t, gray16), false},
		{"gif", "gif", "image/jpeg", encodeWith(t, gifEnc, pal), false},
		{"bmp", "bmp", "image/jpeg", encodeWith(t, bmp.Encode, hv), false},
		{"tiff", "tiff", "image/jpeg", encodeWith(t, func(w io.Writer, m image.Image) error { return tiff.Encode(w, m, nil) }, hv), false},
		{"tiff deflate alpha", "tiff", "image/png", encodeWith(t, tiffDeflate, withAlpha), true},
		{"tiff gray16", "tiff", "image/jpeg", encodeWith(t, tiffDeflate, gray16), false},
		{"webp lossy", "webp", "image/jpeg", fixture(t, "lossy.webp"), false},
		{"webp lossless", "webp", "image/jpeg", fixture(t, "lossless.webp"), false},
		{"webp lossy alpha", "webp", "image/png", fixture(t, "lossy-alpha.webp"), true},
		{"webp lossless alpha", "webp", "image/png", fixture(t, "lossless-alpha.webp"), true},
	}
}

func TestFormats(t *testing.T) {
	for _, tt := range formatCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			info, err := Analyze(bytes.NewReader(tt.data), nil)
			require.NoError(t, err)
			assert.Equal(t, Info{Format: tt.format, Width: 32, Height: 24, Orientation: 1}, info)

			for _, size := range []int{32, 16} {
				var out bytes.Buffer
				ct, w, h, err := Make(&out, bytes.NewReader(tt.data), size, nil)
				require.NoError(t, err)
				assert.Equal(t, tt.contentType, ct)
				assert.Equal(t, [2]int{size, size * 3 / 4}, [2]int{w, h})
				m := decodeAny(t, out.Bytes())
				k := size / 4 // pixels per 8 source pixels
				g, r, b := m.At(k/2, k/2), m.At(k+k/2, k/2), m.At(3*k, k/2)
				tol := 25
				if size == 16 {
					tol = 32 // the 4x4 green square's chroma is 2x2 samples
				}
				if strings.Contains(tt.name, "gray") {
					assert.False(t, near(r, b, 10), "the halves differ: %v %v", r, b)
				} else {
					assert.True(t, near(g, green, tol), "green %v", rgbaOf8(g))
					assert.True(t, near(r, red, tol), "red %v", rgbaOf8(r))
					assert.True(t, near(b, blue, tol), "blue %v", rgbaOf8(b))
				}
				_, _, _, a := m.At(2*k, 2*k+k/2).RGBA()
				if tt.transparentBottom {
					assert.Zero(t, a, "bottom half transparent")
				} else {
					assert.Equal(t, uint32(0xffff), a)
				}
			}
		})
	}
}

// TestAnalyzeReadsOnlyTheHeader: a 2-megapixel JPEG with Exif is analysed
// from its first few kilobytes.
func TestAnalyzeReadsOnlyTheHeader(t *testing.T) {
	jpg := encodeJPEG(t, noisy(1600, 1200, 5), 75)
	for _, data := range [][]byte{jpg, withEXIF(jpg, binary.BigEndian, 8)} {
		cr := &countingReader{r: bytes.NewReader(data)}
		info, err := Analyze(cr, nil)
		require.NoError(t, err)
		assert.Equal(t, 1600*1200, info.Width*info.Height)
		assert.LessOrEqual(t, cr.n, 4096+1024, "read %d of %d bytes", cr.n, len(data))
	}
}

// TestCorruptInputIsUnsupported: garbage, empty input and every supported
// file cut short are ErrUnsupported, never a panic.
func TestCorruptInputIsUnsupported(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := make([]byte, 5000)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	garbage := map[string][]byte{
		"empty":            nil,
		"text":             []byte("hello, this is not an image at all"),
		"noise":            noise,
		"jpeg magic only":  {0xff, 0xd8, 0xff},
		"png magic only":   []byte("\x89PNG\r\n\x1a\n"),
		"riff not webp":    []byte("RIFF\x10\x00\x00\x00WAVEfmt "),
		"tiff header only": []byte("II*\x00\x08\x00\x00\x00"),
		"zero-size png":    hugePNG(0, 0),
		"zero-size gif":    hugeGIF(0, 0),
		"jpeg no frame":    {0xff, 0xd8, 0xff, 0xd9},
		"svg":              []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`),
	}
	for name, data := range garbage {
		t.Run(name, func(t *testing.T) {
			_, err := Analyze(bytes.NewReader(data), nil)
			assert.ErrorIs(t, err, ErrUnsupported)
			_, _, _, err = Make(io.Discard, bytes.NewReader(data), 16, nil)
			assert.ErrorIs(t, err, ErrUnsupported)
		})
	}
	for _, tt := range formatCases(t) {
		t.Run("truncated "+tt.name, func(t *testing.T) {
			for _, n := range []int{len(tt.data) / 4, len(tt.data) / 2, len(tt.data) - 30} {
				_, _, _, err := Make(io.Discard, bytes.NewReader(tt.data[:n]), 16, nil)
				assert.ErrorIs(t, err, ErrUnsupported, "cut at %d of %d", n, len(tt.data))
			}
		})
	}
}

// failingReader gives some bytes, then fails.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestReaderErrorsAreNotUnsupported: a failing reader (a network or store
// error) is reported as itself, so that a caller can retry it, not as an
// undecodable image.
func TestReaderErrorsAreNotUnsupported(t *testing.T) {
	boom := errors.New("connection reset")
	jpg := encodeJPEG(t, photo(300, 200, 9), 90)
	for _, n := range []int{0, 10, len(jpg) / 2} {
		_, err := Analyze(&failingReader{data: jpg[:min(n, 10)], err: boom}, nil)
		assert.ErrorIs(t, err, boom)
		assert.NotErrorIs(t, err, ErrUnsupported)
		_, _, _, err = Make(io.Discard, &failingReader{data: jpg[:n], err: boom}, 64, nil)
		assert.ErrorIs(t, err, boom, "failing after %d bytes", n)
		assert.NotErrorIs(t, err, ErrUnsupported)
	}
}

// TestScaleImageTypes runs the scaler over every in-memory layout it
// handles, including those no decoder here returns, on a solid colour.
func TestScaleImageTypes(t *testing.T) {
	c := color.NRGBA{200, 100, 50, 255}
	r := image.Rect(0, 0, 90, 60)
	ycc := func(ratio image.YCbCrSubsampleRatio) image.Image {
		m := image.NewYCbCr(r, ratio)
		y, cb, cr := color.RGBToYCbCr(c.R, c.G, c.B)
		for i := range m.Y {
			m.Y[i] = y
		}
		for i := range m.Cb {
			m.Cb[i], m.Cr[i] = cb, cr
		}
		return m
	}
	via := func(m draw.Image) image.Image {
		draw.Draw(m, m.Bounds(), image.NewUniform(c), m.Bounds().Min, draw.Src)
		return m
	}
	sub := via(image.NewRGBA(image.Rect(-10, -10, 100, 70))).(*image.RGBA).SubImage(image.Rect(5, 5, 95, 65))
	nycbcra := &image.NYCbCrA{YCbCr: *ycc(image.YCbCrSubsampleRatio420).(*image.YCbCr), A: bytes.Repeat([]byte{255}, 90*60), AStride: 90}
	subYCC := ycc(image.YCbCrSubsampleRatio420).(*image.YCbCr).SubImage(image.Rect(1, 1, 89, 59))
	tests := map[string]image.Image{
		"ycbcr 444": ycc(image.YCbCrSubsampleRatio444), "ycbcr 422": ycc(image.YCbCrSubsampleRatio422),
		"ycbcr 420": ycc(image.YCbCrSubsampleRatio420), "ycbcr 440": ycc(image.YCbCrSubsampleRatio440),
		"ycbcr 411": ycc(image.YCbCrSubsampleRatio411), "ycbcr 410": ycc(image.YCbCrSubsampleRatio410),
		"ycbcr sub-image": subYCC, "nycbcra": nycbcra,
		"cmyk": via(image.NewCMYK(r)), "rgba64": via(image.NewRGBA64(r)), "nrgba64": via(image.NewNRGBA64(r)),
		"rgba sub-image": sub, "nrgba": via(image.NewNRGBA(r)), "uniform-like": &atOnly{via(image.NewRGBA(r))},
	}
	for name, m := range tests {
		t.Run(name, func(t *testing.T) {
			for _, o := range []int{1, 6} {
				th := scale(m, o, 30, false)
				wantW, wantH := fit(m.Bounds().Dx(), m.Bounds().Dy(), 30)
				if o == 6 {
					wantW, wantH = fit(m.Bounds().Dy(), m.Bounds().Dx(), 30)
				}
				assert.Equal(t, [2]int{wantW, wantH}, [2]int{th.w, th.h})
				assert.False(t, th.png)
				for _, p := range []image.Point{{0, 0}, {th.w / 2, th.h / 2}, {th.w - 1, th.h - 1}} {
					got := th.img.At(p.X, p.Y)
					assert.True(t, near(got, c, 3), "%v at %v", got, p)
				}
			}
		})
	}
}

// atOnly hides every method of an image but image.Image's, to exercise
// the slowest path.
type atOnly struct{ m image.Image }

func (a *atOnly) ColorModel() color.Model { return a.m.ColorModel() }
func (a *atOnly) Bounds() image.Rectangle { return a.m.Bounds() }
func (a *atOnly) At(x, y int) color.Color { return a.m.At(x, y) }

// TestVideoRangeYCbCr: lossy WebP's samples are BT.601 video range; the
// thumbnail has the colours libwebp shows, not washed-out ones.
func TestVideoRangeYCbCr(t *testing.T) {
	// red (200,30,30) in video range, as libwebp encodes it.
	const y, cb, cr = 85, 103, 203
	r := image.Rect(0, 0, 64, 48)
	ycc := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = y
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = cb, cr
	}
	alpha := &image.NYCbCrA{YCbCr: *ycc, A: bytes.Repeat([]byte{128}, 64*48), AStride: 64}
	for name, m := range map[string]image.Image{"ycbcr": ycc, "nycbcra": alpha} {
		t.Run(name, func(t *testing.T) {
			th := scale(m, 1, 16, true)
			want := color.NRGBA{200, 30, 30, 255}
			if name == "nycbcra" {
				want.A = 128
			}
			got := color.NRGBAModel.Convert(th.img.At(5, 5))
			assert.True(t, near(got, want, 3), "%v", got)
		})
	}
}

// rgbaOf8 shows a colour as 8-bit non-premultiplied RGBA.
func rgbaOf8(c color.Color) color.NRGBA { return color.NRGBAModel.Convert(c).(color.NRGBA) }

// panicky is an image whose pixels cannot be read.
type panicky struct{ atOnly }

func (*panicky) At(x, y int) color.Color { panic("no pixels here") }

// TestPanicsAreUnsupported: a panic while decoding or scaling, even in a
// worker goroutine, is an ErrUnsupported and not a crash.
func TestPanicsAreUnsupported(t *testing.T) {
	_, err := guard("test decoder", func() (image.Image, error) { panic("corrupt") })
	assert.ErrorIs(t, err, ErrUnsupported)
	assert.ErrorContains(t, err, "test decoder panic: corrupt")

	m := &panicky{atOnly{image.NewGray(image.Rect(0, 0, 500, 500))}}
	_, err = scaleSafe(m, 1, 64, false)
	assert.ErrorIs(t, err, ErrUnsupported)
	assert.ErrorContains(t, err, "no pixels here")
}
