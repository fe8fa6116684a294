package attachment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/storage"
)

const (
	// scanPage is how many records Maintain reads at a time.
	scanPage = 500
	// maxCandidates bounds the orphans and missing contents one Maintain
	// collects (and so its memory); the rest wait for the next run.
	maxCandidates = 10_000
	// maxMissingLogged bounds the records without content logged one by
	// one in a run.
	maxMissingLogged = 100
	// deleteAttempts is how many times the removal of a deleted
	// attachment's content is tried before it is left to Maintain.
	deleteAttempts = 3
)

// MaintenanceReport counts what one Maintain found and did.
type MaintenanceReport struct {
	// Abandoned is how many abandoned uploads were deleted (records,
	// content and derivatives).
	Abandoned int
	// ContentChecked and RecordsChecked are how many content files and
	// records the reconciliation looked at.
	ContentChecked, RecordsChecked int
	// OrphanContent is how many content files without a record were
	// removed, each with its derivatives.
	OrphanContent int
	// OrphanDerivatives is how many derivatives (thumbnails) without a
	// record were removed.
	OrphanDerivatives int
	// TempFiles is how many temporary files of the blob driver, left by
	// writes cut off mid-way, were removed.
	TempFiles int
	// AbortedUploads is how many incomplete multipart uploads (S3), left
	// by writes cut off mid-way, were aborted.
	AbortedUploads int
	// MissingContent is how many records were found whose content is
	// missing. They are logged (with their IDs) and left alone: only the
	// host can restore their content, or delete them.
	MissingContent int
	// Unknown is how many keys under the service's prefixes ("content/",
	// "derived/") it does not recognise. They are left alone.
	Unknown int
	// ExpiredUploads is how many resumable uploads that had expired
	// (Options.UploadExpiry) were removed, sessions and bytes.
	ExpiredUploads int
	// OrphanUploads is how many keys of resumable uploads without a
	// session (under "uploads/": what a crash or a failed removal leaves)
	// were removed.
	OrphanUploads int
	// Deferred is how many candidates were left for the next run, past
	// the number one run takes on.
	Deferred int
	// Failed is how many removals failed; the next Maintain tries them
	// again. The log has the errors.
	Failed int
}

func (r MaintenanceReport) attrs() []any {
	return []any{
		slog.Int("abandoned", r.Abandoned), slog.Int("content_checked", r.ContentChecked),
		slog.Int("records_checked", r.RecordsChecked), slog.Int("orphan_content", r.OrphanContent),
		slog.Int("orphan_derivatives", r.OrphanDerivatives), slog.Int("temp_files", r.TempFiles),
		slog.Int("aborted_uploads", r.AbortedUploads),
		slog.Int("expired_uploads", r.ExpiredUploads), slog.Int("orphan_uploads", r.OrphanUploads),
		slog.Int("missing_content", r.MissingContent), slog.Int("unknown", r.Unknown),
		slog.Int("deferred", r.Deferred), slog.Int("failed", r.Failed),
	}
}

