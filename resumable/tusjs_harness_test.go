package resumable_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The harness of TestTusJS: tus-js-client installed from npm, the Node
// driver run on a scenario, and the server with its recording middleware.

// tusJS is tus-js-client installed in a temporary folder, with the node
// binary to run it.
type tusJS struct {
	node, module, driver string
}

// installTusJS installs tus-js-client from npm into a temporary folder,
// with a temporary npm cache so that nothing depends on an earlier run.
// Without node or npm it skips, except in CI (CI=true), where it fails.
func installTusJS(t *testing.T) *tusJS {
	t.Helper()
	node, errNode := exec.LookPath("node")
	npm, errNPM := exec.LookPath("npm")
	if errNode != nil || errNPM != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(tusJSNeeds + " (CI=true: the tus-js-client test must run)")
		}
		t.Skip(tusJSNeeds)
	}
	driver, err := filepath.Abs(filepath.Join("testdata", "tusjs", "driver.mjs"))
	require.NoError(t, err)

	dir := t.TempDir()
	cache := filepath.Join(dir, ".npm-cache")
	npmRun := func(args ...string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, append(args, "--cache", cache)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "npm_config_update_notifier=false")
		return cmd.CombinedOutput()
	}
	out, err := npmRun("init", "-y")
	require.NoError(t, err, "npm init -y: %s", out)
	install := []string{"install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", dir, "tus-js-client@" + tusJSVersion}
	out, err = npmRun(install...)
	if err != nil {
		t.Logf("npm install failed, trying once more: %v\n%s", err, out)
		out, err = npmRun(install...)
	}
	require.NoError(t, err, "npm install tus-js-client@%s: %s", tusJSVersion, out)

	ver, err := exec.CommandContext(t.Context(), node, "--version").Output()
	require.NoError(t, err)
	t.Logf("node %s, tus-js-client %s in %s", strings.TrimSpace(string(ver)), tusJSVersion, dir)
	return &tusJS{node: node, module: dir, driver: driver}
}

// event is one JSON line of the driver (see driver.mjs).
type event struct {
	Event         string `json:"event"`
	Version       string `json:"version"`
	URL           string `json:"url"`
	Location      string `json:"location"`
	Message       string `json:"message"`
	Body          string `json:"body"`
	Status        int    `json:"status"`
	BytesSent     int64  `json:"bytesSent"`
	BytesTotal    int64  `json:"bytesTotal"`
	ChunkSize     int64  `json:"chunkSize"`
	BytesAccepted int64  `json:"bytesAccepted"`
}

// driverRun is what one run of the driver printed and how it ended.
type driverRun struct {
	events []event
	err    error
	stderr string
}

// run runs the driver on scenario (the module folder is added) to its end.
func (js *tusJS) run(t *testing.T, scenario map[string]any) *driverRun {
	t.Helper()
	return js.start(t, scenario).wait(t)
}

// driverProc is a running driver; done is closed when it has ended.
type driverProc struct {
	cmd            *exec.Cmd
	cancel         context.CancelFunc
	stdout, stderr bytes.Buffer
	done           chan struct{}
	err            error
}

// start starts the driver on scenario (the module folder is added).
func (js *tusJS) start(t *testing.T, scenario map[string]any) *driverProc {
	t.Helper()
	scenario["module"] = js.module
	arg, err := json.Marshal(scenario)
	require.NoError(t, err)
	// A guard against a hung client, not a measurement.
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	p := &driverProc{cancel: cancel, done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, js.node, js.driver, string(arg))
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	require.NoError(t, p.cmd.Start())
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	return p
}

