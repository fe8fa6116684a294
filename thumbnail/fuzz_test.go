package thumbnail

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"testing"

	"golang.org/x/image/tiff"
)

// fuzzSeeds are valid images of every format and layout, and headers
// that stress the limits.
func fuzzSeeds(f *testing.F) {
	for _, c := range formatCases(f) {
		f.Add(c.data)
	}
	for _, h := range hugeHeaders() {
		f.Add(h.data)
	}
	small := encodeJPEG(f, markedImage(24, 12), 80)
	for o := uint16(1); o <= 8; o++ {
		f.Add(withEXIF(small, binary.LittleEndian, o))
	}
	anim, _ := gifFrames(f, 8, 8, 3)
	f.Add(anim)
}

// FuzzAnalyze: Analyze never panics; what it accepts has a known format,
// a positive size and an orientation of 1..8; and its own header parsers
// (JPEG, TIFF) agree with the decoders' DecodeConfig wherever both accept
// the input, since the pixel limit relies on that.
func FuzzAnalyze(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := Analyze(bytes.NewReader(data), &Options{MaxPixels: 1 << 16})
		if err != nil {
			if !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v is neither ErrUnsupported nor ErrTooLarge", err)
			}
			if !errors.Is(err, ErrTooLarge) {
				return
			}
		}
		if info.Width <= 0 || info.Height <= 0 || info.Orientation < 1 || info.Orientation > 8 {
			t.Fatalf("bad info %+v", info)
		}
		w, h := info.Width, info.Height
		if info.Orientation >= 5 {
			w, h = h, w
		}
		var cfg image.Config
		var cerr error
		switch info.Format {
		case "jpeg":
			cfg, cerr = jpeg.DecodeConfig(bytes.NewReader(data))
		case "tiff":
			cfg, cerr = tiff.DecodeConfig(bytes.NewReader(data))
		case "png", "gif", "webp", "bmp":
			return // read by the decoders' own DecodeConfig
		default:
			t.Fatalf("unknown format %q", info.Format)
		}
		if cerr == nil && (cfg.Width != w || cfg.Height != h) {
			t.Fatalf("%s: header says %dx%d, DecodeConfig %dx%d", info.Format, w, h, cfg.Width, cfg.Height)
		}
	})
}

// FuzzMake: Make never panics, allocates within what the (small) pixel
// limit allows, and what it writes is an image of the size it reports,
// within the box.
func FuzzMake(f *testing.F) {
	fuzzSeeds(f)
	const maxPixels, size = 1 << 16, 32
	f.Fuzz(func(t *testing.T, data []byte) {
		var (
			out    bytes.Buffer
			ct     string
			tw, th int
			err    error
		)
		alloc := allocated(func() {
			ct, tw, th, err = Make(&out, bytes.NewReader(data), size, &Options{MaxPixels: maxPixels})
		})
		// 16 bytes per pixel covers every decoder's image and the
		// scaler's planes; input-sized buffers come on top.
		if limit := uint64(16*maxPixels+8*len(data)) + 8<<20; alloc > limit {
			t.Fatalf("allocated %d bytes, limit %d", alloc, limit)
		}
		if err != nil {
			if !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v is neither ErrUnsupported nor ErrTooLarge", err)
			}
			return
		}
		if tw < 1 || th < 1 || tw > size || th > size {
			t.Fatalf("thumbnail %dx%d", tw, th)
		}
		var m image.Image
		switch ct {
		case "image/jpeg":
			m, err = jpeg.Decode(&out)
		case "image/png":
			m, err = png.Decode(&out)
		default:
			t.Fatalf("content type %q", ct)
		}
		if err != nil {
			t.Fatalf("decoding the thumbnail: %v", err)
		}
		if m.Bounds() != image.Rect(0, 0, tw, th) {
			t.Fatalf("thumbnail is %v, reported %dx%d", m.Bounds(), tw, th)
		}
	})
}
