package attachment_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
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

// resumableBackends are the backends the resumable engine's tests run on:
// every one (s3+postgres when its servers are set).
func resumableBackends() []backend { return backends() }

// pdfBytes is n bytes that detect as a PDF.
func pdfBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	copy(b, "%PDF-1.4\n")
	return b
}

// appendAll appends data from offset off in pieces of the sizes given (the
// last one takes the rest) and returns the last answer.
func appendAll(t *testing.T, svc *attachment.Service, id, by string, data []byte, off int64, sizes ...int) *attachment.UploadInfo {
	t.Helper()
	var info *attachment.UploadInfo
	rest := data[off:]
	for i := 0; len(rest) > 0 || i == 0; i++ {
		n := len(rest)
		if i < len(sizes) && sizes[i] < n {
			n = sizes[i]
		}
		var err error
		info, err = svc.AppendUpload(t.Context(), id, by, &attachment.AppendRequest{Offset: off, Body: bytes.NewReader(rest[:n]), SetLength: -1})
		require.NoError(t, err, "append at %d", off)
		off += int64(n)
		rest = rest[n:]
		if info.Attachment == nil {
			require.Equal(t, off, info.Offset)
		}
	}
	return info
}

func create(t *testing.T, svc *attachment.Service, name string, length int64, f func(*attachment.NewUpload)) *attachment.UploadInfo {
	t.Helper()
	nu := &attachment.NewUpload{File: attachment.File{Name: name}, Length: length, Options: attachment.UploadOptions{CreatedBy: "alice"}}
	if f != nil {
		f(nu)
	}
	info, err := svc.CreateUpload(t.Context(), nu)
	require.NoError(t, err)
	return info
}

// requireNothing checks that the bucket holds no key and the store no
// record and no session of id.
func (m *maintEnv) requireNothing(id string) {
	m.t.Helper()
	keys, err := m.st.bucket.List(nil).Next(m.t.Context())
	if err != io.EOF {
		require.NoError(m.t, err)
		m.t.Fatalf("the bucket holds %s", keys.Key)
	}
	_, err = m.svc.Get(m.t.Context(), id)
	require.ErrorIs(m.t, err, attachment.ErrNotFound)
	_, err = m.st.meta.(metadata.Uploads).LookupUpload(m.t.Context(), id)
	require.ErrorIs(m.t, err, metadata.ErrNotFound, "session left")
	if m.st.s3 != nil {
		require.Empty(m.t, m.st.s3.PendingUploads(m.t), "multipart uploads left pending")
	}
}

// An upload appended in pieces of odd sizes commits a record byte-exact,
// with its SHA-256 and detected type, under the upload's ID, which before
// the last byte is no attachment.
func TestResumableUploadCommitsByteExact(t *testing.T) {
	for _, be := range resumableBackends() {
		t.Run(be.name, func(t *testing.T) {
			m := newMaintEnv(t, be, nil)
			require.True(t, m.svc.ResumableSupported())
			data := pdfBytes(t, 20_011)
			sum := sha256.Sum256(data)
			info := create(t, m.svc, "../report.pdf", int64(len(data)), func(nu *attachment.NewUpload) {
				nu.File.SHA256 = sum[:]
				nu.Options.Owner = "doc:1"
				nu.Options.Labels = map[string]string{"k": "v"}
				nu.Info = map[string]string{"dialect": "tus"}
			})
			assert.Equal(t, int64(0), info.Offset)
			assert.Equal(t, int64(len(data)), info.Length)
			assert.Equal(t, map[string]string{"dialect": "tus"}, info.Info)
			assert.WithinDuration(t, m.clock.now().Add(attachment.DefaultUploadExpiry), info.ExpiresAt, time.Minute)

			part := appendAll(t, m.svc, info.ID, "alice", data[:4001], 0, 1, 7, 1000, 2993)
			assert.Nil(t, part.Attachment)
			_, err := m.svc.Get(t.Context(), info.ID)
			require.ErrorIs(t, err, attachment.ErrNotFound, "an incomplete upload is no attachment")
			got, err := m.svc.GetUpload(t.Context(), info.ID, "alice")
			require.NoError(t, err)
			assert.Equal(t, int64(4001), got.Offset)
			_, err = m.svc.GetUpload(t.Context(), info.ID, "bob")
			require.ErrorIs(t, err, attachment.ErrNotFound, "another uploader's")
			_, err = m.svc.ForTenant("other").GetUpload(t.Context(), info.ID, "alice")
			require.ErrorIs(t, err, attachment.ErrNotFound, "another tenant's")
			n := 0
			for _, err := range m.svc.All(t.Context(), nil) {
				require.NoError(t, err)
				n++
			}
			assert.Zero(t, n, "nothing listed")

			done := appendAll(t, m.svc, info.ID, "alice", data, 4001, 5003, 9)
			require.NotNil(t, done.Attachment)
			a := done.Attachment
			assert.Equal(t, info.ID, a.ID)
			assert.Equal(t, "report.pdf", a.Filename)
			assert.Equal(t, "application/pdf", a.ContentType)
			assert.Equal(t, int64(len(data)), a.Size)
			assert.Equal(t, hex.EncodeToString(sum[:]), a.SHA256)
			assert.Equal(t, "doc:1", a.Owner)
			assert.Equal(t, map[string]string{"k": "v"}, a.Labels)
			assert.Equal(t, "alice", a.CreatedBy)
			m.requireIntact(a, data)
			keys := listKeys(t, m)
			assert.Equal(t, []string{storage.ContentKey(a.ID)}, keys, "nothing left under uploads/")

			// The upload's state now is its attachment's.
			got, err = m.svc.GetUpload(t.Context(), info.ID, "alice")
			require.NoError(t, err)
			require.NotNil(t, got.Attachment)
			assert.Equal(t, got.Length, got.Offset)
		})
	}
}

