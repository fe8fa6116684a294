package attachment_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/internal/faultblob"
	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
)

// clock is a test's clock: the real time plus an offset the test moves.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }
func (c *clock) service(t *testing.T, content *storage.Store, meta metadata.Store, o *attachment.Options) *attachment.Service {
	t.Helper()
	svc, err := attachment.NewWithClock(content, meta, o, c.now)
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })
	return svc
}

// maintEnv is a service on a backend with a clock of the test's.
type maintEnv struct {
	t     *testing.T
	clock *clock
	st    stores
	svc   *attachment.Service
}

func newMaintEnv(t *testing.T, be backend, o *attachment.Options) *maintEnv {
	t.Helper()
	if be.skip != "" {
		t.Skip(be.skip)
	}
	st := be.open(t)
	t.Cleanup(func() { st.bucket.Close(); st.meta.Close() })
	c := &clock{}
	return &maintEnv{t: t, clock: c, st: st, svc: c.service(t, st.contentStore(), st.meta, o)}
}

func (m *maintEnv) upload(name string, content []byte) *attachment.Attachment {
	m.t.Helper()
	as, err := m.svc.Upload(m.t.Context(), nil, attachment.File{Name: name, Content: bytes.NewReader(content)})
	require.NoError(m.t, err)
	return as[0]
}

func (m *maintEnv) write(key string, data []byte) {
	m.t.Helper()
	require.NoError(m.t, m.st.bucket.WriteAll(m.t.Context(), key, data, nil))
}

func (m *maintEnv) exists(key string) bool {
	m.t.Helper()
	ok, err := m.st.bucket.Exists(m.t.Context(), key)
	require.NoError(m.t, err)
	return ok
}

func (m *maintEnv) maintain() attachment.MaintenanceReport {
	m.t.Helper()
	rep, err := m.svc.Maintain(m.t.Context())
	require.NoError(m.t, err)
	return rep
}

// requireIntact checks that a downloads byte-exact.
func (m *maintEnv) requireIntact(a *attachment.Attachment, want []byte) {
	m.t.Helper()
	_, obj, err := m.svc.ForTenant(a.Tenant).OpenContent(m.t.Context(), a.ID)
	require.NoError(m.t, err, "attachment %s", a.Filename)
	defer obj.Close()
	got, err := io.ReadAll(obj)
	require.NoError(m.t, err)
	require.Equal(m.t, want, got, "content of %s", a.Filename)
}

func (m *maintEnv) requireGone(a *attachment.Attachment) {
	m.t.Helper()
	_, err := m.svc.ForTenant(a.Tenant).Get(m.t.Context(), a.ID)
	require.ErrorIs(m.t, err, attachment.ErrNotFound, "attachment %s", a.Filename)
	require.False(m.t, m.exists(storage.ContentKey(a.ID)), "content of %s", a.Filename)
	require.False(m.t, m.exists(storage.DerivativeKey(a.ID, "thumb-64")), "derivative of %s", a.Filename)
}

// An upload never referenced and older than AbandonAfter is deleted with
// its content and derivatives; one referenced (now or once), or younger,
// is kept; without AbandonAfter nothing is swept.
func TestMaintainSweepsAbandonedUploads(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			m := newMaintEnv(t, be, &attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true}, Maintenance: attachment.MaintenanceOptions{AbandonAfter: time.Hour}})
			abandoned := m.upload("abandoned.txt", []byte("nobody wants me"))
			m.write(storage.DerivativeKey(abandoned.ID, "thumb-64"), []byte("thumb"))
			other := m.svc.ForTenant("t2")
			as, err := other.Upload(t.Context(), nil, attachment.File{Name: "abandoned too.txt", Content: strings.NewReader("x")})
			require.NoError(t, err)
			abandonedToo := as[0]
			kept := m.upload("kept.txt", []byte("saved in a document"))
			_, err = m.svc.AddRef(t.Context(), kept.ID, "doc:1")
			require.NoError(t, err)
			once := m.upload("once.txt", []byte("referenced once"))
			_, err = m.svc.AddRef(t.Context(), once.ID, "doc:2")
			require.NoError(t, err)
			_, err = m.svc.RemoveRef(t.Context(), once.ID, "doc:2")
			require.NoError(t, err)

			rep := m.maintain()
			require.Zero(t, rep.Abandoned, "nothing is an hour old yet")

			m.clock.advance(2 * time.Hour)
			young := m.upload("young.txt", []byte("just uploaded"))
			rep = m.maintain()
			require.Equal(t, 2, rep.Abandoned, "report: %+v", rep)
			require.Zero(t, rep.Failed)
			m.requireGone(abandoned)
			m.requireGone(abandonedToo)
			m.requireIntact(kept, []byte("saved in a document"))
			m.requireIntact(once, []byte("referenced once"))
			m.requireIntact(young, []byte("just uploaded"))

			require.Zero(t, m.maintain().Abandoned, "a second run finds nothing")
		})
	}
}

