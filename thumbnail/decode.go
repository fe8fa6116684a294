package thumbnail

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// maxJPEGScans bounds the scans of a JPEG. Every scan of a progressive
// JPEG walks every block of the image, so a small file with thousands of
// tiny scans would cost minutes; real encoders write at most a few dozen.
const maxJPEGScans = 100

// decode decodes the image whose header is h from r, which holds the whole
// input from its first byte. GIFs give their first frame only. A decoder
// panic is an error, never a crash.
func decode(h header, r io.Reader, maxPixels int64) (image.Image, error) {
	img, err := guard(h.format+" decoder", func() (image.Image, error) {
		switch h.format {
		case "jpeg":
			return jpeg.Decode(&scanCounter{r: r, max: maxJPEGScans})
		case "png":
			return png.Decode(r)
		case "gif":
			return gifFirstFrame(r, h)
		case "webp":
			return webp.Decode(r)
		case "bmp":
			return bmp.Decode(r)
		case "tiff":
			return decodeTIFF(r, maxPixels)
		}
		return nil, errNoImage
	})
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	if b.Empty() {
		return nil, fmt.Errorf("%w: %s: empty image", ErrUnsupported, h.format)
	}
	if int64(b.Dx())*int64(b.Dy()) > maxPixels {
		return nil, fmt.Errorf("%w: %s decoded to %dx%d", ErrTooLarge, h.format, b.Dx(), b.Dy())
	}
	return img, nil
}

// guard calls fn, turning a panic into an ErrUnsupported that names what
// panicked.
func guard[T any](what string, fn func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			var zero T
			v, err = zero, fmt.Errorf("%w: %s panic: %v", ErrUnsupported, what, p)
		}
	}()
	return fn()
}

// gifFirstFrame decodes the first frame of a GIF and nothing after it
// (image/gif's Decode stops there). A frame smaller than the logical screen
// is placed on a transparent screen-sized canvas, as browsers show it.
func gifFirstFrame(r io.Reader, h header) (image.Image, error) {
	m, err := gif.Decode(r)
	if err != nil {
		return nil, err
	}
	screen := image.Rect(0, 0, h.width, h.height)
	if m.Bounds() == screen {
		return m, nil
	}
	canvas := image.NewNRGBA(screen)
	draw.Draw(canvas, m.Bounds(), m, m.Bounds().Min, draw.Src)
	return canvas, nil
}

// decodeTIFF reads the whole TIFF (its decoder needs random access) and
// checks the decoder's own idea of its size before decoding it.
func decodeTIFF(r io.Reader, maxPixels int64) (image.Image, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	cfg, err := tiff.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxPixels {
		return nil, fmt.Errorf("%w: tiff: %dx%d", ErrTooLarge, cfg.Width, cfg.Height)
	}
	return tiff.Decode(bytes.NewReader(data))
}

// errTooManyScans stops a JPEG with more than maxJPEGScans scans.
var errTooManyScans = errors.New("jpeg: too many scans")

// scanCounter passes a JPEG stream through, counting its SOS markers
// (0xFF 0xDA: entropy-coded data never holds that pair, since it stuffs a
// 0x00 after every 0xFF), and fails once there are more than max.
type scanCounter struct {
	r      io.Reader
	max, n int
	lastFF bool // the previous byte read was 0xFF
}

// Read implements io.Reader. Once past the limit it fails for good,
// returning no more data (image/jpeg ignores an error that comes with data).
func (s *scanCounter) Read(p []byte) (int, error) {
	if s.n > s.max {
		return 0, errTooManyScans
	}
	n, err := s.r.Read(p)
	b := p[:n]
	if s.lastFF && len(b) > 0 && b[0] == markerSOS {
		s.n++
	}
	for {
		i := bytes.IndexByte(b, 0xff)
		if i < 0 || i+1 >= len(b) {
			break
		}
		if b[i+1] == markerSOS {
			s.n++
		}
		b = b[i+1:]
	}
	s.lastFF = n > 0 && p[n-1] == 0xff
	if s.n > s.max {
		return 0, errTooManyScans
	}
	return n, err
}
