package thumbnail

import "encoding/binary"

// TIFF field types that can hold the values read here.
const (
	typeShort = 3
	typeLong  = 4
)

// exifOrientation returns the orientation (1..8) recorded in an Exif
// payload: the TIFF structure that follows "Exif\0\0" in a JPEG's APP1
// segment, in either byte order. It is 1 when the payload is malformed or
// the tag is absent or out of range; it never fails.
func exifOrientation(b []byte) int {
	order, ok := tiffByteOrder(b)
	if !ok || len(b) < 8 {
		return 1
	}
	off := uint64(order.Uint32(b[4:8]))
	if off < 8 || off+2 > uint64(len(b)) {
		return 1
	}
	n := uint64(order.Uint16(b[off:]))
	entries := b[off+2:]
	entries = entries[:min(uint64(len(entries)), 12*n)]
	return orientationValue(order, entries)
}

// orientationValue returns the Orientation tag of the IFD entries, 1 when
// it is absent or out of range.
func orientationValue(order binary.ByteOrder, entries []byte) int {
	v, ok := ifdValue(order, entries, tagOrientation)
	if !ok || v < 1 || v > 8 {
		return 1
	}
	return int(v)
}

// ifdValue returns the first value of the first entry for tag among the
// 12-byte IFD entries, if it is a SHORT or a LONG held in the entry itself
// (as ImageWidth, ImageLength and Orientation always are).
func ifdValue(order binary.ByteOrder, entries []byte, tag uint16) (uint32, bool) {
	for ; len(entries) >= 12; entries = entries[12:] {
		if order.Uint16(entries) != tag {
			continue
		}
		typ, count := order.Uint16(entries[2:]), order.Uint32(entries[4:])
		switch {
		case typ == typeShort && count >= 1 && count <= 2:
			return uint32(order.Uint16(entries[8:])), true
		case typ == typeLong && count == 1:
			return order.Uint32(entries[8:]), true
		}
		return 0, false
	}
	return 0, false
}