func listKeys(t *testing.T, m *maintEnv) []string {
	t.Helper()
	var keys []string
	it := m.st.bucket.List(nil)
	for {
		obj, err := it.Next(t.Context())
		if err == io.EOF {
			return keys
		}
		require.NoError(t, err)
		keys = append(keys, obj.Key)
	}
}

// failingReader gives r's bytes, then fails as a dropped connection does.
type failingReader struct{ r io.Reader }

func (f failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

// A body cut off keeps what it brought; a fresh Service over the same
// stores (a restart) resumes from GetUpload's offset.
func TestResumableResumesAfterACrash(t *testing.T) {
	for _, be := range resumableBackends() {
		t.Run(be.name, func(t *testing.T) {
			m := newMaintEnv(t, be, &attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true}})
			img := pngBytes(t, 300, 200)
			cut := len(img) / 2
			require.Greater(t, cut, 100)
			info := create(t, m.svc, "a.png", int64(len(img)), nil)
			appendAll(t, m.svc, info.ID, "alice", img[:100], 0)
			_, err := m.svc.AppendUpload(t.Context(), info.ID, "alice", &attachment.AppendRequest{
				Offset: 100, Body: failingReader{bytes.NewReader(img[100:cut])}, SetLength: -1,
			})
			require.ErrorIs(t, err, io.ErrUnexpectedEOF)
			require.NoError(t, m.svc.Close())

			svc2 := m.clock.service(t, m.st.contentStore(), m.st.meta, nil)
			got, err := svc2.GetUpload(t.Context(), info.ID, "alice")
			require.NoError(t, err)
			require.Equal(t, int64(cut), got.Offset, "the prefix read before the failure is kept")
			done := appendAll(t, svc2, info.ID, "alice", img, got.Offset, 99)
			require.NotNil(t, done.Attachment)
			assert.Equal(t, "image/png", done.Attachment.ContentType)
			assert.Equal(t, 300, done.Attachment.Width, "dimensions as every upload has them")
			assert.Equal(t, 200, done.Attachment.Height)
			m.svc = svc2
			m.requireIntact(done.Attachment, img)
		})
	}
}

// An append at another offset than the upload's changes nothing.
func TestResumableOffsetMismatch(t *testing.T) {
	for _, be := range resumableBackends() {
		t.Run(be.name, func(t *testing.T) {
			m := newMaintEnv(t, be, nil)
			data := pdfBytes(t, 100)
			info := create(t, m.svc, "a.pdf", 100, nil)
			appendAll(t, m.svc, info.ID, "alice", data[:10], 0)
			before := listKeys(t, m)
			_, err := m.svc.AppendUpload(t.Context(), info.ID, "alice", &attachment.AppendRequest{Offset: 5, Body: bytes.NewReader(data[5:]), SetLength: -1})
			require.ErrorIs(t, err, attachment.ErrOffsetMismatch)
			var oe *attachment.OffsetError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, attachment.OffsetError{Expected: 10, Provided: 5}, *oe)
			_, err = m.svc.AppendUpload(t.Context(), info.ID, "alice", &attachment.AppendRequest{Offset: 10, Body: bytes.NewReader(nil), SetLength: 99})
			require.ErrorIs(t, err, attachment.ErrInvalid, "another length than the upload's")
			got, err := m.svc.GetUpload(t.Context(), info.ID, "alice")
			require.NoError(t, err)
			assert.Equal(t, int64(10), got.Offset)
			assert.Equal(t, before, listKeys(t, m))
			done := appendAll(t, m.svc, info.ID, "alice", data, 10)
			require.NotNil(t, done.Attachment)
			m.requireIntact(done.Attachment, data)
		})
	}
}

