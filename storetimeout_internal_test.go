package attachment

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
)

// hangingUploads is a memstore whose GetUpload waits for its context to
// end, to tell a bounded call from one passed through unbounded.
type hangingUploads struct{ *memstore.Store }

func (h hangingUploads) GetUpload(ctx context.Context, _, _ string) (*metadata.Upload, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// The store a Service keeps behind Options.StoreTimeout is still a
// metadata.Uploads (and a Scanner where the store is one), its calls reach
// the store and are bounded like every other call.
func TestTimedMetaKeepsUploads(t *testing.T) {
	mem := memstore.New()
	cases := map[string]struct {
		meta    metadata.Store
		scanner bool
	}{
		"ScannerAndUploads": {mem, true},
		"UploadsOnly": {struct {
			metadata.Store
			metadata.Uploads
		}{mem, mem}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			svc, err := New(storage.New(memblob.OpenBucket(nil)), tc.meta,
				&Options{StoreTimeout: time.Minute, Processing: ProcessingOptions{NoImageProcessing: true}})
			require.NoError(t, err)
			defer svc.Close()
			require.NotEqual(t, tc.meta, svc.core.meta, "the store is wrapped")
			up, ok := svc.core.meta.(metadata.Uploads)
			require.True(t, ok, "%T lost metadata.Uploads", svc.core.meta)
			_, ok = svc.core.meta.(metadata.Scanner)
			require.Equal(t, tc.scanner, ok, "%T as a metadata.Scanner", svc.core.meta)

			u, err := up.CreateUpload(t.Context(), &metadata.Upload{ID: "u-" + name, Tenant: "t1", Length: -1})
			require.NoError(t, err)
			got, err := mem.GetUpload(t.Context(), "t1", u.ID)
			require.NoError(t, err, "the wrapper's call reached the store")
			require.Equal(t, int64(1), got.Version)
			require.NoError(t, up.DeleteUpload(t.Context(), "t1", u.ID, 1))
		})
	}

	// Bounded: a hanging call ends at StoreTimeout as unavailable.
	timed := timedMeta(hangingUploads{memstore.New()}, 50*time.Millisecond)
	_, err := timed.(metadata.Uploads).GetUpload(t.Context(), "t1", "x")
	require.ErrorIs(t, err, ErrUnavailable)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}
