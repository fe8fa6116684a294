package thumbnail

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/png"
	"io"

	"golang.org/x/image/bmp"
	"golang.org/x/image/webp"
)

// header is what an image's header says, as the image is stored.
type header struct {
	format        string
	width, height int // stored, before orientation
	orientation   int // EXIF, 1..8
}

// info returns the header as displayed.
func (h header) info() Info {
	i := Info{Format: h.format, Width: h.width, Height: h.height, Orientation: h.orientation}
	if h.orientation >= 5 {
		i.Width, i.Height = h.height, h.width
	}
	return i
}

// Magic numbers, by format.
var magics = []struct {
	format string
	prefix string
	at     int // offset of prefix
}{
	{"jpeg", "\xff\xd8\xff", 0},
	{"png", "\x89PNG\r\n\x1a\n", 0},
	{"gif", "GIF87a", 0},
	{"gif", "GIF89a", 0},
	{"webp", "RIFF", 0},
	{"bmp", "BM", 0},
	{"tiff", "II*\x00", 0},
	{"tiff", "MM\x00*", 0},
}

// sniff names the format of data beginning with b, or "".
func sniff(b []byte) string {
	for _, m := range magics {
		if bytes.HasPrefix(b[min(m.at, len(b)):], []byte(m.prefix)) {
			if m.format == "webp" && (len(b) < 12 || string(b[8:12]) != "WEBP") {
				continue
			}
			return m.format
		}
	}
	return ""
}

// errNoImage is the cause of an ErrUnsupported for unknown formats.
var errNoImage = errors.New("not an image in a supported format")

// readHeader sniffs the format and reads the header of the image in r,
// reading no pixel data. A parser panic is an error, never a crash.
func readHeader(r *bufio.Reader) (header, error) {
	return guard("header parser", func() (header, error) { return parseHeader(r) })
}

// parseHeader is readHeader without the guard.
func parseHeader(r *bufio.Reader) (h header, err error) {
	b, _ := r.Peek(16)
	format := sniff(b)
	var cfg image.Config
	switch format {
	case "jpeg":
		h, err = jpegHeader(r)
	case "tiff":
		h, err = tiffHeader(r)
	case "png":
		cfg, err = png.DecodeConfig(r)
	case "gif":
		cfg, err = gif.DecodeConfig(r)
	case "webp":
		cfg, err = webp.DecodeConfig(r)
	case "bmp":
		cfg, err = bmp.DecodeConfig(r)
	default:
		return header{}, errNoImage
	}
	if err != nil {
		return header{}, err
	}
	if h.format == "" {
		h = header{format: format, width: cfg.Width, height: cfg.Height, orientation: 1}
	}
	if h.width <= 0 || h.height <= 0 {
		return header{}, fmt.Errorf("%s: empty image %dx%d", format, h.width, h.height)
	}
	return h, nil
}

// JPEG markers (ITU T.81 Table B.1).
const (
	markerSOF0 = 0xc0 // baseline
	markerSOF1 = 0xc1 // extended sequential
	markerSOF2 = 0xc2 // progressive
	markerDHT  = 0xc4
	markerRST0 = 0xd0
	markerRST7 = 0xd7
	markerSOI  = 0xd8
	markerEOI  = 0xd9
	markerSOS  = 0xda
	markerDQT  = 0xdb
	markerDRI  = 0xdd
	markerAPP0 = 0xe0
	markerAPP1 = 0xe1
	markerAPPF = 0xef
	markerCOM  = 0xfe
)

// maxJPEGHeader bounds the bytes read before a JPEG's frame header:
// metadata beyond it (real files carry well under 1 MiB) is refused.
const maxJPEGHeader = 16 << 20

