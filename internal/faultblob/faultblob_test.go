package faultblob

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/memblob"
	"gocloud.dev/gcerrors"
)

// open returns a memblob inner bucket and a faultblob wrapper over it.
func open(t *testing.T) (inner, b *blob.Bucket, f *Faults) {
	t.Helper()
	inner = memblob.OpenBucket(nil)
	f = &Faults{}
	b = OpenBucket(inner, f)
	t.Cleanup(func() {
		assert.NoError(t, b.Close())
		assert.NoError(t, inner.Close())
	})
	return inner, b, f
}

func listKeys(t *testing.T, b *blob.Bucket, opts *blob.ListOptions) []string {
	t.Helper()
	var keys []string
	it := b.List(opts)
	for {
		o, err := it.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return keys
		}
		require.NoError(t, err)
		keys = append(keys, o.Key)
	}
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	inner, b, f := open(t)

	content := []byte("hello, faultblob")
	sum := md5.Sum(content)
	require.NoError(t, b.WriteAll(ctx, "a/one.txt", content, &blob.WriterOptions{
		ContentType:  "text/plain",
		CacheControl: "no-cache",
		ContentMD5:   sum[:],
		Metadata:     map[string]string{"Owner": "me"},
	}))
	require.NoError(t, b.WriteAll(ctx, "a/two.bin", []byte{1, 2, 3}, nil))
	require.NoError(t, b.WriteAll(ctx, "b/three", []byte("3"), nil))

	// Written through the wrapper, visible in the inner bucket.
	got, err := inner.ReadAll(ctx, "a/one.txt")
	require.NoError(t, err)
	assert.Equal(t, content, got)

	// Read, full and ranged, with reader attributes.
	got, err = b.ReadAll(ctx, "a/one.txt")
	require.NoError(t, err)
	assert.Equal(t, content, got)
	r, err := b.NewRangeReader(ctx, "a/one.txt", 7, 5, nil)
	require.NoError(t, err)
	part, err := io.ReadAll(r)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	assert.Equal(t, "fault", string(part))
	assert.Equal(t, "text/plain", r.ContentType())
	assert.Equal(t, int64(len(content)), r.Size())
	assert.False(t, r.ModTime().IsZero())

	// Attributes carry the writer options that map.
	attrs, err := b.Attributes(ctx, "a/one.txt")
	require.NoError(t, err)
	assert.Equal(t, "text/plain", attrs.ContentType)
	assert.Equal(t, "no-cache", attrs.CacheControl)
	assert.Equal(t, map[string]string{"owner": "me"}, attrs.Metadata)
	assert.Equal(t, sum[:], attrs.MD5)
	assert.Equal(t, int64(len(content)), attrs.Size)

	// A wrong ContentMD5 fails and leaves nothing behind.
	err = b.WriteAll(ctx, "a/bad", content, &blob.WriterOptions{ContentMD5: []byte("0123456789abcdef")})
	require.Error(t, err)
	exists, err := inner.Exists(ctx, "a/bad")
	require.NoError(t, err)
	assert.False(t, exists)
	// Same with a content type, so the driver writer is open when the
	// portable type aborts it.
	err = b.WriteAll(ctx, "a/bad", content, &blob.WriterOptions{ContentType: "text/plain", ContentMD5: []byte("0123456789abcdef")})
	require.Error(t, err)
	exists, err = inner.Exists(ctx, "a/bad")
	require.NoError(t, err)
	assert.False(t, exists)

	// List: flat, paged, prefix and delimiter, lexicographic order.
	assert.Equal(t, []string{"a/one.txt", "a/two.bin", "b/three"}, listKeys(t, b, nil))
	assert.Equal(t, []string{"a/", "b/"}, listKeys(t, b, &blob.ListOptions{Delimiter: "/"}))
	assert.Equal(t, []string{"a/one.txt", "a/two.bin"}, listKeys(t, b, &blob.ListOptions{Prefix: "a/"}))
	page, next, err := b.ListPage(ctx, blob.FirstPageToken, 2, nil)
	require.NoError(t, err)
	require.Len(t, page, 2)
	assert.Equal(t, "a/one.txt", page[0].Key)
	assert.Equal(t, "a/two.bin", page[1].Key)
	require.NotEmpty(t, next)
	page, next, err = b.ListPage(ctx, next, 2, nil)
	require.NoError(t, err)
	require.Len(t, page, 1)
	assert.Equal(t, "b/three", page[0].Key)
	assert.Empty(t, next)

	// Copy and delete.
	require.NoError(t, b.Copy(ctx, "c/copy", "b/three", nil))
	got, err = inner.ReadAll(ctx, "c/copy")
	require.NoError(t, err)
	assert.Equal(t, "3", string(got))
	require.NoError(t, b.Delete(ctx, "c/copy"))
	exists, err = inner.Exists(ctx, "c/copy")
	require.NoError(t, err)
	assert.False(t, exists)

	// Inner NotFound errors keep their code.
	assert.Equal(t, gcerrors.NotFound, gcerrors.Code(b.Delete(ctx, "missing")))
	_, err = b.ReadAll(ctx, "missing")
	assert.Equal(t, gcerrors.NotFound, gcerrors.Code(err))
	_, err = b.Attributes(ctx, "missing")
	assert.Equal(t, gcerrors.NotFound, gcerrors.Code(err))
	assert.Equal(t, gcerrors.NotFound, gcerrors.Code(b.Copy(ctx, "x", "missing", nil)))

	_, err = b.SignedURL(ctx, "a/one.txt", nil)
	assert.Equal(t, gcerrors.Unimplemented, gcerrors.Code(err))

	// The first bad-MD5 write is rejected by the portable type before it
	// reaches the driver, the second reaches the driver's Close; the failed
	// copy of a missing source still counts.
	assert.Equal(t, 4, f.Calls(OpWrite))
	assert.Equal(t, 2, f.Calls(OpCopy))
}