// wait waits for the driver to end and checks that it reported the
// installed version first.
func (p *driverProc) wait(t *testing.T) *driverRun {
	t.Helper()
	defer p.cancel()
	<-p.done
	r := &driverRun{err: p.err, stderr: p.stderr.String()}
	sc := bufio.NewScanner(&p.stdout)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var e event
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), "driver line %q", sc.Text())
		r.events = append(r.events, e)
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, r.events, "driver printed nothing: %v\n%s", r.err, r.stderr)
	require.Equal(t, "start", r.events[0].Event)
	require.Equal(t, tusJSVersion, r.events[0].Version, "installed tus-js-client")
	return r
}

// all returns the events of one kind.
func (r *driverRun) all(kind string) []event {
	var out []event
	for _, e := range r.events {
		if e.Event == kind {
			out = append(out, e)
		}
	}
	return out
}

// only requires exactly one event of kind, a clean exit and no error
// event, and returns it.
func (r *driverRun) only(t *testing.T, kind string) event {
	t.Helper()
	for _, e := range r.all("error") {
		// The client's message quotes the response body already.
		t.Errorf("tus-js-client error (status %d): %s", e.Status, e.Message)
	}
	require.NoError(t, r.err, "driver: %s", r.stderr)
	got := r.all(kind)
	require.Len(t, got, 1, "%q events", kind)
	return got[0]
}

// success requires the upload to have succeeded and returns that event.
func (r *driverRun) success(t *testing.T) event {
	t.Helper()
	e := r.only(t, "success")
	require.NotEmpty(t, e.URL)
	return e
}

// lastChunk is the last onChunkComplete.
func (r *driverRun) lastChunk() event {
	c := r.all("chunk")
	if len(c) == 0 {
		return event{}
	}
	return c[len(c)-1]
}

// jsServer is the env (file + SQLite) served over HTTP by httptest, every
// request recorded.
type jsServer struct {
	env *env
	srv *httptest.Server
	rec *recording
}

func newJSServer(t *testing.T) *jsServer {
	t.Helper()
	return newJSServerBuf(t, 0)
}

// newJSServerBuf is newJSServer with the socket receive buffer of every
// accepted connection set to rcvbuf bytes (when positive), so that little
// of a request body waits in the kernel unread.
func newJSServerBuf(t *testing.T, rcvbuf int) *jsServer {
	t.Helper()
	e := newEnv(t, backends()[0], nil)
	require.Equal(t, "file+sqlite", backends()[0].name)
	rec := &recording{}
	srv := httptest.NewUnstartedServer(rec.wrap(e.srv))
	if rcvbuf > 0 {
		srv.Listener = smallBufListener{srv.Listener, rcvbuf}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if t.Failed() {
			for _, x := range rec.all() {
				t.Logf("recorded: %v", x)
			}
		}
	})
	return &jsServer{env: e, srv: srv, rec: rec}
}

// scenario is a driver scenario uploading path to this server as "alice"
// with the name filename, plus the options in more.
func (s *jsServer) scenario(path, filename string, more map[string]any) map[string]any {
	sc := map[string]any{
		"endpoint": s.srv.URL + prefix + "/uploads/",
		"file":     path,
		"headers":  map[string]string{"X-User": "alice"},
		"metadata": map[string]string{"filename": filename, "filetype": "application/octet-stream"},
	}
	for k, v := range more {
		sc[k] = v
	}
	return sc
}

// check downloads the attachment of uploadURL through the native API and
// compares it with data and filename.
func (s *jsServer) check(t *testing.T, uploadURL string, data []byte, filename string) {
	t.Helper()
	require.True(t, strings.HasPrefix(uploadURL, s.srv.URL+prefix+"/uploads/"), uploadURL)
	got, a := s.env.download(idOf(uploadURL))
	assert.Equal(t, sha(data), sha(got), "downloaded content")
	assert.Equal(t, sha(data), a.SHA256)
	assert.Equal(t, int64(len(data)), a.Size)
	assert.Equal(t, filename, a.Filename)
}

// smallBufListener sets the receive buffer of the connections it accepts.
type smallBufListener struct {
	net.Listener
	rcvbuf int
}

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		if err := tc.SetReadBuffer(l.rcvbuf); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, err
}

