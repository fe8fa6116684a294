package iox

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
)

func TestFill(t *testing.T) {
	buf := make([]byte, 4)
	n, last, err := Fill(iotest.OneByteReader(strings.NewReader("abcdef")), buf)
	assert.Equal(t, 4, n)
	assert.False(t, last)
	assert.NoError(t, err)

	n, last, err = Fill(strings.NewReader("ab"), buf)
	assert.Equal(t, 2, n)
	assert.True(t, last)
	assert.NoError(t, err)

	n, last, err = Fill(iotest.DataErrReader(strings.NewReader("abcd")), buf)
	assert.Equal(t, 4, n)
	assert.True(t, last, "data and io.EOF in one Read")
	assert.NoError(t, err)

	n, last, err = Fill(io.MultiReader(strings.NewReader("a"), iotest.ErrReader(io.ErrUnexpectedEOF)), buf)
	assert.Equal(t, 1, n)
	assert.False(t, last)
	assert.True(t, errors.Is(err, io.ErrUnexpectedEOF))
}
