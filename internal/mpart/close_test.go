package mpart

import (
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

// After Close, NextPart and the reads of the part being read fail with
// ErrClosed, and the source is not read again.
func TestCloseEndsEverything(t *testing.T) {
	body := buildForm("b0undary", filePart("file", "a.bin", "", bytes.Repeat([]byte("a"), 100<<10)), fieldPart("x", "y"))
	src := &countingReader{r: bytes.NewReader(body)}
	mr := NewReader(src, "b0undary", nil)
	p, err := mr.NextPart()
	require.NoError(t, err)
	buf := make([]byte, 1000)
	_, err = io.ReadFull(p, buf)
	require.NoError(t, err)

	require.NoError(t, mr.Close())
	reads := src.reads
	n, err := p.Read(buf)
	require.Equal(t, 0, n)
	require.ErrorIs(t, err, ErrClosed)
	_, err = p.WriteTo(io.Discard)
	require.ErrorIs(t, err, ErrClosed)
	_, err = mr.NextPart()
	require.ErrorIs(t, err, ErrClosed)
	require.Equal(t, reads, src.reads, "the source was read after Close")
}

// A Reader that takes a buffer given back by an earlier one yields its own
// body only, never the earlier body's bytes left in the buffer.
func TestPooledBufferLeaksNothing(t *testing.T) {
	reused := false
	for range 20 {
		first := NewReader(bytes.NewReader(buildForm("b1", filePart("f", "a", "", bytes.Repeat([]byte("S"), 60<<10)))), "b1", nil)
		p, err := first.NextPart()
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, p)
		require.NoError(t, err)
		firstBufs := first.pooled
		require.NoError(t, first.Close())

		second := NewReader(bytes.NewReader(buildForm("b2", filePart("f", "b", "", []byte("tiny")))), "b2", nil)
		reused = reused || second.pooled == firstBufs
		p, err = second.NextPart()
		require.NoError(t, err)
		got, err := io.ReadAll(p)
		require.NoError(t, err)
		require.Equal(t, "tiny", string(got))
		_, err = second.NextPart()
		require.ErrorIs(t, err, io.EOF)
		require.NoError(t, second.Close())
	}
	require.True(t, reused, "no Reader took a buffer another had given back")
}

// countingReader counts the Reads of its source.
type countingReader struct {
	r     io.Reader
	reads int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.reads++
	return c.r.Read(p)
}