func TestMaintainWithoutAbandonAfterSweepsNothing(t *testing.T) {
	m := newMaintEnv(t, backends()[1], &attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true}})
	a := m.upload("a.txt", []byte("a"))
	m.clock.advance(1000 * time.Hour)
	rep := m.maintain()
	require.Zero(t, rep.Abandoned)
	require.Equal(t, 1, rep.ContentChecked)
	require.Equal(t, 1, rep.RecordsChecked)
	m.requireIntact(a, []byte("a"))
}

// Content and derivatives without a record are removed once older than
// OrphanGrace, temporary files too; records without content are reported,
// never removed; unknown keys are left alone; attachments in order are
// untouched.
func TestMaintainReconciles(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			m := newMaintEnv(t, be, &attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true}, Maintenance: attachment.MaintenanceOptions{OrphanGrace: time.Hour}})
			var keep []*attachment.Attachment
			for i := range 5 {
				a := m.upload("keep.txt", bytes.Repeat([]byte{byte('a' + i)}, 100*i+1))
				m.write(storage.DerivativeKey(a.ID, "thumb-64"), []byte("thumb"))
				keep = append(keep, a)
			}
			// A record deleted without its content (a crash, or a failed
			// removal), a content written whose record never was (a crash
			// mid-upload), a derivative of a deleted attachment, and
			// fileblob's temporary files.
			lostRecord := m.upload("lost record.txt", []byte("lost"))
			m.write(storage.DerivativeKey(lostRecord.ID, "thumb-64"), []byte("thumb"))
			require.NoError(t, m.st.meta.Delete(t.Context(), "", lostRecord.ID, true))
			neverCommitted := uuid.Must(uuid.NewV7()).String()
			m.write(storage.ContentKey(neverCommitted), []byte("half an upload"))
			deletedID := uuid.Must(uuid.NewV7()).String()
			m.write(storage.DerivativeKey(deletedID, "thumb-256"), []byte("thumb"))
			m.write(storage.DerivativeKey(deletedID, "thumb-64"), []byte("thumb"))
			tmp := storage.ContentKey(uuid.Must(uuid.NewV7()).String()) + ".18a3f0c2b1d4e5f6.tmp"
			m.write(tmp, []byte("cut off"))
			// Keys the service does not know.
			m.write("content/README", []byte("a host's note"))
			m.write("elsewhere/file", []byte("not under the service's prefixes"))
			// A record whose content is lost.
			lostContent := m.upload("lost content.txt", []byte("gone"))
			require.NoError(t, m.st.bucket.Delete(t.Context(), storage.ContentKey(lostContent.ID)))

			rep := m.maintain()
			require.Equal(t, attachment.MaintenanceReport{
				ContentChecked: 7, RecordsChecked: 6, MissingContent: 1, Unknown: 1,
			}, rep, "within the grace period only the missing content is reported")

			m.clock.advance(2 * time.Hour)
			rep = m.maintain()
			require.Equal(t, attachment.MaintenanceReport{
				ContentChecked: 7, RecordsChecked: 6, OrphanContent: 2, OrphanDerivatives: 2,
				TempFiles: 1, MissingContent: 1, Unknown: 1,
			}, rep)
			require.False(t, m.exists(storage.ContentKey(lostRecord.ID)))
			require.False(t, m.exists(storage.DerivativeKey(lostRecord.ID, "thumb-64")))
			require.False(t, m.exists(storage.ContentKey(neverCommitted)))
			require.False(t, m.exists(storage.DerivativeKey(deletedID, "thumb-256")))
			require.False(t, m.exists(tmp))
			require.True(t, m.exists("content/README"))
			require.True(t, m.exists("elsewhere/file"))
			for i, a := range keep {
				m.requireIntact(a, bytes.Repeat([]byte{byte('a' + i)}, 100*i+1))
				require.True(t, m.exists(storage.DerivativeKey(a.ID, "thumb-64")))
			}
			_, err := m.svc.Get(t.Context(), lostContent.ID)
			require.NoError(t, err, "a record without content is reported, not deleted")

			rep = m.maintain()
			require.Equal(t, attachment.MaintenanceReport{ContentChecked: 5, RecordsChecked: 6, MissingContent: 1, Unknown: 1}, rep)
		})
	}
}

