package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/gcerrors"

	"github.com/attachkit/attachment/storage"
)

// fakeBucket is a driver that records what its writers do, in the two ways
// real drivers end an upload whose source fails:
//
//   - sync (fileblob, memblob): Upload reads on the caller's goroutine, and
//     Close commits what was read unless the context is cancelled;
//   - async (s3blob): Upload reads on a goroutine of its own; a source that
//     fails makes it abort with its context (AbortMultipartUpload), which
//     fails if the context is cancelled and leaves the parts behind.
//
// It records deletes too.
type fakeBucket struct {
	driver.Bucket // the methods the tests do not reach
	async         bool

	mu     sync.Mutex
	events []string
}

func (b *fakeBucket) record(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = append(b.events, fmt.Sprintf(format, args...))
}

func (b *fakeBucket) recorded() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.events...)
}

var errFakeNotFound = errors.New("fake: not found")

func (b *fakeBucket) ErrorCode(err error) gcerrors.ErrorCode {
	if errors.Is(err, errFakeNotFound) {
		return gcerrors.NotFound
	}
	return gcerrors.Unknown
}

func (b *fakeBucket) Close() error { return nil }

// As finds nothing: the fake is no S3 bucket (s3uploads asks).
func (b *fakeBucket) As(any) bool { return false }

func (b *fakeBucket) Delete(ctx context.Context, key string, opts *driver.DeleteOptions) error {
	b.record("delete")
	return errFakeNotFound
}

func (b *fakeBucket) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	return &fakeWriter{b: b, ctx: ctx, done: make(chan struct{})}, nil
}

type fakeWriter struct {
	b    *fakeBucket
	ctx  context.Context
	done chan struct{}
	n    int64
	err  error
}

func (w *fakeWriter) Write(p []byte) (int, error) {
	w.b.record("write pushed")
	return len(p), nil
}

func (w *fakeWriter) Upload(r io.Reader) error {
	if !w.b.async {
		w.n, w.err = io.Copy(io.Discard, r)
		close(w.done)
		return nil // Close reports nothing either: fileblob commits
	}
	go func() {
		defer close(w.done)
		w.n, w.err = io.Copy(io.Discard, r)
		if w.err != nil {
			if w.ctx.Err() != nil {
				w.b.record("abort failed: context cancelled, parts left")
			} else {
				w.b.record("abort")
			}
		}
	}()
	return nil
}

func (w *fakeWriter) Close() error {
	<-w.done
	if w.b.async && w.err != nil {
		return w.err
	}
	if err := w.ctx.Err(); err != nil {
		w.b.record("discard")
		return err
	}
	w.b.record("commit %d bytes", w.n)
	return nil
}

// The source of an upload fails the driver's read, never ending it, and the
// driver's context stays live until Upload returns, whichever goroutine
// the driver reads on: a driver that reads on its own aborts the upload
// with a context that works, one that reads on the caller's commits what it
// read on Close. Either way the key is deleted afterwards.
func TestUploadEndsTheWayTheDriverNeeds(t *testing.T) {
	content := bytes.Repeat([]byte("c"), 3<<20)
	checkErr := errors.New("refused by check")
	cases := []struct {
		name string
		run  func(s *storage.Store) error
		want error
	}{
		{"reader fails", func(s *storage.Store) error {
			_, err := s.WriteContent(context.Background(), id, &failAfter{r: bytes.NewReader(content), n: 2 << 20, err: io.ErrUnexpectedEOF}, nil)
			return err
		}, io.ErrUnexpectedEOF},
		{"too large", func(s *storage.Store) error {
			_, err := s.WriteContent(context.Background(), id, bytes.NewReader(content), &storage.WriteOptions{MaxBytes: 2 << 20})
			return err
		}, storage.ErrTooLarge},
		{"check refuses", func(s *storage.Store) error {
			_, err := s.WriteContent(context.Background(), id, bytes.NewReader(content), &storage.WriteOptions{Check: func(storage.WriteResult) error { return checkErr }})
			return err
		}, checkErr},
		{"small content, check refuses", func(s *storage.Store) error {
			_, err := s.WriteContent(context.Background(), id, bytes.NewReader(content[:10]), &storage.WriteOptions{Check: func(storage.WriteResult) error { return checkErr }})
			return err
		}, checkErr},
		{"context cancelled", func(s *storage.Store) error {
			ctx, cancel := context.WithCancel(context.Background())
			_, err := s.WriteContent(ctx, id, &cancelAfter{r: bytes.NewReader(content), n: 2 << 20, cancel: cancel}, nil)
			return err
		}, context.Canceled},
	}
	for _, async := range []bool{false, true} {
		kind, ends := "sync", "commit "
		if async {
			kind, ends = "async", "abort"
		}
		for _, tc := range cases {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				fb := &fakeBucket{async: async}
				b := blob.NewBucket(fb)
				defer b.Close()
				err := tc.run(storage.New(b))
				require.Error(t, err)
				assert.ErrorIs(t, err, tc.want, "the source's failure is returned as it is")
				got := fb.recorded()
				require.Len(t, got, 2, "events: %q", got)
				assert.True(t, strings.HasPrefix(got[0], ends), "the driver ends the upload with a live context: %q", got)
				assert.Equal(t, "delete", got[1], "then the key is deleted")
			})
		}
		t.Run(kind+"/success", func(t *testing.T) {
			fb := &fakeBucket{async: async}
			b := blob.NewBucket(fb)
			defer b.Close()
			res, err := storage.New(b).WriteContent(context.Background(), id, bytes.NewReader(content), nil)
			require.NoError(t, err)
			assert.Equal(t, int64(len(content)), res.Size)
			assert.Equal(t, []string{fmt.Sprintf("commit %d bytes", len(content))}, fb.recorded(), "the driver pulls the content")
		})
	}
}
