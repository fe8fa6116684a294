package attachment_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
)

// silentBody is a request body whose client went silent: Read blocks
// until more is written or Interrupt wakes it, as Handler.ReadStream's
// body does on a connection.
type silentBody struct {
	pr          *io.PipeReader
	pw          *io.PipeWriter
	interrupted chan struct{}
	once        sync.Once
}

func newSilentBody() *silentBody {
	pr, pw := io.Pipe()
	return &silentBody{pr: pr, pw: pw, interrupted: make(chan struct{})}
}

func (b *silentBody) Read(p []byte) (int, error) { return b.pr.Read(p) }

func (b *silentBody) Interrupt() {
	b.once.Do(func() {
		close(b.interrupted)
		_ = b.pr.CloseWithError(errors.New("read interrupted"))
	})
}

// A client whose connection went silent mid-append asks for the upload:
// the append holding it (in this Service, or in another on the same
// stores) is interrupted, keeps the bytes it read and lets go, and the
// offset returned is where the next append goes on to a byte-exact
// commit. The interrupted append fails with ErrLocked.
func TestResumableGetUploadInterruptsASilentAppend(t *testing.T) {
	for _, be := range resumableBackends() {
		for _, where := range []string{"same instance", "other instance"} {
			t.Run(be.name+"/"+where, func(t *testing.T) {
				m := newMaintEnv(t, be, nil)
				asker := m.svc
				if where == "other instance" {
					asker = m.clock.service(t, m.st.contentStore(), m.st.meta, nil)
				}
				data := pdfBytes(t, 20_000)
				info := create(t, m.svc, "a.pdf", int64(len(data)), nil)
				body := newSilentBody()
				var wg sync.WaitGroup
				var appendErr error
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, appendErr = m.svc.AppendUpload(t.Context(), info.ID, "alice", &attachment.AppendRequest{Body: body, SetLength: -1})
				}()
				_, err := body.pw.Write(data[:7000]) // returns once the append has read it
				require.NoError(t, err)

				got, err := asker.GetUpload(t.Context(), info.ID, "alice")
				require.NoError(t, err)
				assert.Equal(t, int64(7000), got.Offset, "the interrupted append kept what it read")
				select {
				case <-body.interrupted:
				default:
					t.Fatal("the body was not interrupted")
				}
				wg.Wait()
				require.ErrorIs(t, appendErr, attachment.ErrLocked)

				done := appendAll(t, asker, info.ID, "alice", data, got.Offset)
				require.NotNil(t, done.Attachment)
				m.requireIntact(done.Attachment, data)
			})
		}
	}
}

// A holder that cannot be woken (its body has no Interrupt and its Read
// is blocked) keeps the upload: GetUpload answers ErrLocked after its
// wait. Once the holder's read ends (the client hangs up), it keeps what
// it read and lets go, and the upload goes on from there.
func TestResumableGetUploadOfAStuckHolder(t *testing.T) {
	be := resumableBackends()[2] // mem+mem
	m := newMaintEnv(t, be, nil)
	data := pdfBytes(t, 5000)
	info := create(t, m.svc, "a.pdf", int64(len(data)), nil)
	pr, pw := io.Pipe() // no Interrupt: a Read blocked here cannot be woken
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = m.svc.AppendUpload(t.Context(), info.ID, "alice", &attachment.AppendRequest{Body: pr, SetLength: -1})
	}()
	_, err := pw.Write(data[:1000])
	require.NoError(t, err)
	_, err = m.svc.GetUpload(t.Context(), info.ID, "alice")
	var le *attachment.LockedError
	require.ErrorAs(t, err, &le)
	require.NoError(t, pw.CloseWithError(errors.New("client hung up")))
	wg.Wait()
	got, err := m.svc.GetUpload(t.Context(), info.ID, "alice")
	require.NoError(t, err)
	require.Equal(t, int64(1000), got.Offset)
	done := appendAll(t, m.svc, info.ID, "alice", data, got.Offset)
	require.NotNil(t, done.Attachment)
	m.requireIntact(done.Attachment, data)
}

// outageStore is a memstore whose upload sessions cannot be read or
// changed while down is set, as a metadata store outage.
type outageStore struct {
	*memstore.Store
	down atomic.Bool
}

func (s *outageStore) GetUpload(ctx context.Context, tenant, id string) (*metadata.Upload, error) {
	if s.down.Load() {
		return nil, fmt.Errorf("memstore: %w", metadata.ErrUnavailable)
	}
	return s.Store.GetUpload(ctx, tenant, id)
}

func (s *outageStore) UpdateUpload(ctx context.Context, u *metadata.Upload) (*metadata.Upload, error) {
	if s.down.Load() {
		return nil, fmt.Errorf("memstore: %w", metadata.ErrUnavailable)
	}
	return s.Store.UpdateUpload(ctx, u)
}

// An append that cannot renew its lease (the metadata store is out)
// stops before the lease runs out, so that no other request ever writes
// the upload's bytes beside it: it fails with ErrUnavailable and its bytes
// are rolled back. Once the lease has run out the upload goes on from its
// saved offset to a byte-exact file.
func TestResumableAppendStopsBeforeItsLeaseLapses(t *testing.T) {
	meta := &outageStore{Store: memstore.New()}
	c := &clock{}
	svc := c.service(t, storage.New(memblob.OpenBucket(nil)), meta, nil)
	data := pdfBytes(t, 9000)
	info, err := svc.CreateUpload(t.Context(), &attachment.NewUpload{
		File: attachment.File{Name: "a.pdf"}, Length: int64(len(data)), Options: attachment.UploadOptions{CreatedBy: "alice"},
	})
	require.NoError(t, err)
	body := newSilentBody()
	errc := make(chan error, 1)
	go func() {
		_, err := svc.AppendUpload(context.Background(), info.ID, "alice", &attachment.AppendRequest{Body: body, SetLength: -1})
		errc <- err
	}()
	_, err = body.pw.Write(data[:3000])
	require.NoError(t, err)
	meta.down.Store(true)
	c.advance(11 * time.Second) // past the lease but its last 5 s
	err = <-errc                // at the renewal's next look
	require.ErrorIs(t, err, attachment.ErrUnavailable)
	meta.down.Store(false)
	c.advance(10 * time.Second) // the lease runs out

	got, err := svc.GetUpload(t.Context(), info.ID, "alice")
	require.NoError(t, err)
	assert.Equal(t, int64(0), got.Offset)
	done := appendAll(t, svc, info.ID, "alice", data, 0)
	require.NotNil(t, done.Attachment)
	_, obj, err := svc.OpenContent(t.Context(), done.Attachment.ID)
	require.NoError(t, err)
	b, err := io.ReadAll(obj)
	obj.Close()
	require.NoError(t, err)
	assert.Equal(t, data, b)
}