// jpegHeader reads a JPEG's segments up to its frame header (SOF), taking
// the orientation from the first Exif APP1 segment. It walks markers the
// way image/jpeg does (extraneous bytes and fill bytes skipped), so that it
// finds the same frame header the decoder will use, and refuses what that
// decoder refuses: frames other than baseline, extended and progressive
// Huffman ones, and unknown markers.
func jpegHeader(r *bufio.Reader) (header, error) {
	h := header{format: "jpeg", orientation: 1}
	var tmp [6]byte
	if _, err := io.ReadFull(r, tmp[:2]); err != nil {
		return h, err
	}
	if tmp[0] != 0xff || tmp[1] != markerSOI {
		return h, errors.New("jpeg: missing SOI marker")
	}
	seenExif := false
	read := 2
	for read <= maxJPEGHeader {
		if _, err := io.ReadFull(r, tmp[:2]); err != nil {
			return h, err
		}
		read += 2
		for tmp[0] != 0xff {
			tmp[0] = tmp[1]
			c, err := r.ReadByte()
			if err != nil {
				return h, err
			}
			tmp[1] = c
			read++
		}
		marker := tmp[1]
		if marker == 0 {
			continue
		}
		for marker == 0xff {
			c, err := r.ReadByte()
			if err != nil {
				return h, err
			}
			marker = c
			read++
		}
		if marker == markerEOI {
			return h, errors.New("jpeg: no frame header")
		}
		if markerRST0 <= marker && marker <= markerRST7 {
			continue
		}
		if _, err := io.ReadFull(r, tmp[:2]); err != nil {
			return h, err
		}
		n := int(tmp[0])<<8 + int(tmp[1]) - 2
		if n < 0 {
			return h, errors.New("jpeg: short segment length")
		}
		read += 2 + n
		switch {
		case marker == markerSOF0 || marker == markerSOF1 || marker == markerSOF2:
			if n < 6 {
				return h, errors.New("jpeg: short frame header")
			}
			if _, err := io.ReadFull(r, tmp[:6]); err != nil {
				return h, err
			}
			h.height = int(tmp[1])<<8 | int(tmp[2])
			h.width = int(tmp[3])<<8 | int(tmp[4])
			return h, nil
		case marker == markerAPP1 && !seenExif:
			seg := make([]byte, n)
			if _, err := io.ReadFull(r, seg); err != nil {
				return h, err
			}
			if payload, ok := bytes.CutPrefix(seg, []byte("Exif\x00\x00")); ok {
				seenExif = true
				h.orientation = exifOrientation(payload)
			}
		case marker == markerDHT || marker == markerDQT || marker == markerDRI ||
			marker == markerCOM || markerAPP0 <= marker && marker <= markerAPPF:
			if _, err := r.Discard(n); err != nil {
				return h, err
			}
		case marker == markerSOS:
			return h, errors.New("jpeg: scan before frame header")
		default:
			return h, fmt.Errorf("jpeg: unsupported marker %#x", marker)
		}
	}
	return h, fmt.Errorf("jpeg: more than %d bytes before the frame header", maxJPEGHeader)
}

// TIFF tags read from the first IFD.
const (
	tagImageWidth  = 256
	tagImageLength = 257
	tagOrientation = 274
)

// tiffHeader reads a TIFF's first IFD as a stream: it skips forward to the
// IFD, wherever it is, and keeps only the IFD itself.
func tiffHeader(r *bufio.Reader) (header, error) {
	h := header{format: "tiff", orientation: 1}
	var tmp [8]byte
	if _, err := io.ReadFull(r, tmp[:8]); err != nil {
		return h, err
	}
	order, ok := tiffByteOrder(tmp[:])
	if !ok {
		return h, errors.New("tiff: malformed header")
	}
	off := int64(order.Uint32(tmp[4:8]))
	if off < 8 {
		return h, errors.New("tiff: IFD inside the header")
	}
	if _, err := io.CopyN(io.Discard, r, off-8); err != nil {
		return h, err
	}
	if _, err := io.ReadFull(r, tmp[:2]); err != nil {
		return h, err
	}
	entries := make([]byte, 12*int(order.Uint16(tmp[:2])))
	if _, err := io.ReadFull(r, entries); err != nil {
		return h, err
	}
	w, okW := ifdValue(order, entries, tagImageWidth)
	ht, okH := ifdValue(order, entries, tagImageLength)
	if !okW || !okH || w > 1<<30 || ht > 1<<30 {
		return h, errors.New("tiff: no usable image dimensions")
	}
	h.width, h.height = int(w), int(ht)
	h.orientation = orientationValue(order, entries)
	return h, nil
}

// tiffByteOrder reads the byte order of a TIFF header ("II*\0" or "MM\0*").
func tiffByteOrder(b []byte) (binary.ByteOrder, bool) {
	switch {
	case bytes.HasPrefix(b, []byte("II*\x00")):
		return binary.LittleEndian, true
	case bytes.HasPrefix(b, []byte("MM\x00*")):
		return binary.BigEndian, true
	}
	return nil, false
}
