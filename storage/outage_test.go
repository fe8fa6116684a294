package storage_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/memblob"

	"github.com/attachkit/attachment/internal/faultblob"
	"github.com/attachkit/attachment/storage"
	"github.com/attachkit/attachment/wire"
)

// faulty returns a Store over a memblob bucket behind faultblob, with the
// content of id stored.
func faulty(t *testing.T, opts ...storage.Option) (*storage.Store, *faultblob.Faults) {
	t.Helper()
	var f faultblob.Faults
	s := storage.New(faultblob.OpenBucket(memblob.OpenBucket(nil), &f), opts...)
	_, err := s.WriteContent(t.Context(), id, strings.NewReader("hello"), nil)
	require.NoError(t, err)
	return s, &f
}

// Errors of the bucket's driver that say it cannot be reached or is full
// wrap the API's sentinels, on every kind of call; others wrap neither.
func TestOutageErrors(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, tc := range []struct {
		name  string
		fault error
		want  error
	}{
		{"refused", refused, storage.ErrUnavailable},
		{"reset", syscall.ECONNRESET, storage.ErrUnavailable},
		{"s3 slow down", apiError("SlowDown"), storage.ErrUnavailable},
		{"s3 503", statusError(503), storage.ErrUnavailable},
		{"s3 507", statusError(507), storage.ErrInsufficientStorage},
		{"s3 insufficient storage", apiError("InsufficientStorage"), storage.ErrInsufficientStorage},
		{"enospc", &os.PathError{Op: "write", Path: "/x", Err: syscall.ENOSPC}, storage.ErrInsufficientStorage},
		{"edquot", syscall.EDQUOT, storage.ErrInsufficientStorage},
		{"other", fmt.Errorf("something else"), nil},
		{"local file", &os.LinkError{Op: "rename", Err: syscall.EXDEV}, nil},
		{"s3 access denied", apiError("AccessDenied"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, f := faulty(t)
			f.Set(func(string, string) error { return tc.fault })
			ctx := t.Context()
			_, err := s.OpenContent(ctx, id)
			errs := map[string]error{"open": err}
			_, errs["write"] = s.WriteContent(ctx, id, strings.NewReader("new"), nil)
			errs["delete"] = s.Delete(ctx, id)
			_, errs["exists"] = s.Exists(ctx, id)
			errs["derivative"] = s.WriteDerivative(ctx, id, "thumb", []byte("x"), "")
			for _, err := range s.Items(ctx, "") {
				errs["list"] = err
				break
			}
			for op, err := range errs {
				require.Error(t, err, op)
				assert.NotErrorIs(t, err, storage.ErrNotFound, op)
				if tc.want == nil {
					assert.NotErrorIs(t, err, wire.ErrUnavailable, op)
					assert.NotErrorIs(t, err, wire.ErrInsufficientStorage, op)
					continue
				}
				assert.ErrorIs(t, err, tc.want, "%s: %v", op, err)
				assert.ErrorIs(t, err, tc.fault, "%s: the cause is kept", op)
			}
		})
	}
}

// apiError is an S3-protocol server's error code, as smithy-go's
// APIError gives it.
type apiError string

func (e apiError) Error() string     { return "api error " + string(e) }
func (e apiError) ErrorCode() string { return string(e) }

// statusError is an S3-protocol server's answer status, as aws-sdk-go-v2's
// ResponseError gives it.
type statusError int

func (e statusError) Error() string       { return fmt.Sprintf("http response error StatusCode: %d", int(e)) }
func (e statusError) HTTPStatusCode() int { return int(e) }

// A bucket that stops answering fails each call after CallTimeout with
// ErrUnavailable, and works again once it answers, without a new Store.
func TestCallTimeout(t *testing.T) {
	const d = 100 * time.Millisecond
	s, f := faulty(t, storage.CallTimeout(d))
	f.Set(func(string, string) error { return faultblob.ErrStall })
	// Without the bound, the calls fail here, with the caller's deadline.
	ctx, cancelAll := context.WithTimeout(t.Context(), 50*d)
	defer cancelAll()
	calls := map[string]func() error{
		"open": func() error {
			o, err := s.OpenContent(ctx, id)
			if err == nil {
				o.Close()
			}
			return err
		},
		"write":  func() error { _, err := s.WriteContent(ctx, id, strings.NewReader("new"), nil); return err },
		"delete": func() error { return s.Delete(ctx, id) },
		"exists": func() error { _, err := s.Exists(ctx, id); return err },
	}
	for op, call := range calls {
		start := time.Now()
		err := call()
		took := time.Since(start)
		assert.ErrorIs(t, err, storage.ErrUnavailable, op)
		assert.Less(t, took, 20*d, "%s: not bounded", op)
	}
	f.Set(nil)
	for op, call := range calls {
		if op == "delete" {
			continue
		}
		assert.NoError(t, call(), op)
	}
	// The default bounds nothing: a stalled call waits for the caller.
	u, f2 := faulty(t)
	f2.Set(func(string, string) error { return faultblob.ErrStall })
	cctx, cancel := context.WithTimeout(ctx, 5*d)
	defer cancel()
	_, err := u.OpenContent(cctx, id)
	assert.NotErrorIs(t, err, storage.ErrUnavailable)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// A streaming write that keeps moving is not cut by CallTimeout, however
// long it takes in all: only each wait on the bucket is bounded.
func TestCallTimeoutLongWrite(t *testing.T) {
	const d = 50 * time.Millisecond
	s := storage.New(memblob.OpenBucket(nil), storage.CallTimeout(d))
	r := &slowReader{n: 8, every: d / 2, chunk: bytes.Repeat([]byte("x"), 1000)}
	start := time.Now()
	res, err := s.WriteContent(t.Context(), id, r, nil)
	require.NoError(t, err)
	assert.Greater(t, time.Since(start), 3*d, "the write took longer than one timeout")
	assert.EqualValues(t, 8000, res.Size)
}

// slowReader yields n chunks, one every so often.
type slowReader struct {
	n     int
	every time.Duration
	chunk []byte
}

func (r *slowReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	time.Sleep(r.every)
	r.n--
	return copy(p, r.chunk), nil
}

// A full local directory (fileblob on a small tmpfs) fails a write with
// ErrInsufficientStorage, and leaves nothing behind.
func TestFullDisk(t *testing.T) {
	dir := tmpfs(t, "1m")
	b, err := fileblob.OpenBucket(dir, &fileblob.Options{NoTempDir: true})
	require.NoError(t, err)
	s := storage.New(b, storage.FileDir(dir))
	defer b.Close()
	_, err = s.WriteContent(t.Context(), id, bytes.NewReader(make([]byte, 2<<20)), nil)
	require.ErrorIs(t, err, storage.ErrInsufficientStorage)
	require.ErrorIs(t, err, syscall.ENOSPC)
	ok, err := s.Exists(t.Context(), id)
	require.NoError(t, err)
	assert.False(t, ok)
	_, err = s.WriteContent(t.Context(), id, bytes.NewReader(make([]byte, 100<<10)), nil)
	require.NoError(t, err, "the space of the failed write was freed")
}

// tmpfs mounts a tmpfs of the size in a new directory, or skips the test
// where mounting is not allowed.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tmpfs")
	require.NoError(t, os.Mkdir(dir, 0o755))
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	return dir
}
