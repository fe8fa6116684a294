package e2e_test

import (
	"bufio"
	"bytes"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// serverProcess is a running examples/server, which a test may kill and
// start again on the same address and stores.
type serverProcess struct {
	t    *testing.T
	args []string
	base string // the API's base URL, as the server printed it

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// startServerProcess runs the built examples/server with args (which
// should include -addr 127.0.0.1:0) until the test ends; its base is the
// API's base URL as the server printed it
// ("http://127.0.0.1:PORT/PREFIX/").
func startServerProcess(t *testing.T, args ...string) *serverProcess {
	t.Helper()
	p := &serverProcess{t: t, args: args}
	p.base = p.start(args)
	t.Cleanup(func() {
		p.mu.Lock()
		cmd, done := p.cmd, p.done
		p.mu.Unlock()
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	return p
}

// start runs the server with args and answers the base URL it printed.
func (p *serverProcess) start(args []string) string {
	t := p.t
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
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
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

// kill ends the server at once (SIGKILL, as a crash would), and waits
// for it to be gone.
func (p *serverProcess) kill() {
	p.t.Helper()
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	require.NoError(p.t, cmd.Process.Kill())
	<-done
}

// restart starts the server again with its arguments, on the address it
// listened on first (which -addr 127.0.0.1:0 had left to the system).
func (p *serverProcess) restart() {
	p.t.Helper()
	u, err := url.Parse(p.base)
	require.NoError(p.t, err)
	args := slices.Clone(p.args)
	i := slices.Index(args, "-addr")
	require.True(p.t, i >= 0 && i+1 < len(args), "the server was started without -addr")
	args[i+1] = u.Host
	base := p.start(args)
	require.Equal(p.t, p.base, base, "the server came back elsewhere")
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