// randomFile writes n random bytes to a new file.
func randomFile(t *testing.T, n int) (string, []byte) {
	t.Helper()
	data := make([]byte, n)
	_, err := rand.Read(data)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "upload.bin")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path, data
}

// exchange is one recorded request and its answer.
type exchange struct {
	Method, Path string
	ReqOffset    string // request Upload-Offset
	Concat       string // request Upload-Concat
	Interop      string // request Upload-Draft-Interop-Version
	BodyBytes    int64  // request body bytes the handler read
	Status       int    // final status (informational ones in Info)
	Info         []int
	RespOffset   string // response Upload-Offset
	Problem      string // start of the body of an error response
}

func (x exchange) String() string {
	return fmt.Sprintf("%s %s offset=%q body=%d concat=%q interop=%q -> %d%v offset=%q %s",
		x.Method, x.Path, x.ReqOffset, x.BodyBytes, x.Concat, x.Interop, x.Status, x.Info, x.RespOffset, x.Problem)
}

// recording is a middleware that records every exchange.
type recording struct {
	mu    sync.Mutex
	ex    []exchange
	pause *pause
}

// pause holds the body of the PATCH at Upload-Offset offset once the
// handler has read at bytes of it: reached is closed, and the next reads
// wait until release is closed.
type pause struct {
	offset           string
	at               int64
	once, freed      sync.Once
	reached, release chan struct{}
}

// free lets the held body go on.
func (p *pause) free() { p.freed.Do(func() { close(p.release) }) }

func newPause(offset, at int64) *pause {
	return &pause{offset: strconv.FormatInt(offset, 10), at: at, reached: make(chan struct{}), release: make(chan struct{})}
}

func (rc *recording) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := &countingBody{ReadCloser: r.Body}
		rc.mu.Lock()
		p := rc.pause
		rc.mu.Unlock()
		if p != nil && r.Method == "PATCH" && r.Header.Get("Upload-Offset") == p.offset {
			body.pause = p
		}
		r.Body = body
		rw := &recordingWriter{ResponseWriter: w}
		h.ServeHTTP(rw, r)
		x := exchange{
			Method: r.Method, Path: r.URL.Path,
			ReqOffset: r.Header.Get("Upload-Offset"),
			Concat:    r.Header.Get("Upload-Concat"),
			Interop:   r.Header.Get("Upload-Draft-Interop-Version"),
			BodyBytes: body.n.Load(),
			Status:    rw.status, Info: rw.info,
			RespOffset: rw.offset,
			Problem:    rw.problem.String(),
		}
		if x.Status == 0 {
			x.Status = http.StatusOK
		}
		rc.mu.Lock()
		rc.ex = append(rc.ex, x)
		rc.mu.Unlock()
	})
}

// all returns the exchanges so far, in the order they ended.
func (rc *recording) all() []exchange {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]exchange(nil), rc.ex...)
}

type countingBody struct {
	io.ReadCloser
	n     atomic.Int64
	pause *pause
}

func (b *countingBody) Read(p []byte) (int, error) {
	if b.pause != nil && b.n.Load() >= b.pause.at {
		b.pause.once.Do(func() { close(b.pause.reached) })
		<-b.pause.release
	}
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// recordingWriter notes the final status and the Upload-Offset sent with
// it, and the informational statuses before it.
type recordingWriter struct {
	http.ResponseWriter
	status  int
	info    []int
	offset  string
	problem bytes.Buffer
}

func (w *recordingWriter) WriteHeader(code int) {
	switch {
	case code < 200:
		w.info = append(w.info, code)
	case w.status == 0:
		w.status = code
		w.offset = w.Header().Get("Upload-Offset")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.status >= 400 && w.problem.Len() < 512 {
		w.problem.Write(p[:min(len(p), 512-w.problem.Len())])
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