func TestNthDeleteFailsAndLeavesObject(t *testing.T) {
	ctx := context.Background()
	inner, b, f := open(t)
	for _, k := range []string{"k1", "k2", "k3"} {
		require.NoError(t, b.WriteAll(ctx, k, []byte(k), nil))
	}

	boom := errors.New("boom")
	f.Set(func(op, _ string) error {
		if op == OpDelete && f.Calls(OpDelete) == 2 {
			return boom
		}
		return nil
	})

	require.NoError(t, b.Delete(ctx, "k1"))
	err := b.Delete(ctx, "k2")
	require.Error(t, err)
	assert.Equal(t, InjectedCode, gcerrors.Code(err))
	assert.NotEqual(t, gcerrors.NotFound, gcerrors.Code(err))
	assert.ErrorIs(t, err, boom)
	assert.NotErrorIs(t, err, gcerrors.ErrNotFound)
	require.NoError(t, b.Delete(ctx, "k3"))

	assert.Equal(t, 3, f.Calls(OpDelete))
	got, err := inner.ReadAll(ctx, "k2")
	require.NoError(t, err, "failed delete must leave the object in place")
	assert.Equal(t, "k2", string(got))
	for _, k := range []string{"k1", "k3"} {
		exists, err := inner.Exists(ctx, k)
		require.NoError(t, err)
		assert.False(t, exists, k)
	}

	// Retrying after the Nth call succeeds.
	require.NoError(t, b.Delete(ctx, "k2"))
	assert.Equal(t, 4, f.Calls(OpDelete))
}