// Pointed at a bucket whose records are in another store, Maintain
// refuses and removes nothing.
func TestMaintainRefusesWhenMostContentHasNoRecord(t *testing.T) {
	bucket := memblob.OpenBucket(nil)
	t.Cleanup(func() { bucket.Close() })
	c := &clock{}
	first := c.service(t, storage.New(bucket), memstore.New(), &attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true}})
	for range 12 {
		_, err := first.Upload(t.Context(), nil, attachment.File{Name: "a.txt", Content: strings.NewReader("a")})
		require.NoError(t, err)
	}
	wrong := c.service(t, storage.New(bucket), memstore.New(), &attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true}})
	c.advance(48 * time.Hour)
	_, err := wrong.Maintain(t.Context())
	require.ErrorContains(t, err, "12 of 12 content files have no record; refusing")
	n := 0
	for range storage.New(bucket).Items(t.Context(), storage.ContentPrefix) {
		n++
	}
	require.Equal(t, 12, n)
}

// Delete retries the removal of the content; what fails every attempt is
// left to Maintain, which removes it once the blob store works again.
func TestDeleteRetriesAndMaintainRemovesLeftovers(t *testing.T) {
	inner := memblob.OpenBucket(nil)
	t.Cleanup(func() { inner.Close() })
	faults := &faultblob.Faults{}
	bucket := faultblob.OpenBucket(inner, faults)
	c := &clock{}
	svc := c.service(t, storage.New(bucket), memstore.New(), &attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true}, Maintenance: attachment.MaintenanceOptions{OrphanGrace: time.Hour}})
	up := func() *attachment.Attachment {
		as, err := svc.Upload(t.Context(), nil, attachment.File{Name: "a.txt", Content: strings.NewReader("abc")})
		require.NoError(t, err)
		require.NoError(t, inner.WriteAll(t.Context(), storage.DerivativeKey(as[0].ID, "thumb-64"), []byte("t"), nil))
		return as[0]
	}
	exists := func(key string) bool {
		ok, err := inner.Exists(t.Context(), key)
		require.NoError(t, err)
		return ok
	}
	failing := errors.New("blob store down")

	// Two failures, then it works: the third attempt removes everything.
	a := up()
	var n atomic.Int32
	faults.Set(func(op, key string) error {
		if op == faultblob.OpDelete && n.Add(1) <= 2 {
			return failing
		}
		return nil
	})
	require.NoError(t, svc.Delete(t.Context(), a.ID, nil))
	require.False(t, exists(storage.ContentKey(a.ID)))
	require.False(t, exists(storage.DerivativeKey(a.ID, "thumb-64")))

	// Every derivative removal fails: Delete succeeds (the record is
	// gone), the derivative is left, and Maintain removes it once the
	// store works again.
	b := up()
	faults.Set(func(op, key string) error {
		if op == faultblob.OpDelete && strings.HasPrefix(key, storage.DerivativesPrefix) {
			return failing
		}
		return nil
	})
	before := faults.Calls(faultblob.OpDelete)
	require.NoError(t, svc.Delete(t.Context(), b.ID, nil))
	require.Equal(t, 6, faults.Calls(faultblob.OpDelete)-before, "three attempts, each of the content and the derivative")
	_, err := svc.Get(t.Context(), b.ID)
	require.ErrorIs(t, err, attachment.ErrNotFound)
	require.True(t, exists(storage.DerivativeKey(b.ID, "thumb-64")))

	c.advance(2 * time.Hour)
	rep, err := svc.Maintain(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, rep.Failed, "still failing: left for the next run")
	require.True(t, exists(storage.DerivativeKey(b.ID, "thumb-64")))

	faults.Set(nil)
	rep, err = svc.Maintain(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, rep.OrphanDerivatives)
	require.Zero(t, rep.Failed)
	require.False(t, exists(storage.DerivativeKey(b.ID, "thumb-64")))
}

