package thumbnail

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pngChunk frames a PNG chunk with its length and CRC.
func pngChunk(typ string, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// hugePNG is a PNG signature and IHDR claiming w x h RGB, then IEND.
func hugePNG(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	b := append([]byte("\x89PNG\r\n\x1a\n"), pngChunk("IHDR", ihdr)...)
	return append(b, pngChunk("IEND", nil)...)
}

// hugeGIF is a GIF header claiming a w x h screen with a 2-colour table.
func hugeGIF(w, h uint16) []byte {
	b := append([]byte("GIF89a"), byte(w), byte(w>>8), byte(h), byte(h>>8), 0x80, 0, 0)
	return append(b, 0, 0, 0, 255, 255, 255, ';')
}

// hugeBMP is a BMP file and info header claiming w x h at 24 bits.
func hugeBMP(w, h int32) []byte {
	le := binary.LittleEndian
	b := append([]byte("BM"), make([]byte, 12)...)
	le.PutUint32(b[10:], 54)
	b = le.AppendUint32(b, 40)
	b = le.AppendUint32(b, uint32(w))
	b = le.AppendUint32(b, uint32(h))
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 24)
	return append(b, make([]byte, 24)...)
}

// hugeTIFF is a TIFF header and IFD claiming a w x h 8-bit gray image.
func hugeTIFF(w, h uint32) []byte {
	le := binary.LittleEndian
	b := le.AppendUint32([]byte("II*\x00"), 8)
	b = le.AppendUint16(b, 6)
	entry := func(tag, typ uint16, v uint32) {
		b = le.AppendUint16(b, tag)
		b = le.AppendUint16(b, typ)
		b = le.AppendUint32(b, 1)
		b = le.AppendUint32(b, v)
	}
	entry(tagImageWidth, typeLong, w)
	entry(tagImageLength, typeLong, h)
	entry(258, typeShort, 8)  // BitsPerSample
	entry(262, typeShort, 1)  // PhotometricInterpretation: BlackIsZero
	entry(273, typeLong, 100) // StripOffsets
	entry(279, typeLong, 1)   // StripByteCounts
	return le.AppendUint32(b, 0)
}

// riffWebP frames one chunk as a WebP file.
func riffWebP(fourcc string, data []byte) []byte {
	le := binary.LittleEndian
	chunk := le.AppendUint32([]byte(fourcc), uint32(len(data)))
	chunk = append(chunk, data...)
	if len(data)%2 == 1 {
		chunk = append(chunk, 0)
	}
	b := le.AppendUint32([]byte("RIFF"), uint32(4+len(chunk)))
	b = append(b, "WEBP"...)
	return append(b, chunk...)
}

// hugeWebPVP8X is an extended WebP header claiming a w x h canvas.
func hugeWebPVP8X(w, h uint32) []byte {
	d := []byte{0, 0, 0, 0, byte(w - 1), byte((w - 1) >> 8), byte((w - 1) >> 16), byte(h - 1), byte((h - 1) >> 8), byte((h - 1) >> 16)}
	return riffWebP("VP8X", d)
}

// hugeWebPVP8L is a lossless WebP header claiming w x h (at most 16384).
func hugeWebPVP8L(w, h uint32) []byte {
	bits := (w - 1) | (h-1)<<14
	return riffWebP("VP8L", []byte{0x2f, byte(bits), byte(bits >> 8), byte(bits >> 16), byte(bits >> 24), 0, 0, 0})
}

// hugeWebPVP8 is a lossy WebP key frame header claiming w x h (at most 16383).
func hugeWebPVP8(w, h uint16) []byte {
	d := []byte{0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, byte(w), byte(w >> 8), byte(h), byte(h >> 8)}
	return riffWebP("VP8 ", append(d, make([]byte, 20)...))
}

