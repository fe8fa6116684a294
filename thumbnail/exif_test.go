package thumbnail

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEXIFOrientationBothByteOrders(t *testing.T) {
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		for o := uint16(1); o <= 8; o++ {
			t.Run(fmt.Sprintf("%v/%d", order, o), func(t *testing.T) {
				assert.Equal(t, int(o), exifOrientation(exifTIFF(order, o)))
			})
		}
	}
}

func TestEXIFOrientationMalformed(t *testing.T) {
	le := binary.LittleEndian
	good := exifTIFF(le, 6)
	with := func(edit func(b []byte) []byte) []byte {
		return edit(append([]byte{}, good...))
	}
	long := func(b []byte) []byte { // Orientation as a LONG: accepted
		le.PutUint16(b[10+12+2:], typeLong)
		le.PutUint32(b[10+12+8:], 6)
		return b
	}
	tests := []struct {
		name string
		in   []byte
		want int
	}{
		{"empty", nil, 1},
		{"short header", []byte("II*\x00\x08"), 1},
		{"bad byte order", with(func(b []byte) []byte { b[0] = 'X'; return b }), 1},
		{"IFD offset inside header", with(func(b []byte) []byte { le.PutUint32(b[4:], 4); return b }), 1},
		{"IFD offset past the end", with(func(b []byte) []byte { le.PutUint32(b[4:], 1<<31); return b }), 1},
		{"IFD offset at the very end", with(func(b []byte) []byte { le.PutUint32(b[4:], uint32(len(b)-1)); return b }), 1},
		{"entry count beyond the data", with(func(b []byte) []byte { le.PutUint16(b[8:], 0xffff); return b }), 6},
		{"truncated inside the orientation entry", good[:10+12+6], 1},
		{"value 0", exifTIFF(le, 0), 1},
		{"value 9", exifTIFF(le, 9), 1},
		{"value 0xffff", exifTIFF(le, 0xffff), 1},
		{"wrong type", with(func(b []byte) []byte { le.PutUint16(b[10+12+2:], 2); return b }), 1},
		{"count 0", with(func(b []byte) []byte { le.PutUint32(b[10+12+4:], 0); return b }), 1},
		{"count 3 (not inline)", with(func(b []byte) []byte { le.PutUint32(b[10+12+4:], 3); return b }), 1},
		{"as a LONG", with(long), 6},
		{"no orientation entry", with(func(b []byte) []byte { le.PutUint16(b[10+12:], 0x0110); return b }), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, exifOrientation(tt.in))
		})
	}
}

// FuzzEXIF: the Exif parser never panics and always answers 1..8; and an
// orientation it reads survives in a JPEG header read by jpegHeader.
func FuzzEXIF(f *testing.F) {
	for o := uint16(0); o <= 9; o++ {
		f.Add(exifTIFF(binary.LittleEndian, o))
		f.Add(exifTIFF(binary.BigEndian, o))
	}
	f.Add([]byte("MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x08\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		o := exifOrientation(b)
		if o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
		if len(b) > 60000 {
			return
		}
		jpg := withEXIFPayload(tinyJPEGHeader(3, 2), b)
		h, err := jpegHeader(bufioReader(jpg))
		if err != nil {
			t.Fatalf("jpegHeader: %v", err)
		}
		if h.orientation != o || h.width != 3 || h.height != 2 {
			t.Fatalf("header %+v, want orientation %d, 3x2", h, o)
		}
	})
}
