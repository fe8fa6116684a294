package client_test

import (
	"archive/zip"
	"bytes"
	"context"
	"image"
	_ "image/jpeg"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/client"
)

func TestOpenDownloadHead(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	content := bytes.Repeat([]byte("abcdefghij"), 10_000)
	a := e.upload("Überblick 2026.txt", content, nil)

	body, info, err := e.c.Open(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, content, readAll(t, body))
	assert.Equal(t, int64(len(content)), info.Size)
	assert.Equal(t, int64(0), info.Offset)
	assert.Equal(t, int64(len(content)), info.Length)
	assert.Equal(t, a.ContentType, info.ContentType)
	assert.Equal(t, `"`+a.SHA256+`"`, info.ETag)
	assert.Equal(t, "Überblick 2026.txt", info.Filename, "from filename*")
	assert.Equal(t, a.CreatedAt.Truncate(time.Second), info.LastModified.UTC())

	var buf bytes.Buffer
	dinfo, err := e.c.Download(ctx, a.ID, &buf)
	require.NoError(t, err)
	assert.Equal(t, content, buf.Bytes())
	assert.Equal(t, info, dinfo)

	hinfo, err := e.c.Head(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, info, hinfo)

	missing := "01936f4e-8a6b-7cc2-9f1e-2b7c9d5e4a10"
	_, _, err = e.c.Open(ctx, missing)
	requireCode(t, err, http.StatusNotFound, client.CodeNotFound, attachment.ErrNotFound)
	_, err = e.c.Download(ctx, missing, io.Discard)
	requireCode(t, err, http.StatusNotFound, client.CodeNotFound, attachment.ErrNotFound)
	// HEAD has no body: the code comes from the status.
	ce := requireCodeOf(t, func() error { _, err := e.c.Head(ctx, missing); return err }, http.StatusNotFound, attachment.ErrNotFound)
	assert.Empty(t, ce.Code)
	// An ID with characters that need escaping stays one path segment.
	_, err = e.c.Get(ctx, "a/../b?c#d")
	requireCode(t, err, http.StatusNotFound, client.CodeNotFound, attachment.ErrNotFound)
}

// requireCodeOf checks an error without a problem body.
func requireCodeOf(t *testing.T, f func() error, status int, sentinel error) *client.Error {
	t.Helper()
	err := f()
	var ce *client.Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, status, ce.Status)
	assert.ErrorIs(t, err, sentinel)
	return ce
}

func TestOpenRange(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	content := make([]byte, 10_000)
	for i := range content {
		content[i] = byte(i * 7)
	}
	a := e.upload("r.bin", content, nil)
	size := int64(len(content))

	for _, tc := range []struct{ off, n, wantOff, wantLen int64 }{
		{0, 1, 0, 1},
		{1234, 4321, 1234, 4321},
		{9_999, 1, 9_999, 1},
		{9_000, 5_000, 9_000, 1_000}, // past the end: shorter
		{5_000, -1, 5_000, 5_000},    // to the end
		{0, -1, 0, size},
	} {
		body, info, err := e.c.OpenRange(ctx, a.ID, tc.off, tc.n)
		require.NoError(t, err, "%+v", tc)
		got := readAll(t, body)
		assert.Equal(t, content[tc.wantOff:tc.wantOff+tc.wantLen], got, "%+v", tc)
		assert.Equal(t, tc.wantOff, info.Offset)
		assert.Equal(t, tc.wantLen, info.Length)
		assert.Equal(t, size, info.Size, "the whole content's size")
	}
	reqs := e.requests()
	assert.Equal(t, "bytes=1234-5554", reqs[2].header.Get("Range"))

	// At or beyond the end: 416.
	for _, off := range []int64{size, size + 100} {
		_, _, err := e.c.OpenRange(ctx, a.ID, off, 10)
		ce := requireCode(t, err, http.StatusRequestedRangeNotSatisfiable, client.CodeBadRequest, attachment.ErrInvalid)
		assert.True(t, client.IsStatus(ce, http.StatusRequestedRangeNotSatisfiable))
	}
	_, _, err := e.c.OpenRange(ctx, a.ID, -1, 10)
	assert.Error(t, err)
	body, info, err := e.c.OpenRange(ctx, a.ID, 5, 0)
	require.NoError(t, err)
	assert.Empty(t, readAll(t, body))
	assert.Equal(t, size, info.Size)
	_, _, err = e.c.OpenRange(ctx, "01936f4e-8a6b-7cc2-9f1e-2b7c9d5e4a10", 0, 10)
	assert.ErrorIs(t, err, attachment.ErrNotFound)

	// Empty content, which the server serves whole whatever the range.
	empty := e.upload("empty", nil, nil)
	body, info, err = e.c.OpenRange(ctx, empty.ID, 0, 10)
	require.NoError(t, err)
	assert.Empty(t, readAll(t, body))
	assert.Equal(t, int64(0), info.Size)
	_, _, err = e.c.OpenRange(ctx, empty.ID, 1, 10)
	assert.True(t, client.IsStatus(err, http.StatusRequestedRangeNotSatisfiable), "%v", err)
}