// Maintain brings the stores back in line, across every tenant whichever
// view of the Service it is called on:
//
//   - When Options.Maintenance.AbandonAfter is set, it deletes abandoned
//     uploads: attachments that have never had a ref and are older than that. An
//     attachment given a ref meanwhile is kept (the check and the delete
//     are atomic).
//   - It removes content and derivatives that have no record and are
//     older than Options.Maintenance.OrphanGrace: what a crash between the
//     two writes of an upload leaves, and what a failed removal after a
//     delete leaves. Younger ones may belong to an upload in progress,
//     which writes its content before its record.
//   - It removes what writes cut off mid-way leave: a blob driver's
//     temporary files (fileblob's "KEY.HEX.tmp") and, on S3, incomplete
//     multipart uploads, once they are older than half of OrphanGrace. A
//     write that old belongs to an upload begun longer ago than that,
//     which its commit refuses (see OrphanGrace); and removing one that is
//     still being written fails that write, which then stores nothing.
//   - It removes resumable uploads (CreateUpload) that have expired
//     (Options.UploadExpiry), unless a request holds one now: the session,
//     its bytes, and the content of one cut off while it was committed.
//     Keys under "uploads/" of an ID without a session, older than half of
//     OrphanGrace, are removed too. The content of a live session is
//     never taken for an orphan.
//   - It reports records whose content is missing; it never deletes them.
//
// Maintain refuses (with an error, removing nothing) when most content has
// no record, which is what pointing the service at the wrong metadata
// store looks like. It is safe to run on several instances at once, and
// alongside uploads and deletes. Counts are logged and returned; the
// background loop of Options.Maintenance.Interval calls it. The metadata
// store must implement metadata.Scanner (every store in this module
// does).
func (s *Service) Maintain(ctx context.Context) (MaintenanceReport, error) {
	c := s.core
	var rep MaintenanceReport
	sc, ok := c.meta.(metadata.Scanner)
	if !ok {
		return rep, fmt.Errorf("attachment: maintain: the metadata store (%T) cannot list across tenants (metadata.Scanner)", c.meta)
	}
	start := c.now()
	if c.opts.Maintenance.AbandonAfter > 0 {
		if err := c.sweep(ctx, sc, &rep); err != nil {
			return rep, err
		}
	}
	if up, ok := c.meta.(metadata.Uploads); ok {
		if err := c.expireUploads(ctx, up, &rep); err != nil {
			return rep, err
		}
	}
	if err := c.reconcile(ctx, sc, &rep); err != nil {
		return rep, err
	}
	if up, ok := c.meta.(metadata.Uploads); ok {
		if err := c.orphanUploads(ctx, up, &rep); err != nil {
			return rep, err
		}
	}
	c.log.Info("attachment: maintenance done", append(rep.attrs(), slog.Duration("took", c.now().Sub(start)))...)
	return rep, nil
}

// sweep deletes the abandoned uploads: never referenced, created before
// now minus AbandonAfter.
func (c *core) sweep(ctx context.Context, sc metadata.Scanner, rep *MaintenanceReport) error {
	cutoff := c.now().Add(-c.opts.Maintenance.AbandonAfter)
	q := metadata.ScanQuery{Before: idAt(cutoff), NeverReferenced: true, Limit: scanPage}
	for {
		recs, err := sc.Scan(ctx, q)
		if err != nil {
			return fmt.Errorf("attachment: maintain: list abandoned uploads: %w", err)
		}
		for _, r := range recs {
			q.After = r.ID
			if !r.CreatedAt.Before(cutoff) {
				continue
			}
			err := c.meta.Delete(ctx, r.Tenant, r.ID, false)
			if errors.Is(err, metadata.ErrNotFound) || errors.Is(err, metadata.ErrReferenced) {
				continue // deleted, or given a ref, since the scan
			}
			if err != nil {
				return fmt.Errorf("attachment: maintain: delete abandoned upload %s: %w", r.ID, err)
			}
			rep.Abandoned++
			c.log.Info("attachment: deleted an abandoned upload", "id", r.ID, "tenant", r.Tenant, "created", r.CreatedAt)
			if !c.removeContent(ctx, r.ID) {
				rep.Failed++
			}
		}
		if len(recs) < q.Limit {
			return nil
		}
	}
}

// idAt returns the smallest UUIDv7 of the millisecond of t: every ID made
// before t sorts before it.
func idAt(t time.Time) string {
	ms := uint64(max(t.UnixMilli(), 0))
	return fmt.Sprintf("%08x-%04x-7000-8000-000000000000", ms>>16, ms&0xffff)
}