// hugeHeaders are tiny files, one per format and header kind, whose
// headers claim far more than DefaultMaxPixels.
func hugeHeaders() []struct {
	name, format string
	w, h         int
	data         []byte
} {
	return []struct {
		name, format string
		w, h         int
		data         []byte
	}{
		{"jpeg", "jpeg", 60000, 60000, tinyJPEGHeader(60000, 60000)},
		{"jpeg rotated by exif", "jpeg", 60000, 1000, withEXIF(tinyJPEGHeader(1000, 60000), binary.BigEndian, 6)},
		{"png", "png", 60000, 60000, hugePNG(60000, 60000)},
		{"gif", "gif", 60000, 60000, hugeGIF(60000, 60000)},
		{"bmp", "bmp", 60000, 60000, hugeBMP(60000, 60000)},
		{"bmp top-down", "bmp", 60000, 60000, hugeBMP(60000, -60000)},
		{"tiff", "tiff", 60000, 60000, hugeTIFF(60000, 60000)},
		{"webp vp8x", "webp", 16000, 16000, hugeWebPVP8X(16000, 16000)},
		{"webp vp8l", "webp", 16384, 16384, hugeWebPVP8L(16384, 16384)},
		{"webp vp8", "webp", 16383, 16383, hugeWebPVP8(16383, 16383)},
	}
}

// allocated returns the bytes allocated while fn ran.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestHugeHeadersAreRefusedCheaply(t *testing.T) {
	for _, tt := range hugeHeaders() {
		t.Run(tt.name, func(t *testing.T) {
			var (
				info       Info
				errA, errM error
			)
			start := time.Now()
			bytesA := allocated(func() { info, errA = Analyze(bytes.NewReader(tt.data), nil) })
			bytesM := allocated(func() { _, _, _, errM = Make(io.Discard, bytes.NewReader(tt.data), 256, nil) })
			elapsed := time.Since(start)

			require.ErrorIs(t, errA, ErrTooLarge)
			require.ErrorIs(t, errM, ErrTooLarge)
			assert.Equal(t, Info{Format: tt.format, Width: tt.w, Height: tt.h, Orientation: info.Orientation}, info)
			assert.Less(t, bytesA, uint64(1<<20), "Analyze allocated")
			assert.Less(t, bytesM, uint64(1<<20), "Make allocated")
			assert.Less(t, elapsed, 200*time.Millisecond)
		})
	}
}

func TestMaxPixelsIsInclusive(t *testing.T) {
	jpg := encodeJPEG(t, solid(40, 25, gray(128)), 90)
	for _, tt := range []struct {
		max  int64
		want error
	}{{1000, nil}, {999, ErrTooLarge}, {0, nil}} {
		_, err := Analyze(bytes.NewReader(jpg), &Options{MaxPixels: tt.max})
		if tt.want == nil {
			assert.NoError(t, err, "max %d", tt.max)
		} else {
			assert.ErrorIs(t, err, tt.want, "max %d", tt.max)
		}
		_, _, _, err = Make(io.Discard, bytes.NewReader(jpg), 16, &Options{MaxPixels: tt.max})
		if tt.want == nil {
			assert.NoError(t, err, "max %d", tt.max)
		} else {
			assert.ErrorIs(t, err, tt.want, "max %d", tt.max)
		}
	}
}

// TestJPEGScanBomb: a progressive JPEG of many tiny scans is refused
// before its scans are all walked.
func TestJPEGScanBomb(t *testing.T) {
	jpg := encodeJPEG(t, solid(16, 16, gray(100)), 90)
	// Repeat the (baseline) SOS segment and its data: the scan counter
	// stops at maxJPEGScans.
	sos := bytes.Index(jpg, []byte{0xff, markerSOS})
	require.Positive(t, sos)
	scan := jpg[sos : len(jpg)-2]
	bomb := append([]byte{}, jpg[:sos]...)
	for range maxJPEGScans + 1 {
		bomb = append(bomb, scan...)
	}
	bomb = append(bomb, 0xff, markerEOI)
	_, _, _, err := Make(io.Discard, bytes.NewReader(bomb), 16, nil)
	require.ErrorIs(t, err, ErrUnsupported)
	assert.ErrorContains(t, err, "too many scans")
}
