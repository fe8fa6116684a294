package e2e_test

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// serverBinary builds examples/server once per test process, from this
// repository's root module, with the go command on PATH (the one running
// the tests). It skips the test when there is no go command.
var serverBinary = sync.OnceValues(func() (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "attachment-e2e-server-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "server")
	build := exec.Command(goBin, "build", "-o", bin, "./examples/server")
	build.Dir = filepath.Join("..", "..") // the repository's root module
	if out, err := build.CombinedOutput(); err != nil {
		return "", &buildError{out: out, err: err}
	}
	return bin, nil
})

type buildError struct {
	out []byte
	err error
}

func (e *buildError) Error() string {
	return "go build ./examples/server: " + e.err.Error() + "\n" + string(e.out)
}

// startServer runs the built examples/server with args (which should
// include -addr 127.0.0.1:0) until the test ends, and returns the API's
// base URL as the server printed it ("http://127.0.0.1:PORT/PREFIX/").
func startServer(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := serverBinary()
	if _, ok := err.(*exec.Error); ok {
		t.Skipf("no go command on PATH to build examples/server: %v", err)
	}
	require.NoError(t, err)
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &syncWriter{w: &stderr}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, r)
	}()
	select {
	case line := <-lines:
		base, ok := strings.CutPrefix(strings.TrimSpace(line), "attachment API listening on ")
		require.True(t, ok, "the server did not start: stdout %q, stderr:\n%s", line, stderr.String())
		return base
	case <-time.After(60 * time.Second):
		require.FailNow(t, "the server did not print its listening line within 60s")
		return ""
	}
}

// syncWriter serializes writes from the child's stderr copier.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