// reconcile walks the content and the derivatives in ID order beside the
// records (also in ID order), collects what has no counterpart, checks
// each candidate again, and repairs what it safely can.
func (c *core) reconcile(ctx context.Context, sc metadata.Scanner, rep *MaintenanceReport) error {
	now := c.now()
	cutoff := now.Add(-c.opts.Maintenance.OrphanGrace)
	// Writes in progress (temporary files, multipart uploads) older than
	// half the grace belong to uploads their commit refuses.
	writeCutoff := now.Add(-c.opts.Maintenance.OrphanGrace / 2)
	var orphans, temps, missing []string
	collect := func(list *[]string, s string) {
		if len(*list) < maxCandidates {
			*list = append(*list, s)
		} else {
			rep.Deferred++
		}
	}

	var err error
	rep.ContentChecked, rep.RecordsChecked, err = c.walk(ctx, sc, storage.ContentPrefix, cutoff, writeCutoff, rep,
		func(it storage.Item) { collect(&orphans, it.ID) },
		func(it storage.Item) { collect(&temps, it.Key) },
		func(r *metadata.Record) { collect(&missing, r.ID) })
	if err != nil {
		return err
	}
	if n := len(orphans); n > 10 && 2*n > rep.ContentChecked {
		return fmt.Errorf("attachment: maintain: %d of %d content files have no record; refusing to remove them: is the metadata store the one this bucket belongs to?", n, rep.ContentChecked)
	}
	for _, id := range orphans {
		if c.removeOrphan(ctx, sc, id, rep) {
			rep.OrphanContent++
		}
	}
	for _, id := range missing {
		if c.checkMissing(ctx, sc, id, rep) {
			rep.MissingContent++
		}
	}

	// Derivatives: the same walk, with the records read again.
	var derived []string
	_, _, err = c.walk(ctx, sc, storage.DerivativesPrefix, cutoff, writeCutoff, rep,
		func(it storage.Item) { collect(&derived, it.Key) },
		func(it storage.Item) { collect(&temps, it.Key) },
		nil)
	if err != nil {
		return err
	}
	for _, key := range derived {
		id := key[len(storage.DerivativesPrefix) : len(storage.DerivativesPrefix)+36]
		if c.lookupGone(ctx, sc, id, rep) && c.removeKey(ctx, key, rep) {
			rep.OrphanDerivatives++
		}
	}
	for _, key := range temps {
		if c.removeKey(ctx, key, rep) {
			rep.TempFiles++
		}
	}
	c.abortUploads(ctx, writeCutoff, rep)
	return nil
}

// abortUploads aborts the incomplete multipart uploads (S3) under the
// content and derivative prefixes that were started before cutoff. A
// failure to list them is logged and counted, not returned: a bucket
// policy may allow everything else Maintain does and not this.
func (c *core) abortUploads(ctx context.Context, cutoff time.Time, rep *MaintenanceReport) {
	var stale []storage.PendingUpload
	for _, prefix := range []string{storage.ContentPrefix, storage.DerivativesPrefix} {
		for up, err := range c.content.PendingUploads(ctx, prefix) {
			if err != nil {
				rep.Failed++
				c.log.Error("attachment: maintain: list incomplete multipart uploads", "prefix", prefix, "err", err)
				break
			}
			if !up.Initiated.Before(cutoff) {
				continue
			}
			if c.liveUpload(ctx, up.Key, rep) {
				// A resumable upload in progress writes its parts into
				// its content key for as long as it keeps moving.
				continue
			}
			if len(stale) < maxCandidates {
				stale = append(stale, up)
			} else {
				rep.Deferred++
			}
		}
	}
	for _, up := range stale {
		if err := c.content.AbortUpload(ctx, up); err != nil {
			rep.Failed++
			c.log.Error("attachment: maintain: abort an incomplete multipart upload", "key", up.Key, "err", err)
			continue
		}
		rep.AbortedUploads++
		c.log.Info("attachment: aborted an incomplete multipart upload", "key", up.Key, "initiated", up.Initiated)
	}
}

// liveUpload reports whether key is the content key of a resumable
// upload that still has its session (or whether that cannot be told: a
// failed lookup is counted and the key kept).
func (c *core) liveUpload(ctx context.Context, key string, rep *MaintenanceReport) bool {
	up, ok := c.meta.(metadata.Uploads)
	if !ok {
		return false
	}
	id, ok := strings.CutPrefix(key, storage.ContentPrefix)
	if !ok || !validID(id) {
		return false
	}
	_, err := up.LookupUpload(ctx, id)
	switch {
	case err == nil:
		return true
	case errors.Is(err, metadata.ErrNotFound):
		return false
	default:
		rep.Failed++
		c.log.Error("attachment: maintain: look up upload", "id", id, "err", err)
		return true
	}
}