func TestPrefixFaultsUntilHealed(t *testing.T) {
	ctx := context.Background()
	inner, b, f := open(t)
	for _, k := range []string{"derived/a", "derived/b", "orig/a"} {
		require.NoError(t, b.WriteAll(ctx, k, []byte(k), nil))
	}
	f.Set(func(op, key string) error {
		if op == OpDelete && strings.HasPrefix(key, "derived/") {
			return errors.New("derived store down")
		}
		return nil
	})
	for range 3 {
		err := b.Delete(ctx, "derived/a")
		assert.Equal(t, InjectedCode, gcerrors.Code(err))
	}
	require.NoError(t, b.Delete(ctx, "orig/a"))
	assert.Equal(t, []string{"derived/a", "derived/b"}, listKeys(t, inner, nil))

	f.Set(nil) // heal
	require.NoError(t, b.Delete(ctx, "derived/a"))
	require.NoError(t, b.Delete(ctx, "derived/b"))
	assert.Empty(t, listKeys(t, inner, nil))
	assert.Equal(t, 6, f.Calls(OpDelete))
}

func TestEveryOpInjectable(t *testing.T) {
	ctx := context.Background()
	inner, b, f := open(t)
	require.NoError(t, inner.WriteAll(ctx, "old", []byte("old"), nil))
	require.NoError(t, inner.WriteAll(ctx, "src", []byte("src"), nil))

	var seen []string
	var mu sync.Mutex
	f.Set(func(op, key string) error {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, op+":"+key)
		return fmt.Errorf("no %s", op)
	})

	check := func(op string, err error) {
		t.Helper()
		require.Error(t, err, op)
		assert.Equal(t, InjectedCode, gcerrors.Code(err), op)
	}

	_, err := b.ReadAll(ctx, "old")
	check(OpRead, err)
	_, err = b.Attributes(ctx, "old")
	check(OpAttributes, err)
	_, err = b.Exists(ctx, "old")
	check(OpAttributes, err)
	_, _, err = b.ListPage(ctx, blob.FirstPageToken, 10, &blob.ListOptions{Prefix: "o"})
	check(OpList, err)
	check(OpCopy, b.Copy(ctx, "dst", "src", nil))
	check(OpDelete, b.Delete(ctx, "old"))

	// A failed write (decided at Close) does not commit the object, nor
	// replace an existing one — with and without an explicit content type.
	check(OpWrite, b.WriteAll(ctx, "new", []byte("new"), nil))
	check(OpWrite, b.WriteAll(ctx, "old", []byte("replaced"), &blob.WriterOptions{ContentType: "text/plain"}))
	w, err := b.NewWriter(ctx, "streamed", &blob.WriterOptions{ContentType: "application/octet-stream"})
	require.NoError(t, err)
	_, err = w.Write([]byte(strings.Repeat("x", 1<<16)))
	require.NoError(t, err)
	check(OpWrite, w.Close())

	assert.Equal(t, []string{"old", "src"}, listKeys(t, inner, nil))
	got, err := inner.ReadAll(ctx, "old")
	require.NoError(t, err)
	assert.Equal(t, "old", string(got))

	assert.Equal(t, []string{
		"read:old", "attributes:old", "attributes:old", "list:o", "copy:dst",
		"delete:old", "write:new", "write:old", "write:streamed",
	}, seen)
	for op, n := range map[string]int{OpRead: 1, OpAttributes: 2, OpList: 1, OpCopy: 1, OpDelete: 1, OpWrite: 3} {
		assert.Equal(t, n, f.Calls(op), op)
	}
	assert.Zero(t, f.Calls("bogus"))

	f.Set(nil)
	require.NoError(t, b.WriteAll(ctx, "new", []byte("new"), nil))
	assert.Equal(t, []string{"new", "old", "src"}, listKeys(t, b, nil))
}

func TestFaultErrorCarryingCodeStaysInjected(t *testing.T) {
	ctx := context.Background()
	_, b, f := open(t)
	require.NoError(t, b.WriteAll(ctx, "k", []byte("v"), nil))

	// A NotFound-looking error from the fault function must not read as
	// NotFound: callers treat NotFound deletes as success.
	other := memblob.OpenBucket(nil)
	_, innerErr := other.Attributes(ctx, "nope")
	require.NoError(t, other.Close())
	require.Equal(t, gcerrors.NotFound, gcerrors.Code(innerErr))
	for _, injected := range []error{gcerrors.ErrNotFound, innerErr, context.Canceled} {
		f.Set(func(string, string) error { return injected })
		err := b.Delete(ctx, "k")
		assert.Equal(t, InjectedCode, gcerrors.Code(err), "%v", injected)
		assert.NotErrorIs(t, err, gcerrors.ErrNotFound)
		assert.Contains(t, err.Error(), injected.Error())
	}
}

