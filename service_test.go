package attachment_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/storage"
)

func newService(t *testing.T, opts *attachment.Options) (*attachment.Service, *env) {
	t.Helper()
	e := newEnv(t, backends()[0], &envOpts{svc: opts})
	return e.svc, e
}

func TestServiceCommitSurvivesCancel(t *testing.T) {
	svc, e := newService(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	b, err := svc.NewBatch(nil)
	require.NoError(t, err)
	require.NoError(t, b.Add(ctx, attachment.File{Name: "a.txt", Content: strings.NewReader("stored")}))
	cancel() // the client hangs up once the content is stored
	atts, err := b.Commit(ctx)
	require.NoError(t, err)
	got, err := svc.Get(context.Background(), atts[0].ID)
	require.NoError(t, err)
	assert.Equal(t, "a.txt", got.Filename)
	assert.Len(t, e.keys(), 1)
}

func TestServiceBatchAbort(t *testing.T) {
	svc, e := newService(t, nil)
	ctx := context.Background()
	b, err := svc.NewBatch(&attachment.UploadOptions{Owner: "o"})
	require.NoError(t, err)
	require.NoError(t, b.Add(ctx, attachment.File{Name: "a.txt", Content: strings.NewReader("1")}))
	require.NoError(t, b.Add(ctx, attachment.File{Name: "b.txt", Content: strings.NewReader("2")}))
	assert.Equal(t, 2, b.Len())
	assert.Len(t, e.keys(), 2, "content is stored as it is added")
	assert.Zero(t, e.count(), "but not visible before Commit")
	b.Abort(ctx)
	e.requireNothingStored()
	_, err = b.Commit(ctx)
	assert.Error(t, err, "an aborted batch cannot be committed")
}

func TestServiceUploadErrorsAreSentinels(t *testing.T) {
	svc, e := newService(t, &attachment.Options{MaxFileSize: 10, AllowedTypes: []string{"text/plain", "image/"}})
	ctx := context.Background()
	cases := []struct {
		file attachment.File
		want error
	}{
		{attachment.File{Name: "big.txt", Content: strings.NewReader(strings.Repeat("x", 11))}, attachment.ErrTooLarge},
		{attachment.File{Name: "a.pdf", Content: strings.NewReader("%PDF-1.4\n")}, attachment.ErrUnsupportedType},
		{attachment.File{Name: "/", Content: strings.NewReader("x")}, attachment.ErrInvalidFilename},
		{attachment.File{Name: "a.txt", Content: strings.NewReader("x"), SHA256: make([]byte, 32)}, attachment.ErrChecksumMismatch},
		{attachment.File{Name: "a.txt", Content: io.MultiReader(strings.NewReader("x"), errReader{errors.New("disk on fire")})}, nil},
	}
	for _, tc := range cases {
		_, err := svc.Upload(ctx, nil, attachment.File{Name: "first.txt", Content: strings.NewReader("ok")}, tc.file)
		require.Error(t, err)
		if tc.want != nil {
			assert.ErrorIs(t, err, tc.want)
			var ae *attachment.Error
			assert.ErrorAs(t, err, &ae, "input errors carry a client-safe detail")
		}
		e.requireNothingStored()
	}
	_, err := svc.Upload(ctx, nil)
	assert.ErrorIs(t, err, attachment.ErrInvalid, "an upload needs a file")
	_, err = svc.Upload(ctx, &attachment.UploadOptions{Labels: map[string]string{"": "x"}}, attachment.File{Name: "a.txt", Content: strings.NewReader("x")})
	assert.ErrorIs(t, err, attachment.ErrInvalid)
}

func TestServiceTypeTieBreak(t *testing.T) {
	svc, _ := newService(t, nil)
	ctx := context.Background()
	cases := []struct {
		content, claim, want string
	}{
		{"\x89PNG\r\n\x1a\n" + strings.Repeat("\x00", 40), "text/html", "image/png"}, // detection wins
		{"plain words", "text/markdown", "text/markdown"},                            // tie-break for text/plain
		{"\x00\x01\x02\x03binary", "application/x-custom", "application/x-custom"},   // tie-break for octet-stream
		{"\x00\x01\x02\x03binary", "not a type", "application/octet-stream"},         // invalid claim ignored
		{"plain words", "", "text/plain; charset=utf-8"},
		{"plain words", "application/x-www-form-urlencoded", "text/plain; charset=utf-8"}, // curl's default
		{"plain words", "multipart/form-data; boundary=x", "text/plain; charset=utf-8"},
	}
	for _, tc := range cases {
		atts, err := svc.Upload(ctx, nil, attachment.File{Name: "f", Content: strings.NewReader(tc.content), ContentType: tc.claim})
		require.NoError(t, err)
		assert.Equal(t, tc.want, atts[0].ContentType, "claim %q", tc.claim)
	}
}

func TestServiceAllowedTypesNeverTrustClaims(t *testing.T) {
	svc, e := newService(t, &attachment.Options{AllowedTypes: []string{"image/*"}})
	_, err := svc.Upload(context.Background(), nil, attachment.File{Name: "x.png", Content: strings.NewReader("\x00\x01 not an image"), ContentType: "image/png"})
	assert.ErrorIs(t, err, attachment.ErrUnsupportedType)
	e.requireNothingStored()
}

func TestServiceAll(t *testing.T) {
	svc, _ := newService(t, nil)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		_, err := svc.Upload(ctx, nil, attachment.File{Name: "f.txt", Content: strings.NewReader("x")})
		require.NoError(t, err)
	}
	n := 0
	for a, err := range svc.All(ctx, &attachment.ListOptions{Limit: 2}) {
		require.NoError(t, err)
		require.NotNil(t, a)
		n++
	}
	assert.Equal(t, 5, n)
	for _, err := range svc.All(ctx, &attachment.ListOptions{Cursor: "bad!"}) {
		assert.ErrorIs(t, err, attachment.ErrInvalid)
	}
}

func TestNewValidatesOptions(t *testing.T) {
	e := newEnv(t, backends()[1], nil)
	content := storage.New(e.bucket)
	for _, o := range []attachment.Options{
		{AllowedTypes: []string{"not a type"}},
		{AllowedTypes: []string{""}},
		{MaxFiles: -2},
	} {
		_, err := attachment.New(content, e.meta, &o)
		assert.Error(t, err, "%+v", o)
	}
	_, err := attachment.New(nil, e.meta, nil)
	assert.Error(t, err)
	svc, err := attachment.New(content, e.meta, &attachment.Options{AllowedTypes: []string{" Image/* ", "application/pdf"}})
	require.NoError(t, err)
	assert.Equal(t, int64(attachment.DefaultMaxFileSize), svc.Options().MaxFileSize)
	assert.Equal(t, []string{"image/", "application/pdf"}, svc.Options().AllowedTypes)
}

// A reader that fails with io.ErrUnexpectedEOF (a truncated stream) is a
// failure, not the end of the content, however early it fails.
func TestServiceTruncatedReaderIsNotEOF(t *testing.T) {
	svc, e := newService(t, nil)
	for _, at := range []int{0, 10, 5000, 600 << 10} {
		r := io.MultiReader(strings.NewReader(strings.Repeat("a", at)), errReader{io.ErrUnexpectedEOF})
		_, err := svc.Upload(context.Background(), nil, attachment.File{Name: "t.txt", Content: r})
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "failing after %d bytes", at)
		e.requireNothingStored()
	}
}