// A declared length over MaxFileSize is refused at creation, before any
// byte; so is one declared later, and bytes past the limit.
func TestResumableTooLarge(t *testing.T) {
	for _, be := range resumableBackends() {
		t.Run(be.name, func(t *testing.T) {
			m := newMaintEnv(t, be, &attachment.Options{MaxFileSize: 100})
			_, err := m.svc.CreateUpload(t.Context(), &attachment.NewUpload{File: attachment.File{Name: "a"}, Length: 101})
			require.ErrorIs(t, err, attachment.ErrTooLarge)
			_, err = m.svc.CreateUpload(t.Context(), &attachment.NewUpload{File: attachment.File{Name: ".."}, Length: 1})
			require.ErrorIs(t, err, attachment.ErrInvalidFilename)
			_, err = m.svc.CreateUpload(t.Context(), &attachment.NewUpload{File: attachment.File{Name: "a"}, Length: 1, Options: attachment.UploadOptions{Labels: map[string]string{"": "x"}}})
			require.ErrorIs(t, err, attachment.ErrInvalid)

			info := create(t, m.svc, "a.txt", -1, nil)
			_, err = m.svc.AppendUpload(t.Context(), info.ID, "alice", &attachment.AppendRequest{Body: bytes.NewReader(nil), SetLength: 101})
			require.ErrorIs(t, err, attachment.ErrTooLarge)
			appendAll(t, m.svc, info.ID, "alice", bytes.Repeat([]byte("x"), 60), 0)
			_, err = m.svc.AppendUpload(t.Context(), info.ID, "alice", &attachment.AppendRequest{Offset: 60, Body: bytes.NewReader(bytes.Repeat([]byte("y"), 41)), SetLength: -1})
			require.ErrorIs(t, err, attachment.ErrTooLarge)
			got, err := m.svc.GetUpload(t.Context(), info.ID, "alice")
			require.NoError(t, err)
			assert.Equal(t, int64(60), got.Offset, "the refused append kept nothing")

			require.NoError(t, m.svc.TerminateUpload(t.Context(), info.ID, "alice"))
			m.requireNothing(info.ID)
		})
	}
}

// A deferred length is declared by a later append (SetLength), or by the
// last append (Complete).
func TestResumableDeferredLength(t *testing.T) {
	for _, be := range resumableBackends() {
		t.Run(be.name, func(t *testing.T) {
			m := newMaintEnv(t, be, nil)
			data := []byte("hello, resumable world\n")
			for _, complete := range []bool{false, true} {
				info := create(t, m.svc, "a.txt", -1, nil)
				assert.Equal(t, int64(-1), info.Length)
				got0, err := m.svc.AppendUpload(t.Context(), info.ID, "alice", &attachment.AppendRequest{})
				require.NoError(t, err, "the zero AppendRequest appends nothing and declares nothing")
				assert.Equal(t, int64(-1), got0.Length)
				got := appendAll(t, m.svc, info.ID, "alice", data[:5], 0)
				assert.Equal(t, int64(-1), got.Length)
				req := &attachment.AppendRequest{Offset: 5, Body: bytes.NewReader(data[5:]), SetLength: int64(len(data))}
				if complete {
					req.SetLength, req.Complete = -1, true
				}
				done, err := m.svc.AppendUpload(t.Context(), info.ID, "alice", req)
				require.NoError(t, err)
				require.NotNil(t, done.Attachment)
				assert.Equal(t, "text/plain; charset=utf-8", done.Attachment.ContentType)
				m.requireIntact(done.Attachment, data)
			}
		})
	}
}

