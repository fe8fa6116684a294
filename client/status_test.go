package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/client"
)

// statusRequests are the queries of the GET /{id}/status requests seen.
func (e *env) statusRequests() []url.Values {
	var out []url.Values
	for _, r := range e.requests() {
		if r.method == http.MethodGet && strings.HasSuffix(r.path, "/status") {
			q, _ := url.ParseQuery(r.query)
			out = append(out, q)
		}
	}
	return out
}

// WaitStatus returns once an image's thumbnail is made; the thumbnail is
// then served.
func TestWaitStatusImage(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := e.upload("pic.png", pngBytes(t, 400, 300), nil)
	require.Contains(t, a.Processing, "thumbnail")

	st, err := e.c.WaitStatus(ctx, a.ID, nil)
	require.NoError(t, err)
	assert.True(t, st.Done())
	assert.Equal(t, a.ID, st.ID)
	assert.Equal(t, "ready", st.State)
	assert.Equal(t, map[string]string{"analyze": "completed", "thumbnail": "completed"}, st.Processing)

	got, err := e.c.Get(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, [2]int{400, 300}, [2]int{got.Width, got.Height}, "analysed")
	body, _, err := e.c.Thumbnail(ctx, a.ID, 0)
	require.NoError(t, err)
	assert.NotEmpty(t, readAll(t, body))

	st2, err := e.c.Status(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, st, st2)

	_, err = e.c.WaitStatus(ctx, "01936f4e-8a6b-7cc2-9f1e-2b7c9d5e4a10", nil)
	requireCode(t, err, http.StatusNotFound, client.CodeNotFound, attachment.ErrNotFound)
	_, err = e.c.Status(ctx, "01936f4e-8a6b-7cc2-9f1e-2b7c9d5e4a10")
	requireCode(t, err, http.StatusNotFound, client.CodeNotFound, attachment.ErrNotFound)
}

// gate is a processor that finishes only once released.
type gate struct {
	once    sync.Once
	release chan struct{}
}

func newGateEnv(t *testing.T) (*env, *gate) {
	g := &gate{release: make(chan struct{})}
	p := attachment.ProcessorFunc("gate", func(*attachment.Attachment) bool { return true },
		func(ctx context.Context, _ *attachment.Task) error {
			select {
			case <-g.release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	e := newEnv(t, &envOpts{svc: &attachment.Options{Processing: attachment.ProcessingOptions{NoImageProcessing: true, Processors: []attachment.Processor{p}}}})
	t.Cleanup(g.open) // before the service closes
	return e, g
}

func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

func TestWaitStatusPolls(t *testing.T) {
	e, g := newGateEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := e.upload("a.txt", []byte("x"), nil)
	st, err := e.c.Status(ctx, a.ID)
	require.NoError(t, err)
	assert.False(t, st.Done())
	assert.Contains(t, []string{"pending", "processing"}, st.Processing["gate"])

	e.reset()
	time.AfterFunc(300*time.Millisecond, g.open)
	st, err = e.c.WaitStatus(ctx, a.ID, &client.WaitOptions{PollInterval: 20 * time.Millisecond, ServerWait: -1})
	require.NoError(t, err)
	assert.Equal(t, "completed", st.Processing["gate"])
	reqs := e.statusRequests()
	assert.GreaterOrEqual(t, len(reqs), 3, "polled")
	for _, q := range reqs {
		assert.Empty(t, q.Get("wait"), "polling only")
	}
}

func TestWaitStatusLongPolls(t *testing.T) {
	e, g := newGateEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := e.upload("a.txt", []byte("x"), nil)
	e.reset()
	time.AfterFunc(300*time.Millisecond, g.open)
	start := time.Now()
	st, err := e.c.WaitStatus(ctx, a.ID, &client.WaitOptions{ServerWait: 20 * time.Second, PollInterval: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, "completed", st.Processing["gate"])
	assert.Less(t, time.Since(start), 10*time.Second, "the server answered when the job finished")
	reqs := e.statusRequests()
	require.Len(t, reqs, 1, "one long poll")
	assert.Equal(t, "20s", reqs[0].Get("wait"))
}

func TestWaitStatusCanceled(t *testing.T) {
	e, _ := newGateEnv(t)
	a := e.upload("a.txt", []byte("x"), nil)
	for _, o := range []*client.WaitOptions{nil, {ServerWait: -1, PollInterval: 10 * time.Millisecond}} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		start := time.Now()
		st, err := e.c.WaitStatus(ctx, a.ID, o)
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 5*time.Second)
		if o != nil {
			require.NotNil(t, st, "the last status it had")
			assert.False(t, st.Done())
		}
	}
}

func TestStatusMany(t *testing.T) {
	e, g := newGateEnv(t)
	ctx := context.Background()
	a := e.upload("a.txt", []byte("x"), nil)
	missing := "01936f4e-8a6b-7cc2-9f1e-2b7c9d5e4a10"
	res, err := e.c.StatusMany(ctx, []string{a.ID, missing, "not-an-id"})
	require.NoError(t, err)
	require.Len(t, res, 3)
	require.NoError(t, res[a.ID].Err)
	assert.Equal(t, a.ID, res[a.ID].Status.ID)
	assert.Equal(t, "ready", res[a.ID].Status.State)
	assert.Contains(t, res[a.ID].Status.Processing, "gate")
	for _, id := range []string{missing, "not-an-id"} {
		assert.Nil(t, res[id].Status)
		assert.ErrorIs(t, res[id].Err, attachment.ErrNotFound)
	}

	g.open()
	_, err = e.c.WaitStatus(ctx, a.ID, nil)
	require.NoError(t, err)

	// More IDs than one request takes: several requests, one answer.
	ids := []string{a.ID}
	for i := range 1500 {
		ids = append(ids, fmt.Sprintf("01936f4e-8a6b-7cc2-9f1e-%012d", i))
	}
	e.reset()
	res, err = e.c.StatusMany(ctx, ids)
	require.NoError(t, err)
	assert.Len(t, res, len(ids))
	assert.Equal(t, "completed", res[a.ID].Status.Processing["gate"])
	assert.ErrorIs(t, res[ids[1500]].Err, attachment.ErrNotFound)
	n := 0
	for _, r := range e.requests() {
		if r.method == http.MethodPost && strings.HasSuffix(r.path, "/_status") {
			n++
		}
	}
	assert.Equal(t, 2, n)

	res, err = e.c.StatusMany(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, res)

	anon := newEnv(t, &envOpts{handler: &attachment.HandlerOptions{Access: tokenAccess()}})
	_, err = anon.c.StatusMany(ctx, []string{a.ID})
	requireCode(t, err, http.StatusUnauthorized, client.CodeUnauthorized, attachment.ErrUnauthorized)
	var ce *client.Error
	require.True(t, errors.As(err, &ce))
}