// walk lists the keys under prefix (content or derivatives) beside every
// record, both in ID order. A key of an attachment that has no record and
// is older than cutoff goes to orphan; a driver's temporary file last
// written before tempCutoff to temp; a record that no key belongs to to skip, if skip is
// not nil (then every record is read). Other keys
// count as Unknown. It returns how many keys of attachments it saw and how
// many records it read.
func (c *core) walk(ctx context.Context, sc metadata.Scanner, prefix string, cutoff, tempCutoff time.Time, rep *MaintenanceReport,
	orphan, temp func(storage.Item), skip func(*metadata.Record)) (keys, records int, err error) {
	kind := storage.KindContent
	if prefix == storage.DerivativesPrefix {
		kind = storage.KindDerivative
	}
	recs := &recordCursor{sc: sc}
	for it, err := range c.content.Items(ctx, prefix) {
		if err != nil {
			return 0, 0, fmt.Errorf("attachment: maintain: %w", err)
		}
		switch {
		case it.Kind == storage.KindTemporary:
			if it.ModTime.Before(tempCutoff) {
				temp(it)
			}
		case it.Kind == kind && validID(it.ID):
			keys++
			found, err := recs.seek(ctx, it.ID, skip)
			if err != nil {
				return 0, 0, err
			}
			if !found && it.ModTime.Before(cutoff) {
				orphan(it)
			}
		default:
			rep.Unknown++
		}
	}
	if skip != nil {
		if err := recs.drain(ctx, skip); err != nil {
			return 0, 0, err
		}
	}
	return keys, recs.read, nil
}

// removeOrphan removes the content and derivatives of id if it still has
// no record.
func (c *core) removeOrphan(ctx context.Context, sc metadata.Scanner, id string, rep *MaintenanceReport) bool {
	if !c.lookupGone(ctx, sc, id, rep) {
		return false
	}
	if err := c.content.Delete(ctx, id); err != nil {
		rep.Failed++
		c.log.Error("attachment: maintain: remove content without a record", "id", id, "err", err)
		return false
	}
	c.log.Info("attachment: removed content without a record", "id", id)
	return true
}

// lookupGone reports whether id has no record now, nor a resumable
// upload's session (whose content may be stored before its record). The
// session is looked up first: CompleteUpload removes it and creates the
// record at once, so one of the two is always found.
func (c *core) lookupGone(ctx context.Context, sc metadata.Scanner, id string, rep *MaintenanceReport) bool {
	if up, ok := c.meta.(metadata.Uploads); ok {
		_, err := up.LookupUpload(ctx, id)
		if err == nil {
			return false
		}
		if !errors.Is(err, metadata.ErrNotFound) {
			rep.Failed++
			c.log.Error("attachment: maintain: look up upload", "id", id, "err", err)
			return false
		}
	}
	_, err := sc.Lookup(ctx, id)
	if errors.Is(err, metadata.ErrNotFound) {
		return true
	}
	if err != nil {
		rep.Failed++
		c.log.Error("attachment: maintain: look up record", "id", id, "err", err)
	}
	return false
}

func (c *core) removeKey(ctx context.Context, key string, rep *MaintenanceReport) bool {
	if err := c.content.RemoveKey(ctx, key); err != nil {
		rep.Failed++
		c.log.Error("attachment: maintain: remove key", "key", key, "err", err)
		return false
	}
	return true
}

