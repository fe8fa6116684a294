package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/client"
	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
	"github.com/attachkit/attachment/wire"
)

// faultyStore fails some of a store's operations.
type faultyStore struct {
	metadata.Store
	createErr, listErr error
}

func (s faultyStore) Create(ctx context.Context, recs []*metadata.Record) error {
	if s.createErr != nil {
		return s.createErr
	}
	return s.Store.Create(ctx, recs)
}

func (s faultyStore) List(ctx context.Context, q metadata.Query) ([]*metadata.Record, error) {
	if s.listErr != nil {
		return nil, s.listErr
	}
	return s.Store.List(ctx, q)
}

// Every code the API has, driven out of the real handler, is an *Error
// with that code for which errors.Is holds with the code's sentinel and
// no other.
func TestEveryCodeFromTheRealHandler(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, &envOpts{
		svc:     &attachment.Options{MaxFileSize: 100, MaxFiles: 1, AllowedTypes: []string{"text/plain", "image/png"}},
		handler: &attachment.HandlerOptions{Access: tokenAccess()},
		client:  &client.Options{Token: "acme"},
	})
	a := e.upload("a.txt", []byte("x"), nil)
	_, err := e.c.AddRef(ctx, a.ID, "doc:1")
	require.NoError(t, err)
	reader, err := client.New(e.base, &client.Options{Token: "acme-reader"})
	require.NoError(t, err)
	anon, err := client.New(e.base, nil)
	require.NoError(t, err)
	faulty := func(fs faultyStore) *client.Client {
		fe := newEnv(t, &envOpts{service: func(t *testing.T) *attachment.Service {
			fs.Store = memstore.New()
			svc, err := attachment.New(storage.New(memblob.OpenBucket(nil)), fs, &attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true}})
			require.NoError(t, err)
			return svc
		}})
		return fe.c
	}
	busy, busyID := busyStatus(t)
	conflict := faulty(faultyStore{createErr: metadata.ErrExists})
	broken := faulty(faultyStore{listErr: errors.New("connection refused to db at 10.0.0.7")})
	down := faulty(faultyStore{listErr: fmt.Errorf("pgstore: list: %w: dial tcp 10.0.0.7:5432: connection refused", metadata.ErrUnavailable)})
	full := faulty(faultyStore{createErr: fmt.Errorf("sqlitestore: create: %w: database or disk is full", metadata.ErrInsufficientStorage)})

	// No route sends the resumable uploads' codes yet (issue 14): a stub
	// answers them as the handler's problem writer will.
	resumable := func(status int, code string) func() error {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"type":"about:blank","title":%q,"status":%d,"detail":"resumable upload","code":%q}`, http.StatusText(status), status, code)
		}))
		t.Cleanup(srv.Close)
		c, err := client.New(srv.URL, nil)
		require.NoError(t, err)
		return func() error { _, err := c.Get(ctx, "x"); return err }
	}
	upload := func(c *client.Client, f client.File) error {
		_, err := c.Upload(ctx, f, nil)
		return err
	}
	text := func(s string) client.File { return client.File{Name: "a.txt", Content: strings.NewReader(s)} }
	cases := map[string]struct {
		status int
		call   func() error
	}{
		client.CodeBadRequest: {400, func() error { _, err := e.c.ListPage(ctx, &attachment.ListOptions{Cursor: "x"}); return err }},
		client.CodeNotFound:   {404, func() error { _, err := e.c.Get(ctx, "01936f4e-8a6b-7cc2-9f1e-2b7c9d5e4a10"); return err }},
		client.CodeTooLarge:   {413, func() error { return upload(e.c, text(strings.Repeat("x", 101))) }},
		client.CodeTooManyFiles: {400, func() error {
			_, err := e.c.UploadMany(ctx, []client.File{text("a"), text("b")}, nil)
			return err
		}},
		client.CodeUnsupportedType: {415, func() error { return upload(e.c, text("%PDF-1.4\n")) }},
		client.CodeChecksumMismatch: {400, func() error {
			f := text("x")
			f.SHA256 = make([]byte, 32)
			return upload(e.c, f)
		}},
		client.CodeInvalidFilename:     {400, func() error { return upload(e.c, client.File{Name: "..", Content: strings.NewReader("x")}) }},
		client.CodeInvalidSize:         {400, func() error { _, _, err := e.c.Thumbnail(ctx, a.ID, 7); return err }},
		client.CodeReferenced:          {409, func() error { return e.c.Delete(ctx, a.ID, nil) }},
		client.CodeUnauthorized:        {401, func() error { _, err := anon.Get(ctx, a.ID); return err }},
		client.CodeForbidden:           {403, func() error { return reader.Delete(ctx, a.ID, nil) }},
		client.CodeConflict:            {409, func() error { return upload(conflict, text("x")) }},
		client.CodeInternal:            {500, func() error { _, err := broken.ListPage(ctx, nil); return err }},
		client.CodeUnavailable:         {503, func() error { _, err := down.ListPage(ctx, nil); return err }},
		client.CodeInsufficientStorage: {507, func() error { return upload(full, text("x")) }},
		client.CodeOffsetMismatch:      {409, resumable(409, client.CodeOffsetMismatch)},
		client.CodeLocked:              {423, resumable(423, client.CodeLocked)},
		client.CodeGone:                {410, resumable(410, client.CodeGone)},
	}
	require.Len(t, cases, len(wire.Kinds()), "a case for every code of wire's table, no more")
	for _, k := range wire.Kinds() {
		code := k.Code
		tc, ok := cases[code]
		require.True(t, ok, "no case drives the handler into %q", code)
		require.Equal(t, k.Status, tc.status, "wire's table and the case disagree on %q's status", code)
		assert.Equal(t, k.Err, client.Sentinel(code))
		ce := requireCode(t, tc.call(), tc.status, code, k.Err)
		assert.Equal(t, http.StatusText(tc.status), ce.Title)
		assert.Equal(t, "about:blank", ce.Type)
		assert.NotEmpty(t, ce.Detail)
		assert.Contains(t, ce.Error(), " "+strconv.Itoa(tc.status)+" "+code+": "+ce.Detail)
		assert.True(t, client.IsStatus(ce, tc.status))
	}
	_, err = broken.ListPage(ctx, nil)
	assert.NotContains(t, err.Error(), "10.0.0.7", "internal detail stays on the server")
	_, err = down.ListPage(ctx, nil)
	assert.NotContains(t, err.Error(), "10.0.0.7", "an outage's detail stays on the server")

	// A saturated handler answers unavailable too: a status wait over the
	// cap (HandlerOptions.MaxStatusWaits). Polls until the wait busyStatus
	// started holds the one slot.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = busy.WaitStatus(wctx, busyID, &client.WaitOptions{ServerWait: time.Millisecond, PollInterval: 5 * time.Millisecond})
	assert.ErrorIs(t, err, wire.ErrUnavailable)
}

// busyStatus returns a client of a handler that lets one status request
// wait at a time (HandlerOptions.MaxStatusWaits), and the ID of an
// attachment whose processing stays pending until the test ends, for
// which a status request waits from now on.
func busyStatus(t *testing.T) (*client.Client, string) {
	t.Helper()
	release := make(chan struct{})
	hold := attachment.ProcessorFunc("hold", nil, func(ctx context.Context, _ *attachment.Task) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	e := newEnv(t, &envOpts{
		handler: &attachment.HandlerOptions{MaxStatusWaits: 1},
		service: func(t *testing.T) *attachment.Service {
			svc, err := attachment.New(storage.New(memblob.OpenBucket(nil)), memstore.New(), &attachment.Options{
				Processing: attachment.ProcessingOptions{NoImageProcessing: true, Processors: []attachment.Processor{hold}},
			})
			require.NoError(t, err)
			return svc
		},
	})
	a := e.upload("held.txt", []byte("x"), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Again whenever a request of the test holds the slot for its
		// moment.
		for ctx.Err() == nil {
			_, err := e.c.WaitStatus(ctx, a.ID, &client.WaitOptions{ServerWait: 20 * time.Second})
			if !errors.Is(err, wire.ErrUnavailable) {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { close(release); cancel(); <-done })
	return e.c, a.ID
}

// Answers that are not problems (a proxy's error page, a HEAD) still
// become *Error, their code taken from the status where it has only one.
func TestErrorWithoutProblemBody(t *testing.T) {
	status := http.StatusBadGateway
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("<h1>oops</h1>"))
	}))
	defer srv.Close()
	c, err := client.New(srv.URL+"/files", nil)
	require.NoError(t, err)
	ctx := context.Background()

	_, err = c.Get(ctx, "x")
	ce := requireCode(t, err, http.StatusBadGateway, "", nil)
	assert.Equal(t, "Bad Gateway", ce.Title)
	assert.Equal(t, "GET", ce.Method)
	assert.Equal(t, srv.URL+"/files/x/metadata", ce.URL)
	assert.Nil(t, errors.Unwrap(ce))

	for st, sentinel := range map[int]error{
		404: attachment.ErrNotFound, 401: attachment.ErrUnauthorized, 403: attachment.ErrForbidden,
		413: attachment.ErrTooLarge, 415: attachment.ErrUnsupportedType,
		503: attachment.ErrUnavailable, 507: attachment.ErrInsufficientStorage,
		410: attachment.ErrGone, 423: attachment.ErrLocked,
	} {
		status = st
		_, err = c.Head(ctx, "x")
		requireCode(t, err, st, "", sentinel)
		_, err = c.Upload(ctx, client.File{Name: "a", Content: strings.NewReader("x")}, nil)
		requireCode(t, err, st, "", sentinel)
	}
	status = http.StatusBadRequest // 400 has several codes: none is guessed
	_, err = c.Get(ctx, "x")
	requireCode(t, err, 400, "", nil)

	// A success status with a body that is not what the API sends.
	status = http.StatusOK
	_, err = c.Get(ctx, "x")
	require.Error(t, err)
	assert.NotErrorAs(t, err, &ce)
}

// The error's URL leaves out the query string, which may carry a
// signature or a search.
func TestErrorURLHasNoQuery(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.c.ListPage(context.Background(), &attachment.ListOptions{Owner: "secret-owner", Cursor: "bad"})
	var ce *client.Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, e.base+"/", ce.URL)
	assert.NotContains(t, err.Error(), "secret-owner")
}
