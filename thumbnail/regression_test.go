package thumbnail

// Regression tests for known failures of image handling elsewhere
// (issue 5): each ends in an error (no thumbnail) or a bounded success,
// with bounded memory.

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A GIF whose frame claims far more than its (tiny) screen is refused
// before the frame is allocated: the pixel limit checks the screen, so
// the frame must not be trusted beyond it.
func TestRegressionGIFFrameLargerThanScreen(t *testing.T) {
	le := binary.LittleEndian
	b := le.AppendUint16([]byte("GIF89a"), 1)
	b = le.AppendUint16(b, 1)
	b = append(b, 0x80, 0, 0, 0, 0, 0, 255, 255, 255)
	b = append(b, ',', 0, 0, 0, 0)
	b = le.AppendUint16(b, 65535)
	b = le.AppendUint16(b, 65535)
	b = append(b, 0, 2, 2, 0x4c, 0x01, 0, ';')
	var err error
	alloc := allocated(func() { _, _, _, err = Make(io.Discard, bytes.NewReader(b), 64, nil) })
	require.ErrorIs(t, err, ErrUnsupported)
	assert.Less(t, alloc, uint64(1<<20))
}

// An animated GIF of 300 frames of 1000x1000: Analyze reads its header
// only, and Make reads and decodes its first frame only, at the memory of
// a one-frame GIF.
func TestRegressionGIFHundredsOfLargeFrames(t *testing.T) {
	one, _ := gifFrames(t, 1000, 1000, 1)
	many, firstEnd := gifFrames(t, 1000, 1000, 300)

	cr := &countingReader{r: bytes.NewReader(many)}
	var info Info
	var err error
	alloc := allocated(func() { info, err = Analyze(cr, nil) })
	require.NoError(t, err)
	assert.Equal(t, Info{Format: "gif", Width: 1000, Height: 1000, Orientation: 1}, info)
	assert.LessOrEqual(t, cr.n, 8192, "Analyze read %d of %d bytes", cr.n, len(many))
	assert.Less(t, alloc, uint64(64<<10), "Analyze allocated")

	cr = &countingReader{r: bytes.NewReader(many)}
	allocMany := allocated(func() { _, _, _, err = Make(io.Discard, cr, 128, nil) })
	require.NoError(t, err)
	assert.LessOrEqual(t, cr.n, firstEnd+2*4096, "Make read %d of %d bytes", cr.n, len(many))
	allocOne := allocated(func() { _, _, _, err = Make(io.Discard, bytes.NewReader(one), 128, nil) })
	require.NoError(t, err)
	t.Logf("Make allocated %d KiB for 1 frame, %d KiB for 300", allocOne>>10, allocMany>>10)
	// Every frame decoded would be 300 MB.
	assert.Less(t, allocMany, allocOne*3/2+1<<20)
}

// Tiny files whose headers claim tens of thousands of pixels a side, in
// every format, are refused by Analyze and Make with ErrTooLarge at
// little memory, however small MaxPixels is set.
func TestRegressionTinyFilesHugeClaims(t *testing.T) {
	for _, tt := range hugeHeaders() {
		t.Run(tt.name, func(t *testing.T) {
			require.Less(t, len(tt.data), 1024)
			for _, max := range []int64{0, 1 << 16} {
				opts := &Options{MaxPixels: max}
				var errA, errM error
				alloc := allocated(func() {
					_, errA = Analyze(bytes.NewReader(tt.data), opts)
					_, _, _, errM = Make(io.Discard, bytes.NewReader(tt.data), 256, opts)
				})
				require.ErrorIs(t, errA, ErrTooLarge)
				require.ErrorIs(t, errM, ErrTooLarge)
				assert.Less(t, alloc, uint64(1<<20))
			}
		})
	}
}
