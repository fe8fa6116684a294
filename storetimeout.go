package attachment

import (
	"context"
	"fmt"
	"time"

	"github.com/attachkit/attachment/metadata"
)

// bound returns the context of one call bounded by d, and a func that,
// given the call's error, releases the context and wraps the error in
// ErrUnavailable when the bound ended the call (not the caller's ctx).
func bound(ctx context.Context, d time.Duration) (context.Context, func(error) error) {
	cctx, cancel := context.WithTimeout(ctx, d)
	return cctx, func(err error) error {
		timedOut := err != nil && cctx.Err() == context.DeadlineExceeded && ctx.Err() == nil
		cancel()
		if timedOut {
			return fmt.Errorf("%w: the metadata store did not answer within %v (Options.StoreTimeout): %w", ErrUnavailable, d, err)
		}
		return err
	}
}

// timedMeta returns meta with every call bounded by d (Options.StoreTimeout),
// keeping its metadata.Scanner and metadata.Uploads, or meta itself when d
// is Off.
func timedMeta(meta metadata.Store, d time.Duration) metadata.Store {
	if d <= 0 {
		return meta
	}
	t := timedStore{Store: meta, d: d}
	sc, isScanner := meta.(metadata.Scanner)
	up, isUploads := meta.(metadata.Uploads)
	switch {
	case isScanner && isUploads:
		return timedScannerUploads{timedScanner{timedStore: t, sc: sc}, timedUploads{up: up, d: d}}
	case isScanner:
		return timedScanner{timedStore: t, sc: sc}
	case isUploads:
		return timedStoreUploads{t, timedUploads{up: up, d: d}}
	}
	return t
}

// timedStore is a metadata.Store whose calls are bounded (timedMeta).
type timedStore struct {
	metadata.Store
	d time.Duration
}

func (t timedStore) Create(ctx context.Context, recs []*metadata.Record) error {
	cctx, done := bound(ctx, t.d)
	return done(t.Store.Create(cctx, recs))
}

func (t timedStore) Get(ctx context.Context, tenant, id string) (*metadata.Record, error) {
	cctx, done := bound(ctx, t.d)
	r, err := t.Store.Get(cctx, tenant, id)
	return r, done(err)
}

func (t timedStore) Update(ctx context.Context, tenant, id string, u metadata.Update) (*metadata.Record, error) {
	cctx, done := bound(ctx, t.d)
	r, err := t.Store.Update(cctx, tenant, id, u)
	return r, done(err)
}

func (t timedStore) Delete(ctx context.Context, tenant, id string, force bool) error {
	cctx, done := bound(ctx, t.d)
	return done(t.Store.Delete(cctx, tenant, id, force))
}

func (t timedStore) List(ctx context.Context, q metadata.Query) ([]*metadata.Record, error) {
	cctx, done := bound(ctx, t.d)
	recs, err := t.Store.List(cctx, q)
	return recs, done(err)
}

// timedScanner is a timedStore over a store that is a metadata.Scanner.
type timedScanner struct {
	timedStore
	sc metadata.Scanner
}

func (t timedScanner) Lookup(ctx context.Context, id string) (*metadata.Record, error) {
	cctx, done := bound(ctx, t.d)
	r, err := t.sc.Lookup(cctx, id)
	return r, done(err)
}

func (t timedScanner) Scan(ctx context.Context, q metadata.ScanQuery) ([]*metadata.Record, error) {
	cctx, done := bound(ctx, t.d)
	recs, err := t.sc.Scan(cctx, q)
	return recs, done(err)
}

// timedUploads is a metadata.Uploads whose calls are bounded by d. It is
// embedded beside a timedStore or timedScanner, so that the store timedMeta
// returns keeps the capability.
type timedUploads struct {
	up metadata.Uploads
	d  time.Duration
}

// timedStoreUploads is a timedStore over a store that is a
// metadata.Uploads and no metadata.Scanner.
type timedStoreUploads struct {
	timedStore
	timedUploads
}

// timedScannerUploads is a timedScanner over a store that is a
// metadata.Uploads too.
type timedScannerUploads struct {
	timedScanner
	timedUploads
}

func (t timedUploads) CreateUpload(ctx context.Context, u *metadata.Upload) (*metadata.Upload, error) {
	cctx, done := bound(ctx, t.d)
	got, err := t.up.CreateUpload(cctx, u)
	return got, done(err)
}

func (t timedUploads) GetUpload(ctx context.Context, tenant, id string) (*metadata.Upload, error) {
	cctx, done := bound(ctx, t.d)
	got, err := t.up.GetUpload(cctx, tenant, id)
	return got, done(err)
}

func (t timedUploads) LookupUpload(ctx context.Context, id string) (*metadata.Upload, error) {
	cctx, done := bound(ctx, t.d)
	got, err := t.up.LookupUpload(cctx, id)
	return got, done(err)
}

func (t timedUploads) UpdateUpload(ctx context.Context, u *metadata.Upload) (*metadata.Upload, error) {
	cctx, done := bound(ctx, t.d)
	got, err := t.up.UpdateUpload(cctx, u)
	return got, done(err)
}

func (t timedUploads) DeleteUpload(ctx context.Context, tenant, id string, version int64) error {
	cctx, done := bound(ctx, t.d)
	return done(t.up.DeleteUpload(cctx, tenant, id, version))
}

func (t timedUploads) CompleteUpload(ctx context.Context, u *metadata.Upload, rec *metadata.Record) error {
	cctx, done := bound(ctx, t.d)
	return done(t.up.CompleteUpload(cctx, u, rec))
}

func (t timedUploads) ExpiredUploads(ctx context.Context, before time.Time, after metadata.UploadCursor, limit int) ([]*metadata.Upload, error) {
	cctx, done := bound(ctx, t.d)
	got, err := t.up.ExpiredUploads(cctx, before, after, limit)
	return got, done(err)
}

// timedQueue is a metadata.Queue whose calls are bounded by d.
type timedQueue struct {
	q metadata.Queue
	d time.Duration
}

// timedJobs returns q with every call bounded by d, or q itself when d is
// Off.
func timedJobs(q metadata.Queue, d time.Duration) metadata.Queue {
	if d <= 0 {
		return q
	}
	return timedQueue{q: q, d: d}
}

func (t timedQueue) Claim(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]metadata.Job, error) {
	cctx, done := bound(ctx, t.d)
	jobs, err := t.q.Claim(cctx, now, lease, limit)
	return jobs, done(err)
}

func (t timedQueue) Finish(ctx context.Context, j metadata.Job, o metadata.Outcome) error {
	cctx, done := bound(ctx, t.d)
	return done(t.q.Finish(cctx, j, o))
}

func (t timedQueue) Extend(ctx context.Context, j metadata.Job, until time.Time) error {
	cctx, done := bound(ctx, t.d)
	return done(t.q.Extend(cctx, j, until))
}

func (t timedQueue) NextDue(ctx context.Context) (time.Time, bool, error) {
	cctx, done := bound(ctx, t.d)
	at, ok, err := t.q.NextDue(cctx)
	return at, ok, done(err)
}
