package thumbnail

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Defaults of Options; a zero field takes these.
const (
	// DefaultMaxPixels is the largest image (width*height, as the header
	// claims) that is decoded: 50 megapixels.
	DefaultMaxPixels = 50_000_000
	// DefaultQuality is the JPEG quality of thumbnails.
	DefaultQuality = 85
)

// Options bounds and tunes decoding and encoding; nil means defaults.
type Options struct {
	// MaxPixels refuses images whose header claims more pixels than this
	// (width*height) before anything is decoded; 0 means DefaultMaxPixels.
	MaxPixels int64
	// Quality is the JPEG quality of thumbnails, 1 to 100; 0 means
	// DefaultQuality, and values out of range are clamped.
	Quality int
}

var (
	// ErrTooLarge reports an image whose header claims more than
	// Options.MaxPixels pixels. Nothing was decoded.
	ErrTooLarge = errors.New("thumbnail: image too large")
	// ErrUnsupported reports input that is not an image in a format this
	// package decodes, or that is undecodable, truncated or corrupt. A
	// decoder panic is reported as this error too.
	ErrUnsupported = errors.New("thumbnail: unsupported or corrupt image")
)

// Info is what an image's header (and EXIF) say, as the image is displayed:
// Width and Height are after EXIF orientation.
type Info struct {
	// Format is "jpeg", "png", "gif", "webp", "bmp" or "tiff".
	Format string
	// Width and Height are the displayed dimensions in pixels: for
	// orientations 5 to 8 they are the stored dimensions swapped.
	Width, Height int
	// Orientation is the EXIF orientation, 1 to 8; 1 when absent.
	Orientation int
}

// Analyze reads only as much of r as it needs (the header and, for JPEG
// and TIFF, the EXIF orientation) and returns the Info; it never decodes
// pixels. Input that is not a supported image is ErrUnsupported. An image
// whose header claims more than MaxPixels pixels is ErrTooLarge, returned
// together with the Info read from its header. An error reading r is
// returned wrapped as it is.
func Analyze(r io.Reader, opts *Options) (Info, error) {
	o := opts.withDefaults()
	src := &source{r: r}
	hdr, err := readHeader(bufio.NewReader(src))
	if err != nil {
		return Info{}, src.wrap(err)
	}
	info := hdr.info()
	return info, o.check(hdr)
}

// Make decodes r, applies its EXIF orientation, scales it to fit within
// size x size (aspect kept, never upscaled: a smaller image keeps its size)
// and writes it to w as JPEG (opaque images) or PNG (images with any
// transparency). It returns the content type written, "image/jpeg" or
// "image/png", and the thumbnail's width and height.
//
// Errors: ErrTooLarge and ErrUnsupported as for Analyze (checked before
// any pixel is decoded); an error reading r or writing w is returned
// wrapped as it is; size < 1 is an error of its own.
func Make(w io.Writer, r io.Reader, size int, opts *Options) (contentType string, width, height int, err error) {
	o := opts.withDefaults()
	if size < 1 {
		return "", 0, 0, fmt.Errorf("thumbnail: size %d is not positive", size)
	}
	src := &source{r: r, record: true}
	hdr, err := readHeader(bufio.NewReader(src))
	if err != nil {
		return "", 0, 0, src.wrap(err)
	}
	if err := o.check(hdr); err != nil {
		return "", 0, 0, err
	}
	// The header reader may have read ahead: decode from everything read so
	// far followed by the rest of r.
	src.record = false
	rest := io.MultiReader(bytes.NewReader(src.buf), src)
	img, err := decode(hdr, rest, o.MaxPixels)
	src.buf = nil
	if err != nil {
		return "", 0, 0, src.wrap(err)
	}
	// x/image/webp returns lossy WebP's video-range YCbCr as is
	// (golang/go#40173): scale expands it to full range.
	t, err := scaleSafe(img, hdr.orientation, size, hdr.format == "webp")
	if err != nil {
		return "", 0, 0, err
	}
	contentType, err = t.encode(w, o.Quality)
	if err != nil {
		return "", 0, 0, fmt.Errorf("thumbnail: writing: %w", err)
	}
	return contentType, t.w, t.h, nil
}

// withDefaults returns a copy of o with every zero field set to its default.
func (o *Options) withDefaults() Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.MaxPixels <= 0 {
		c.MaxPixels = DefaultMaxPixels
	}
	if c.Quality <= 0 {
		c.Quality = DefaultQuality
	}
	c.Quality = min(c.Quality, 100)
	return c
}

// check reports ErrTooLarge when the header claims more than MaxPixels.
func (o Options) check(h header) error {
	if int64(h.width)*int64(h.height) > o.MaxPixels {
		return fmt.Errorf("%w: %dx%d is more than %d pixels", ErrTooLarge, h.width, h.height, o.MaxPixels)
	}
	return nil
}

// source reads the caller's input. It remembers the first error of the
// reader itself, so that a failing reader is told apart from a corrupt
// image, and while record is set it keeps a copy of what it reads.
type source struct {
	r      io.Reader
	err    error
	record bool
	buf    []byte
}

// Read implements io.Reader.
func (s *source) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if s.record {
		s.buf = append(s.buf, p[:n]...)
	}
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// wrap returns the reader's own error when there was one, else err as an
// ErrUnsupported unless it already is one of the package's errors.
func (s *source) wrap(err error) error {
	switch {
	case s.err != nil:
		return fmt.Errorf("thumbnail: reading: %w", s.err)
	case errors.Is(err, ErrUnsupported), errors.Is(err, ErrTooLarge):
		return err
	}
	return fmt.Errorf("%w: %v", ErrUnsupported, err)
}