// An upload that takes longer than half of OrphanGrace is not committed:
// Maintain may have taken its content for an orphan.
func TestSlowUploadIsNotCommitted(t *testing.T) {
	m := newMaintEnv(t, backends()[1], &attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true}, Maintenance: attachment.MaintenanceOptions{OrphanGrace: time.Hour}})
	b, err := m.svc.NewBatch(nil)
	require.NoError(t, err)
	require.NoError(t, b.Add(t.Context(), attachment.File{Name: "slow.txt", Content: strings.NewReader("slow")}))
	m.clock.advance(31 * time.Minute)
	_, err = b.Commit(t.Context())
	require.ErrorContains(t, err, "more than half of Options.Maintenance.OrphanGrace")
	n := 0
	for range storage.New(m.st.bucket).Items(t.Context(), storage.ContentPrefix) {
		n++
	}
	require.Zero(t, n, "the content is removed")
	require.Zero(t, m.maintain().RecordsChecked)
}

// With MaintenanceInterval the service sweeps by itself, until Close.
func TestMaintenanceLoop(t *testing.T) {
	bucket := memblob.OpenBucket(nil)
	t.Cleanup(func() { bucket.Close() })
	svc, err := attachment.New(storage.New(bucket), memstore.New(), &attachment.Options{
		Processing:  attachment.ProcessingOptions{NoImageProcessing: true},
		Maintenance: attachment.MaintenanceOptions{AbandonAfter: time.Millisecond, Interval: 20 * time.Millisecond},
	})
	require.NoError(t, err)
	as, err := svc.Upload(t.Context(), nil, attachment.File{Name: "a.txt", Content: strings.NewReader("a")})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := svc.Get(context.Background(), as[0].ID)
		return errors.Is(err, attachment.ErrNotFound)
	}, 10*time.Second, 10*time.Millisecond, "the loop never swept the abandoned upload")
	require.NoError(t, svc.Close())
}

// noScanner is a Store that cannot list across tenants.
type noScanner struct{ metadata.Store }

func TestMaintainNeedsAScanner(t *testing.T) {
	bucket := memblob.OpenBucket(nil)
	t.Cleanup(func() { bucket.Close() })
	meta := noScanner{memstore.New()}
	_, err := attachment.New(storage.New(bucket), meta, &attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true}, Maintenance: attachment.MaintenanceOptions{Interval: time.Hour}})
	require.ErrorContains(t, err, "metadata.Scanner")
	svc, err := attachment.New(storage.New(bucket), meta, &attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true}})
	require.NoError(t, err)
	defer svc.Close()
	_, err = svc.Maintain(t.Context())
	require.ErrorContains(t, err, "metadata.Scanner")
}

// A temporary file of a write cut off mid-way is removed once it is older
// than half of OrphanGrace: the upload it belongs to began longer ago
// than that, and its commit refuses it. Content without a record waits
// the whole grace.
func TestMaintainRemovesTempFilesAfterHalfTheGrace(t *testing.T) {
	m := newMaintEnv(t, backends()[0], &attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true}, Maintenance: attachment.MaintenanceOptions{OrphanGrace: time.Hour}})
	id := uuid.Must(uuid.NewV7()).String()
	tmp := storage.ContentKey(id) + ".18a3f0c2b1d4e5f6.tmp"
	m.write(tmp, []byte("cut off"))
	derivedTmp := storage.DerivativeKey(id, "thumb-64") + ".18a3f0c2b1d4e5f7.tmp"
	m.write(derivedTmp, []byte("cut off"))
	orphan := uuid.Must(uuid.NewV7()).String()
	m.write(storage.ContentKey(orphan), []byte("half an upload"))

	m.clock.advance(29 * time.Minute)
	rep := m.maintain()
	require.Zero(t, rep.TempFiles, "younger than half the grace: may still be written")
	require.True(t, m.exists(tmp))

	m.clock.advance(2 * time.Minute)
	rep = m.maintain()
	require.Equal(t, 2, rep.TempFiles, "report: %+v", rep)
	require.Zero(t, rep.OrphanContent, "content without a record waits the whole grace")
	require.False(t, m.exists(tmp))
	require.False(t, m.exists(derivedTmp))
	require.True(t, m.exists(storage.ContentKey(orphan)))
}