// An upload of no bytes is committed at its creation.
func TestResumableEmptyUpload(t *testing.T) {
	for _, be := range resumableBackends() {
		t.Run(be.name, func(t *testing.T) {
			m := newMaintEnv(t, be, nil)
			info := create(t, m.svc, "empty.bin", 0, nil)
			require.NotNil(t, info.Attachment)
			empty := sha256.Sum256(nil)
			assert.Equal(t, hex.EncodeToString(empty[:]), info.Attachment.SHA256)
			assert.Equal(t, int64(0), info.Attachment.Size)
			m.requireIntact(info.Attachment, []byte{})

			deferred := create(t, m.svc, "empty2.bin", -1, nil)
			done, err := m.svc.AppendUpload(t.Context(), deferred.ID, "alice", &attachment.AppendRequest{Complete: true})
			require.NoError(t, err)
			require.NotNil(t, done.Attachment, "a deferred upload of no bytes ends with Complete")
			assert.Equal(t, int64(0), done.Attachment.Size)
			m.requireIntact(done.Attachment, []byte{})
		})
	}
}

// A failed final check (a digest, the commit checks, AllowedTypes)
// leaves nothing stored.
func TestResumableFailedFinalCheckStoresNothing(t *testing.T) {
	refuse := errors.New("refused by the host")
	for _, be := range resumableBackends() {
		t.Run(be.name, func(t *testing.T) {
			m := newMaintEnv(t, be, &attachment.Options{AllowedTypes: []string{"application/pdf", "text/plain"}})
			data := pdfBytes(t, 5000)
			wrong := sha256.Sum256([]byte("other"))
			info := create(t, m.svc, "a.pdf", int64(len(data)), func(nu *attachment.NewUpload) { nu.File.SHA256 = wrong[:] })
			appendAll(t, m.svc, info.ID, "alice", data[:3000], 0)
			_, err := m.svc.AppendUpload(t.Context(), info.ID, "alice", &attachment.AppendRequest{Offset: 3000, Body: bytes.NewReader(data[3000:]), SetLength: -1})
			require.ErrorIs(t, err, attachment.ErrChecksumMismatch)
			m.requireNothing(info.ID)

			var asked *attachment.Attachment
			checked := m.svc.WithCommitCheck(func(_ context.Context, op attachment.Operation, before, after *attachment.Attachment) error {
				asked = after
				return refuse
			})
			info = create(t, checked, "a.pdf", int64(len(data)), nil)
			_, err = checked.AppendUpload(t.Context(), info.ID, "alice", &attachment.AppendRequest{Body: bytes.NewReader(data), SetLength: -1})
			require.ErrorIs(t, err, refuse)
			require.NotNil(t, asked)
			assert.Equal(t, info.ID, asked.ID)
			assert.Equal(t, "application/pdf", asked.ContentType)
			m.requireNothing(info.ID)

			png := pngBytes(t, 40, 40)
			info = create(t, m.svc, "a.png", int64(len(png)), nil)
			_, err = m.svc.AppendUpload(t.Context(), info.ID, "alice", &attachment.AppendRequest{Body: bytes.NewReader(png), SetLength: -1})
			require.ErrorIs(t, err, attachment.ErrUnsupportedType)
			m.requireNothing(info.ID)
		})
	}
}

// A terminated upload is gone with its bytes: its ID is not found.
func TestResumableTerminate(t *testing.T) {
	for _, be := range resumableBackends() {
		t.Run(be.name, func(t *testing.T) {
			m := newMaintEnv(t, be, nil)
			data := pdfBytes(t, 5000)
			info := create(t, m.svc, "a.pdf", int64(len(data)), nil)
			appendAll(t, m.svc, info.ID, "alice", data[:3333], 0, 1000)
			require.ErrorIs(t, m.svc.TerminateUpload(t.Context(), info.ID, "bob"), attachment.ErrNotFound)
			require.NoError(t, m.svc.TerminateUpload(t.Context(), info.ID, "alice"))
			_, err := m.svc.GetUpload(t.Context(), info.ID, "alice")
			require.ErrorIs(t, err, attachment.ErrNotFound)
			_, err = m.svc.AppendUpload(t.Context(), info.ID, "alice", &attachment.AppendRequest{Offset: 3333, Body: bytes.NewReader(data[3333:]), SetLength: -1})
			require.ErrorIs(t, err, attachment.ErrNotFound)
			m.requireNothing(info.ID)
		})
	}
}