// checkMissing reports whether the record id has lost its content: the
// record is there before and after the content is found missing. (The
// Service stores content before its record and deletes a record before
// its content, so an upload or a delete in progress is never taken for a
// loss.)
func (c *core) checkMissing(ctx context.Context, sc metadata.Scanner, id string, rep *MaintenanceReport) bool {
	if _, err := sc.Lookup(ctx, id); err != nil {
		return false
	}
	ok, err := c.content.Exists(ctx, id)
	if err != nil {
		rep.Failed++
		c.log.Error("attachment: maintain: check content", "id", id, "err", err)
		return false
	}
	if ok {
		return false
	}
	r, err := sc.Lookup(ctx, id)
	if err != nil {
		return false
	}
	if rep.MissingContent < maxMissingLogged {
		c.log.Warn("attachment: maintain: a record's content is missing; restore it or delete the attachment",
			"id", id, "tenant", r.Tenant, "filename", r.Filename, "created", r.CreatedAt)
	}
	return true
}

// recordCursor reads every record in ID order, a page at a time, for a
// walk beside keys in the same order.
type recordCursor struct {
	sc    metadata.Scanner
	page  []*metadata.Record
	after string
	done  bool
	last  string // the ID seek last found
	read  int
}

// seek moves the cursor to id, passing the records before it (which the
// walk has no key for) to skip unless it is nil, and reports whether a record has id.
func (rc *recordCursor) seek(ctx context.Context, id string, skip func(*metadata.Record)) (bool, error) {
	if id == rc.last {
		return true, nil // a second key of the same attachment
	}
	for {
		for len(rc.page) > 0 && rc.page[0].ID < id {
			if skip != nil {
				skip(rc.page[0])
			}
			rc.page = rc.page[1:]
		}
		if len(rc.page) > 0 {
			if rc.page[0].ID != id {
				return false, nil
			}
			rc.last = id
			rc.page = rc.page[1:]
			return true, nil
		}
		if rc.done {
			return false, nil
		}
		if err := rc.next(ctx); err != nil {
			return false, err
		}
	}
}

// drain passes every record not yet passed to skip.
func (rc *recordCursor) drain(ctx context.Context, skip func(*metadata.Record)) error {
	for {
		for _, r := range rc.page {
			skip(r)
		}
		rc.page = nil
		if rc.done {
			return nil
		}
		if err := rc.next(ctx); err != nil {
			return err
		}
	}
}

func (rc *recordCursor) next(ctx context.Context) error {
	recs, err := rc.sc.Scan(ctx, metadata.ScanQuery{After: rc.after, Limit: scanPage})
	if err != nil {
		return fmt.Errorf("attachment: maintain: list records: %w", err)
	}
	rc.read += len(recs)
	rc.done = len(recs) < scanPage
	if len(recs) > 0 {
		rc.after = recs[len(recs)-1].ID
	}
	rc.page = recs
	return nil
}

// removeContent removes the content and derivatives of an attachment
// whose record is deleted, trying deleteAttempts times within
// Options.CommitTimeout, even when ctx is done. What is left after that is
// logged, and removed by a later Maintain (content without a record). It
// reports whether everything was removed.
func (c *core) removeContent(ctx context.Context, id string) bool {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.CommitTimeout)
	defer cancel()
	delay := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := c.content.Delete(dctx, id)
		if err == nil {
			return true
		}
		if attempt == deleteAttempts || dctx.Err() != nil {
			c.log.Error("attachment: remove content of a deleted attachment (Maintain removes what is left)",
				"id", id, "attempts", attempt, "err", err)
			return false
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-dctx.Done():
			t.Stop()
		}
		delay *= 4
	}
}

// maintainer runs Maintain every Options.Maintenance.Interval until Close.
type maintainer struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func startMaintainer(s *Service) *maintainer {
	ctx, cancel := context.WithCancel(context.Background())
	m := &maintainer{cancel: cancel, done: make(chan struct{})}
	interval := s.core.opts.Maintenance.Interval
	go func() {
		defer close(m.done)
		// The first run comes after a random part of one interval, so
		// that instances started together do not run in step.
		wait := time.Duration(rand.Int64N(int64(interval)) + 1)
		for {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			if _, err := s.Maintain(ctx); err != nil && ctx.Err() == nil {
				s.core.log.Error("attachment: maintenance", "err", err)
			}
			wait = interval
		}
	}()
	return m
}

func (m *maintainer) close() {
	m.cancel()
	<-m.done
}