func TestReaderAt(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	// A zip file read through the ReaderAt, as archive/zip reads: from the
	// end, then at the entries' offsets.
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	files := map[string][]byte{"a.txt": bytes.Repeat([]byte("a"), 5000), "b/c.txt": []byte("cee")}
	for name, b := range files {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = w.Write(b)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	a := e.upload("x.zip", zbuf.Bytes(), nil)

	ra, err := e.c.NewReaderAt(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(zbuf.Len()), ra.Size())
	assert.Equal(t, `"`+a.SHA256+`"`, ra.Info().ETag)
	zr, err := zip.NewReader(ra, ra.Size())
	require.NoError(t, err)
	require.Len(t, zr.File, 2)
	for _, f := range zr.File {
		rc, err := f.Open()
		require.NoError(t, err)
		assert.Equal(t, files[f.Name], readAll(t, rc))
	}

	// io.ReaderAt's contract at the end.
	p := make([]byte, 10)
	n, err := ra.ReadAt(p, ra.Size()-4)
	assert.Equal(t, 4, n)
	assert.ErrorIs(t, err, io.EOF)
	assert.Equal(t, zbuf.Bytes()[zbuf.Len()-4:], p[:4])
	n, err = ra.ReadAt(p, ra.Size())
	assert.Equal(t, 0, n)
	assert.ErrorIs(t, err, io.EOF)
	n, err = ra.ReadAt(p, 3)
	assert.Equal(t, 10, n)
	require.NoError(t, err)
	assert.Equal(t, zbuf.Bytes()[3:13], p)
	_, err = ra.ReadAt(p, -1)
	assert.Error(t, err)
	n, err = io.NewSectionReader(ra, 0, ra.Size()).Read(make([]byte, 0))
	assert.Zero(t, n)
	assert.NoError(t, err)

	// Deleted since: the error, not made-up bytes.
	require.NoError(t, e.c.Delete(ctx, a.ID, nil))
	_, err = ra.ReadAt(p, 0)
	assert.ErrorIs(t, err, attachment.ErrNotFound)
}

func TestThumbnail(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	img := e.upload("pic.png", pngBytes(t, 300, 200), nil)
	assert.Equal(t, prefix+"/"+img.ID+"/thumbnail", img.ThumbnailURL)

	for _, tc := range []struct{ size, w, h int }{{0, 256, 171}, {64, 64, 43}, {1024, 300, 200}} {
		body, info, err := e.c.Thumbnail(ctx, img.ID, tc.size)
		require.NoError(t, err)
		b := readAll(t, body)
		assert.Equal(t, int64(len(b)), info.Size)
		assert.Equal(t, "image/jpeg", info.ContentType)
		assert.NotEmpty(t, info.ETag)
		cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
		require.NoError(t, err)
		assert.Equal(t, "jpeg", format)
		assert.Equal(t, [2]int{tc.w, tc.h}, [2]int{cfg.Width, cfg.Height}, "size %d", tc.size)
	}

	_, _, err := e.c.Thumbnail(ctx, img.ID, 100)
	requireCode(t, err, http.StatusBadRequest, client.CodeInvalidSize, attachment.ErrInvalidSize)

	txt := e.upload("a.txt", []byte("not an image"), nil)
	_, _, err = e.c.Thumbnail(ctx, txt.ID, 0)
	assert.ErrorIs(t, err, attachment.ErrNoThumbnail)
	var ce *client.Error
	assert.NotErrorAs(t, err, &ce, "a 204 is no error answer")

	_, _, err = e.c.Thumbnail(ctx, "01936f4e-8a6b-7cc2-9f1e-2b7c9d5e4a10", 0)
	requireCode(t, err, http.StatusNotFound, client.CodeNotFound, attachment.ErrNotFound)
}

// Behind a proxy that ignores Range and drops Content-Length, ranges are
// cut out of the whole content by the client, still byte-exact.
func TestOpenRangeWithoutServerRanges(t *testing.T) {
	e := newEnv(t, &envOpts{wrap: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Del("Range")
			h.ServeHTTP(noLengthWriter{w}, r)
		})
	}})
	ctx := context.Background()
	content := make([]byte, 200_000)
	for i := range content {
		content[i] = byte(i % 253)
	}
	a := e.upload("big.bin", content, nil)

	body, info, err := e.c.OpenRange(ctx, a.ID, 1000, 500)
	require.NoError(t, err)
	assert.Equal(t, content[1000:1500], readAll(t, body))
	assert.Equal(t, int64(-1), info.Size)
	assert.Equal(t, [2]int64{1000, 500}, [2]int64{info.Offset, info.Length})

	body, info, err = e.c.OpenRange(ctx, a.ID, 150_000, -1)
	require.NoError(t, err)
	assert.Equal(t, content[150_000:], readAll(t, body))
	assert.Equal(t, int64(-1), info.Length)

	var buf bytes.Buffer
	_, err = e.c.Download(ctx, a.ID, &buf)
	require.NoError(t, err)
	assert.Equal(t, content, buf.Bytes())
}

// noLengthWriter drops Content-Length, so the answer is chunked.
type noLengthWriter struct{ http.ResponseWriter }

func (w noLengthWriter) WriteHeader(status int) {
	w.Header().Del("Content-Length")
	w.ResponseWriter.WriteHeader(status)
}

func (w noLengthWriter) Write(p []byte) (int, error) {
	w.Header().Del("Content-Length")
	return w.ResponseWriter.Write(p)
}