// Of two appends at once to one upload, the second is refused with
// ErrLocked while the first reads; the first completes.
func TestResumableConcurrentAppendsAreLocked(t *testing.T) {
	for _, be := range resumableBackends() {
		t.Run(be.name, func(t *testing.T) {
			m := newMaintEnv(t, be, nil)
			data := pdfBytes(t, 10_000)
			info := create(t, m.svc, "a.pdf", int64(len(data)), nil)
			pr, pw := io.Pipe()
			var wg sync.WaitGroup
			var first *attachment.UploadInfo
			var firstErr error
			wg.Add(1)
			go func() {
				defer wg.Done()
				first, firstErr = m.svc.AppendUpload(context.Background(), info.ID, "alice", &attachment.AppendRequest{Body: pr, SetLength: -1})
			}()
			_, err := pw.Write(data[:4000]) // returns once the first append reads: it holds the lease
			require.NoError(t, err)
			_, err = m.svc.AppendUpload(t.Context(), info.ID, "alice", &attachment.AppendRequest{Body: bytes.NewReader(data), SetLength: -1})
			require.ErrorIs(t, err, attachment.ErrLocked)
			var le *attachment.LockedError
			require.ErrorAs(t, err, &le)
			assert.True(t, le.Until.After(m.clock.now()))
			_, err = pw.Write(data[4000:])
			require.NoError(t, err)
			require.NoError(t, pw.Close())
			wg.Wait()
			require.NoError(t, firstErr)
			require.NotNil(t, first.Attachment)
			m.requireIntact(first.Attachment, data)
		})
	}
}

// Maintain removes an expired upload's session and bytes, keeps a live
// one's (its bytes and a finishing one's content alike), and removes the
// keys under uploads/ of IDs without a session once old enough.
func TestMaintainExpiredAndOrphanUploads(t *testing.T) {
	for _, be := range resumableBackends() {
		t.Run(be.name, func(t *testing.T) {
			const expiry = 48 * time.Hour
			m := newMaintEnv(t, be, &attachment.Options{UploadExpiry: expiry})
			up := m.st.meta.(metadata.Uploads)
			data := pdfBytes(t, 9000)
			old := create(t, m.svc, "old.pdf", int64(len(data)), nil)
			appendAll(t, m.svc, old.ID, "alice", data[:5000], 0, 2500)
			m.clock.advance(expiry + time.Hour)
			_, err := m.svc.GetUpload(t.Context(), old.ID, "alice")
			require.ErrorIs(t, err, attachment.ErrGone, "expired, not removed yet")

			live := create(t, m.svc, "live.pdf", int64(len(data)), nil)
			appendAll(t, m.svc, live.ID, "alice", data[:4000], 0)
			// A live session whose bytes are all in and whose commit was
			// cut off after its content was stored.
			finishing := "01936f4e-8a6b-7cc2-9f1e-2b7c9d5e4a10"
			now := m.clock.now().UTC()
			_, err = up.CreateUpload(t.Context(), &metadata.Upload{
				ID: finishing, CreatedBy: "alice", Length: 4, Offset: 4, Finishing: true, Info: []byte(`{"name":"f.txt"}`),
				ExpiresAt: now.Add(expiry), CreatedAt: now, UpdatedAt: now,
			})
			require.NoError(t, err)
			m.write(storage.ContentKey(finishing), []byte("abcd"))
			// Bytes of an upload whose session is gone.
			lost := "01936f4e-8a6b-7cc2-9f1e-2b7c9d5e4a11"
			m.write(storage.UploadPrefix(lost)+"data", []byte("left over"))

			// Older than OrphanGrace, but live.
			m.clock.advance(attachment.DefaultOrphanGrace + time.Minute)
			rep := m.maintain()
			assert.Equal(t, 1, rep.ExpiredUploads)
			assert.Equal(t, 1, rep.OrphanUploads)
			assert.Zero(t, rep.OrphanContent, "a live session's content is no orphan")
			assert.Zero(t, rep.Failed)
			assert.True(t, m.exists(storage.ContentKey(finishing)))
			assert.False(t, m.exists(storage.UploadPrefix(lost)+"data"))
			_, err = up.LookupUpload(t.Context(), old.ID)
			require.ErrorIs(t, err, metadata.ErrNotFound)
			for _, k := range listKeys(t, m) {
				assert.NotContains(t, k, old.ID, "bytes of the expired upload")
			}
			got, err := m.svc.GetUpload(t.Context(), live.ID, "alice")
			require.NoError(t, err)
			done := appendAll(t, m.svc, live.ID, "alice", data, got.Offset)
			require.NotNil(t, done.Attachment)
			m.requireIntact(done.Attachment, data)

			// Once the finishing one expires too, its content goes with it.
			m.clock.advance(expiry)
			rep = m.maintain()
			assert.Equal(t, 1, rep.ExpiredUploads)
			assert.False(t, m.exists(storage.ContentKey(finishing)))
			assert.Equal(t, []string{storage.ContentKey(done.Attachment.ID)}, listKeys(t, m))
		})
	}
}