// On S3, Maintain aborts the incomplete multipart uploads under the
// service's prefixes that are older than half of OrphanGrace (what a
// crash in the middle of a large upload leaves), and keeps younger ones
// and those under other keys of the bucket.
func TestMaintainAbortsStaleMultipartUploads(t *testing.T) {
	be := backends()[3]
	// A grace of 4 s: uploads started 3 s before Maintain are stale (older
	// than 2 s), one started just before is not, with room for a server
	// that keeps the time to the second.
	m := newMaintEnv(t, be, &attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true}, Maintenance: attachment.MaintenanceOptions{OrphanGrace: 4 * time.Second}})
	b := m.st.s3
	ids := map[string]*string{}
	start := func(key string) string {
		out, err := b.Client.CreateMultipartUpload(t.Context(), &s3.CreateMultipartUploadInput{Bucket: aws.String(b.Name), Key: aws.String(b.Prefix + key)})
		require.NoError(t, err)
		_, err = b.Client.UploadPart(t.Context(), &s3.UploadPartInput{
			Bucket: aws.String(b.Name), Key: aws.String(b.Prefix + key), UploadId: out.UploadId,
			PartNumber: aws.Int32(1), Body: strings.NewReader("a part of a large upload"),
		})
		require.NoError(t, err)
		ids[key] = out.UploadId
		return key
	}
	a := m.upload("kept.txt", []byte("an attachment in order"))
	start(storage.ContentKey(uuid.Must(uuid.NewV7()).String()))
	start(storage.DerivativeKey(uuid.Must(uuid.NewV7()).String(), "thumb-1024"))
	elsewhere := start("elsewhere/big.bin")
	// A resumable upload in progress writes its parts into its content
	// key for as long as it lasts: its session keeps them.
	session, err := m.svc.CreateUpload(t.Context(), &attachment.NewUpload{File: attachment.File{Name: "big.bin"}, Length: 100})
	require.NoError(t, err)
	live := start(storage.ContentKey(session.ID))
	time.Sleep(3 * time.Second)
	young := start(storage.ContentKey(uuid.Must(uuid.NewV7()).String()))

	rep := m.maintain()
	require.Equal(t, 2, rep.AbortedUploads, "report: %+v", rep)
	require.Zero(t, rep.Failed)
	require.ElementsMatch(t, []string{elsewhere, live, young}, b.PendingUploads(t), "the stale ones are aborted, not a live session's")
	m.requireIntact(a, []byte("an attachment in order"))
	require.Zero(t, m.maintain().AbortedUploads, "a second run finds nothing stale")

	// The rest is aborted here: s3test fails a test that leaves uploads
	// pending.
	// Terminated, the upload's pending multipart upload goes with it.
	require.NoError(t, m.svc.TerminateUpload(t.Context(), session.ID, ""))
	require.ElementsMatch(t, []string{elsewhere, young}, b.PendingUploads(t), "the termination aborted the live one")
	for _, key := range []string{elsewhere, young} {
		_, err := b.Client.AbortMultipartUpload(t.Context(), &s3.AbortMultipartUploadInput{Bucket: aws.String(b.Name), Key: aws.String(b.Prefix + key), UploadId: ids[key]})
		require.NoError(t, err)
	}
}

