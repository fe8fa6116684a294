package metadata_test

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/memstore"
)

// recorder is an opener that remembers the URLs it was asked to open.
type recorder struct {
	mu   sync.Mutex
	urls []string
	err  error
}

func (r *recorder) OpenStoreURL(_ context.Context, u *url.URL) (metadata.Store, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.urls = append(r.urls, u.String())
	if r.err != nil {
		return nil, r.err
	}
	return memstore.New(), nil
}

func TestURLMuxZeroValue(t *testing.T) {
	var m metadata.URLMux
	require.Empty(t, m.Schemes())
	_, err := m.OpenStore(t.Context(), "mem://")
	require.ErrorContains(t, err, `"mem"`)

	rec := &recorder{}
	m.Register("fake", rec)
	s, err := m.OpenStore(t.Context(), "fake://host/path?x=1")
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.Equal(t, []string{"fake://host/path?x=1"}, rec.urls, "the opener gets the whole URL")
	require.Equal(t, []string{"fake"}, m.Schemes())
}

func TestURLMuxUnknownScheme(t *testing.T) {
	var m metadata.URLMux
	m.Register("one", &recorder{})
	m.Register("two", &recorder{})
	_, err := m.OpenStore(t.Context(), "postgres://db.example/attachments")
	require.ErrorContains(t, err, `"postgres"`)
	require.ErrorContains(t, err, "one, two", "the error lists what is registered")
	require.NotContains(t, err.Error(), "password")

	_, err = m.OpenStore(t.Context(), "postgres://user:password@db.example/x")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "password", "the error leaks the URL's password")
}

func TestURLMuxSchemeIsCaseInsensitive(t *testing.T) {
	var m metadata.URLMux
	rec := &recorder{}
	m.Register("Fake", rec)
	require.Equal(t, []string{"fake"}, m.Schemes())
	for _, u := range []string{"fake://a", "FAKE://b", "fAkE://c"} {
		s, err := m.OpenStore(t.Context(), u)
		require.NoError(t, err, u)
		require.NoError(t, s.Close())
	}
	require.Len(t, rec.urls, 3)
	require.Panics(t, func() { m.Register("FAKE", &recorder{}) }, "a scheme differing only in case is a duplicate")
}

func TestURLMuxRegisterPanics(t *testing.T) {
	var m metadata.URLMux
	m.Register("fake", &recorder{})
	require.PanicsWithValue(t, `metadata: scheme "fake" registered twice`, func() { m.Register("fake", &recorder{}) })
	require.Panics(t, func() { m.Register("other", nil) })
	require.Equal(t, []string{"fake"}, m.Schemes(), "a panicking Register registers nothing")
}

func TestURLMuxBadURLs(t *testing.T) {
	var m metadata.URLMux
	m.Register("fake", &recorder{})
	_, err := m.OpenStore(t.Context(), "no-scheme-here")
	require.ErrorContains(t, err, "no scheme")
	_, err = m.OpenStore(t.Context(), "fake://%zz")
	require.Error(t, err)
}

func TestURLMuxPassesOpenerErrors(t *testing.T) {
	var m metadata.URLMux
	boom := errors.New("boom")
	m.Register("fake", &recorder{err: boom})
	s, err := m.OpenStore(t.Context(), "fake://")
	require.ErrorIs(t, err, boom)
	require.Nil(t, s)
}

func TestURLOpenerFunc(t *testing.T) {
	var m metadata.URLMux
	var got *url.URL
	m.Register("fn", metadata.URLOpenerFunc(func(_ context.Context, u *url.URL) (metadata.Store, error) {
		got = u
		return memstore.New(), nil
	}))
	s, err := m.OpenStoreURL(t.Context(), &url.URL{Scheme: "FN", Host: "h"})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.Equal(t, "h", got.Host)
}

// Importing memstore registered mem:// with the default mux.
func TestDefaultURLMux(t *testing.T) {
	require.Same(t, metadata.DefaultURLMux(), metadata.DefaultURLMux())
	require.Contains(t, metadata.DefaultURLMux().Schemes(), "mem")
	s, err := metadata.OpenStore(t.Context(), "mem://")
	require.NoError(t, err)
	require.IsType(t, &memstore.Store{}, s)
	require.NoError(t, s.Close())
}

func TestURLMuxConcurrent(t *testing.T) {
	var m metadata.URLMux
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			m.Register(string(rune('a'+i)), &recorder{})
			_ = m.Schemes()
			_, _ = m.OpenStore(context.Background(), "a://")
		})
	}
	wg.Wait()
	require.Len(t, m.Schemes(), 8)
}

// A URL that does not parse is not echoed: it may hold a password.
func TestOpenStoreBadURLHidesPassword(t *testing.T) {
	var m metadata.URLMux
	_, err := m.OpenStore(t.Context(), "postgres://app:hunter2@db:badport/app")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter2")
	require.Contains(t, err.Error(), "invalid URL")
}