func TestCloseLeavesInnerOpen(t *testing.T) {
	ctx := context.Background()
	inner := memblob.OpenBucket(nil)
	defer func() { assert.NoError(t, inner.Close()) }()
	b := OpenBucket(inner, nil) // nil Faults: nothing injected
	require.NoError(t, b.WriteAll(ctx, "k", []byte("v"), nil))
	require.NoError(t, b.Close())
	got, err := inner.ReadAll(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "v", string(got))
}

func TestOverFileblob(t *testing.T) {
	ctx := context.Background()
	inner, err := fileblob.OpenBucket(t.TempDir(), nil)
	require.NoError(t, err)
	defer func() { assert.NoError(t, inner.Close()) }()
	var f Faults
	b := OpenBucket(inner, &f)
	defer func() { assert.NoError(t, b.Close()) }()

	f.Set(func(op, _ string) error {
		if op == OpWrite {
			return errors.New("disk full")
		}
		return nil
	})
	w, err := b.NewWriter(ctx, "dir/k", &blob.WriterOptions{ContentType: "text/plain"})
	require.NoError(t, err)
	_, err = w.Write([]byte("data"))
	require.NoError(t, err)
	assert.Equal(t, InjectedCode, gcerrors.Code(w.Close()))
	exists, err := inner.Exists(ctx, "dir/k")
	require.NoError(t, err)
	assert.False(t, exists, "failed Close must not leave the object")

	f.Set(nil)
	require.NoError(t, b.WriteAll(ctx, "dir/k", []byte("data"), nil))
	got, err := b.ReadAll(ctx, "dir/k")
	require.NoError(t, err)
	assert.Equal(t, "data", string(got))
	assert.Equal(t, []string{"dir/k"}, listKeys(t, b, nil))
}

func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	inner, b, f := open(t)
	const workers, perWorker = 8, 25

	var wg sync.WaitGroup
	// Toggle faults on and off while workers run.
	stop := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				f.Set(func(op, key string) error {
					if op == OpDelete && strings.HasSuffix(key, "/0") {
						return errors.New("flaky")
					}
					return nil
				})
			} else {
				f.Set(nil)
			}
			_ = f.Calls(OpDelete)
		}
	})

	var workersWG sync.WaitGroup
	for w := range workers {
		workersWG.Go(func() {
			for i := range perWorker {
				key := fmt.Sprintf("w%d/%d", w, i)
				assert.NoError(t, b.WriteAll(ctx, key, []byte(key), nil))
				got, err := b.ReadAll(ctx, key)
				if assert.NoError(t, err) {
					assert.Equal(t, key, string(got))
				}
				_, err = b.Attributes(ctx, key)
				assert.NoError(t, err)
				_, _, err = b.ListPage(ctx, blob.FirstPageToken, 5, &blob.ListOptions{Prefix: fmt.Sprintf("w%d/", w)})
				assert.NoError(t, err)
				if err := b.Delete(ctx, key); err != nil {
					assert.Equal(t, InjectedCode, gcerrors.Code(err))
					assert.Equal(t, 0, i, "only keys ending in /0 may fail")
				}
			}
		})
	}
	workersWG.Wait()
	close(stop)
	wg.Wait()

	const n = workers * perWorker
	assert.Equal(t, n, f.Calls(OpWrite))
	assert.Equal(t, n, f.Calls(OpRead))
	assert.Equal(t, n, f.Calls(OpAttributes))
	assert.Equal(t, n, f.Calls(OpList))
	assert.Equal(t, n, f.Calls(OpDelete))
	// Whatever is left is exactly the keys whose delete was injected to fail.
	for _, k := range listKeys(t, inner, nil) {
		assert.True(t, strings.HasSuffix(k, "/0"), k)
	}
}