// hookedStore is a memstore with faults injected between Maintain's scans
// and its changes, to play what uploads and refs do meanwhile.
type hookedStore struct {
	*memstore.Store
	// beforeDelete, when set, runs before every Delete.
	beforeDelete func(id string)
	// hidden is left out of every Scan: its record was committed after
	// the scan went past its ID.
	hidden string
}

func (h *hookedStore) Delete(ctx context.Context, tenant, id string, force bool) error {
	if h.beforeDelete != nil {
		h.beforeDelete(id)
	}
	return h.Store.Delete(ctx, tenant, id, force)
}

func (h *hookedStore) Scan(ctx context.Context, q metadata.ScanQuery) ([]*metadata.Record, error) {
	recs, err := h.Store.Scan(ctx, q)
	out := recs[:0]
	for _, r := range recs {
		if r.ID != h.hidden {
			out = append(out, r)
		}
	}
	return out, err
}

// An abandoned upload given a ref between the sweep's scan and its
// delete is kept: the delete is the store's atomic "unless referenced".
// (Mutation: sweeping with Delete(force=true) deletes it, and fails this.)
func TestMaintainSweepKeepsUploadReferencedAfterTheScan(t *testing.T) {
	bucket := memblob.OpenBucket(nil)
	t.Cleanup(func() { bucket.Close() })
	meta := &hookedStore{Store: memstore.New()}
	c := &clock{}
	svc := c.service(t, storage.New(bucket), meta, &attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true}, Maintenance: attachment.MaintenanceOptions{AbandonAfter: time.Hour}})
	as, err := svc.Upload(t.Context(), nil, attachment.File{Name: "a.txt", Content: strings.NewReader("saved just in time")})
	require.NoError(t, err)
	a := as[0]
	c.advance(2 * time.Hour)
	refs := 0
	meta.beforeDelete = func(id string) {
		if id == a.ID && refs == 0 {
			refs++
			_, err := svc.AddRef(t.Context(), a.ID, "doc:1")
			require.NoError(t, err)
		}
	}
	rep, err := svc.Maintain(t.Context())
	require.NoError(t, err)
	require.Equal(t, 1, refs, "the hook ran between the scan and the delete")
	require.Zero(t, rep.Abandoned, "report: %+v", rep)
	got, err := svc.Get(t.Context(), a.ID)
	require.NoError(t, err, "the attachment referenced meanwhile is kept")
	require.Equal(t, []string{"doc:1"}, got.Refs)
	ok, err := bucket.Exists(t.Context(), storage.ContentKey(a.ID))
	require.NoError(t, err)
	require.True(t, ok, "and so is its content")
}

// Content (and a derivative) whose record the reconciliation's scan did
// not see, but which has one by the time of the removal, is kept: each
// candidate is looked up again just before it is removed. (Mutation:
// removing that second lookup, for content or for derivatives, removes
// them, and fails this.)
func TestMaintainKeepsContentWhoseRecordAppearsAfterTheScan(t *testing.T) {
	bucket := memblob.OpenBucket(nil)
	t.Cleanup(func() { bucket.Close() })
	meta := &hookedStore{Store: memstore.New()}
	c := &clock{}
	svc := c.service(t, storage.New(bucket), meta, &attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true}, Maintenance: attachment.MaintenanceOptions{OrphanGrace: time.Hour}})
	as, err := svc.Upload(t.Context(), nil, attachment.File{Name: "a.txt", Content: strings.NewReader("committed late")})
	require.NoError(t, err)
	a := as[0]
	thumb := storage.DerivativeKey(a.ID, "thumb-64")
	require.NoError(t, bucket.WriteAll(t.Context(), thumb, []byte("thumb"), nil))
	meta.hidden = a.ID
	c.advance(2 * time.Hour)

	rep, err := svc.Maintain(t.Context())
	require.NoError(t, err)
	require.Equal(t, 0, rep.RecordsChecked, "the scan did not see the record")
	require.Zero(t, rep.OrphanContent, "report: %+v", rep)
	require.Zero(t, rep.OrphanDerivatives, "report: %+v", rep)
	for _, key := range []string{storage.ContentKey(a.ID), thumb} {
		ok, err := bucket.Exists(t.Context(), key)
		require.NoError(t, err)
		require.True(t, ok, "%s is kept", key)
	}
}
