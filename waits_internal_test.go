package attachment

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/storage"
	"github.com/attachkit/attachment/wire"
)

// A notify wakes the subscribers of its ID and no other, and the notifier
// keeps nothing once nobody waits.
func TestNotifierPerID(t *testing.T) {
	var n notifier
	a1, doneA1 := n.subscribe("a")
	a2, doneA2 := n.subscribe("a")
	b, doneB := n.subscribe("b")
	n.notify("a")
	for _, ch := range []<-chan struct{}{a1, a2} {
		select {
		case <-ch:
		default:
			t.Fatal("a subscriber of a was not woken")
		}
	}
	select {
	case <-b:
		t.Fatal("a subscriber of b was woken by a's notify")
	default:
	}
	a3, doneA3 := n.subscribe("a")
	select {
	case <-a3:
		t.Fatal("a subscription after the notify sees only the next one")
	default:
	}
	n.notify("nobody")
	doneA1()
	doneA2()
	doneA3()
	doneB()
	assert.Zero(t, n.len(), "an entry outlived its waiters")
}

// thumbEnv is a service with one image whose thumbnails are not made, and
// a handler over it.
func thumbEnv(t *testing.T, o *Options) (*Service, http.Handler, string) {
	t.Helper()
	o.Processing.NoImageProcessing = true
	svc, err := New(storage.New(memblob.OpenBucket(nil)), memstore.New(), o)
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() })
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, 300, 200))))
	atts, err := svc.Upload(context.Background(), nil, File{Name: "g.png", Content: &buf})
	require.NoError(t, err)
	return svc, NewHandler(svc, nil), atts[0].ID
}

// holdDecoders takes every decode slot until the test ends or the
// returned function is called.
func holdDecoders(t *testing.T, svc *Service) (release func()) {
	t.Helper()
	th := &svc.core.thumbs
	for range cap(th.sem) {
		th.sem <- struct{}{}
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			for range cap(th.sem) {
				th.release()
			}
		})
	}
	t.Cleanup(release)
	return release
}

// An on-demand thumbnail that finds every decoder busy for the slot wait
// is a 503 unavailable with a Retry-After, not a 500 after
// Options.CommitTimeout; once a decoder is free it is made.
func TestThumbnailBusyDecodersUnavailable(t *testing.T) {
	svc, h, id := thumbEnv(t, &Options{CommitTimeout: 2 * time.Second, Thumbnails: ThumbnailOptions{Workers: 1}})
	svc.core.thumbs.slotWait = 100 * time.Millisecond
	release := holdDecoders(t, svc)

	start := time.Now()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/"+id+"/thumbnail?size=64", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
	assert.Less(t, time.Since(start), time.Second)
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	var p wire.Problem
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	assert.Equal(t, wire.CodeUnavailable, p.Code)
	assert.Equal(t, http.StatusServiceUnavailable, p.Status)
	assert.Zero(t, svc.core.thumbs.made.Load())

	release()
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/"+id+"/thumbnail?size=64", nil))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, int64(1), svc.core.thumbs.made.Load())
}

// A request waiting for a decoder stops when its context ends, and a
// request sharing its generation is not failed by that: it goes on
// waiting on its own context and gets the thumbnail.
func TestThumbnailWaitsOnTheRequestContext(t *testing.T) {
	svc, h, id := thumbEnv(t, &Options{CommitTimeout: 5 * time.Second, Thumbnails: ThumbnailOptions{Workers: 1}})
	release := holdDecoders(t, svc)

	// The first request, leader of the generation, is canceled while it
	// waits; the second shares the generation.
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan int, 1)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/"+id+"/thumbnail?size=64", nil).WithContext(ctx))
		first <- rec.Code
	}()
	second := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		time.Sleep(50 * time.Millisecond) // after the first, most likely: either order must work
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/"+id+"/thumbnail?size=64", nil))
		second <- rec
	}()
	time.Sleep(150 * time.Millisecond)
	cancel()
	start := time.Now()
	select {
	case <-first:
		assert.Less(t, time.Since(start), time.Second, "the canceled request returned promptly")
	case <-time.After(3 * time.Second):
		t.Fatal("a canceled request still waits for a decoder")
	}
	select {
	case rec := <-second:
		t.Fatalf("the second request ended with the first: %d %s", rec.Code, rec.Body.String())
	case <-time.After(100 * time.Millisecond):
	}
	release()
	select {
	case rec := <-second:
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	case <-time.After(5 * time.Second):
		t.Fatal("the second request never got its thumbnail")
	}
	assert.Equal(t, int64(1), svc.core.thumbs.made.Load())
}