// A termination while an append reads leaves nothing behind: the append
// fails with ErrNotFound and removes what it wrote.
func TestResumableTerminateRacingAnAppend(t *testing.T) {
	for _, be := range resumableBackends() {
		t.Run(be.name, func(t *testing.T) {
			m := newMaintEnv(t, be, nil)
			data := pdfBytes(t, 10_000)
			info := create(t, m.svc, "a.pdf", int64(len(data)), nil)
			appendAll(t, m.svc, info.ID, "alice", data[:1000], 0)
			pr, pw := io.Pipe()
			errc := make(chan error, 1)
			go func() {
				_, err := m.svc.AppendUpload(context.Background(), info.ID, "alice", &attachment.AppendRequest{Offset: 1000, Body: pr, SetLength: -1})
				errc <- err
			}()
			_, err := pw.Write(data[1000:6000])
			require.NoError(t, err)
			require.NoError(t, m.svc.TerminateUpload(t.Context(), info.ID, "alice"))
			_, err = pw.Write(data[6000:])
			require.NoError(t, err)
			require.NoError(t, pw.Close())
			require.ErrorIs(t, <-errc, attachment.ErrNotFound)
			m.requireNothing(info.ID)
		})
	}
}

// A metadata store without upload sessions has no resumable uploads.
func TestResumableNeedsUploadSessions(t *testing.T) {
	plain := struct{ metadata.Store }{memstore.New()}
	svc, err := attachment.New(storage.New(memblob.OpenBucket(nil)), plain,
		&attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })
	assert.False(t, svc.ResumableSupported())
	_, err = svc.CreateUpload(t.Context(), &attachment.NewUpload{File: attachment.File{Name: "a"}, Length: 1})
	require.Error(t, err)
	_, err = svc.GetUpload(t.Context(), "01936f4e-8a6b-7cc2-9f1e-2b7c9d5e4a10", "")
	require.Error(t, err)
}

// failingComplete is a memstore whose CompleteUpload fails while fail is
// set, as a store outage at the commit does.
type failingComplete struct {
	*memstore.Store
	fail atomic.Bool
}

func (s *failingComplete) CompleteUpload(ctx context.Context, u *metadata.Upload, rec *metadata.Record) error {
	if s.fail.Load() {
		return fmt.Errorf("memstore: complete upload: %w", metadata.ErrUnavailable)
	}
	return s.Store.CompleteUpload(ctx, u, rec)
}

// A commit cut off after the last byte (the store down) leaves the upload
// finishing, never an attachment and never reported complete; the next
// GetUpload commits it.
func TestResumableCommitCutOffIsResumed(t *testing.T) {
	meta := &failingComplete{Store: memstore.New()}
	bucket := memblob.OpenBucket(nil)
	svc, err := attachment.New(storage.New(bucket), meta, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })
	data := pdfBytes(t, 6000)
	info := create(t, svc, "a.pdf", int64(len(data)), nil)
	meta.fail.Store(true)
	_, err = svc.AppendUpload(t.Context(), info.ID, "alice", &attachment.AppendRequest{Body: bytes.NewReader(data)})
	require.ErrorIs(t, err, attachment.ErrUnavailable)
	_, err = svc.Get(t.Context(), info.ID)
	require.ErrorIs(t, err, attachment.ErrNotFound, "not committed")
	_, err = svc.GetUpload(t.Context(), info.ID, "alice")
	require.ErrorIs(t, err, attachment.ErrUnavailable, "never reported complete before it is")

	meta.fail.Store(false)
	got, err := svc.GetUpload(t.Context(), info.ID, "alice")
	require.NoError(t, err)
	require.NotNil(t, got.Attachment)
	a, obj, err := svc.OpenContent(t.Context(), info.ID)
	require.NoError(t, err)
	defer obj.Close()
	b, err := io.ReadAll(obj)
	require.NoError(t, err)
	assert.Equal(t, data, b)
	assert.Equal(t, "application/pdf", a.ContentType)
}
