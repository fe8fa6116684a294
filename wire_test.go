package attachment_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
	"github.com/attachkit/attachment/wire"
)

// The root package's and metadata's sentinels are package wire's, so
// errors.Is holds whichever layer's name a caller tests with.
func TestSentinelsAreWire(t *testing.T) {
	for name, pair := range map[string][2]error{
		"ErrNotFound":            {attachment.ErrNotFound, wire.ErrNotFound},
		"ErrReferenced":          {attachment.ErrReferenced, wire.ErrReferenced},
		"ErrConflict":            {attachment.ErrConflict, wire.ErrConflict},
		"ErrTooLarge":            {attachment.ErrTooLarge, wire.ErrTooLarge},
		"ErrTooManyFiles":        {attachment.ErrTooManyFiles, wire.ErrTooManyFiles},
		"ErrUnsupportedType":     {attachment.ErrUnsupportedType, wire.ErrUnsupportedType},
		"ErrChecksumMismatch":    {attachment.ErrChecksumMismatch, wire.ErrChecksumMismatch},
		"ErrInvalidFilename":     {attachment.ErrInvalidFilename, wire.ErrInvalidFilename},
		"ErrInvalid":             {attachment.ErrInvalid, wire.ErrInvalid},
		"ErrForbidden":           {attachment.ErrForbidden, wire.ErrForbidden},
		"ErrUnauthorized":        {attachment.ErrUnauthorized, wire.ErrUnauthorized},
		"ErrInvalidSize":         {attachment.ErrInvalidSize, wire.ErrInvalidSize},
		"ErrNoThumbnail":         {attachment.ErrNoThumbnail, wire.ErrNoThumbnail},
		"ErrUnavailable":         {attachment.ErrUnavailable, wire.ErrUnavailable},
		"metadata.ErrNotFound":   {metadata.ErrNotFound, wire.ErrNotFound},
		"metadata.ErrExists":     {metadata.ErrExists, wire.ErrConflict},
		"metadata.ErrReferenced": {metadata.ErrReferenced, wire.ErrReferenced},
	} {
		assert.Same(t, pair[1], pair[0], name)
	}
	for _, k := range wire.Kinds() {
		if k.Err != nil {
			assert.NotErrorIs(t, metadata.ErrClosed, k.Err)
		}
	}
	assert.Equal(t, wire.JobPending, metadata.JobPending)
	assert.Equal(t, wire.JobProcessing, metadata.JobProcessing)
}

// A Service's errors, whether made by the Service or by its store or
// content store, are package wire's sentinels.
func TestServiceErrorsAreWire(t *testing.T) {
	ctx := context.Background()
	svc, err := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(),
		&attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true}, MaxFileSize: 4})
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })

	_, err = svc.Get(ctx, "01936f4e-8a6b-7cc2-9f1e-2b7c9d5e4a10")
	assert.ErrorIs(t, err, wire.ErrNotFound)
	assert.ErrorIs(t, err, metadata.ErrNotFound)
	k, ok := wire.KindOfError(err)
	require.True(t, ok)
	assert.Equal(t, wire.CodeNotFound, k.Code)

	// The content store reports storage.ErrTooLarge; the Service reports
	// it as wire's.
	_, err = svc.Upload(ctx, nil, attachment.File{Name: "a.txt", Content: strings.NewReader("12345")})
	assert.ErrorIs(t, err, wire.ErrTooLarge)
	var e *attachment.Error
	require.ErrorAs(t, err, &e)
	assert.Same(t, wire.ErrTooLarge, e.Kind)

	atts, err := svc.Upload(ctx, nil, attachment.File{Name: "a.txt", Content: strings.NewReader("1")})
	require.NoError(t, err)
	a := atts[0]
	_, err = svc.AddRef(ctx, a.ID, "doc:1")
	require.NoError(t, err)
	err = svc.Delete(ctx, a.ID, nil)
	assert.ErrorIs(t, err, wire.ErrReferenced)
	assert.False(t, errors.Is(err, wire.ErrNotFound))
}
