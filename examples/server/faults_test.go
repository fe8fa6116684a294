package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/internal/s3test"
)

// The fault suite of issue 12: the server runs as a child process on its
// own PostgreSQL and versitygw (started here with .ci/services, never the
// ones the rest of the tests share), under a load of uploads and
// downloads, while one of them is stopped and started again. Every answer
// during the fault must be one the API documents for it (503 unavailable
// with Retry-After), none may hang, the server recovers without a
// restart, no acknowledged upload is lost, and Maintain leaves nothing
// behind.
const (
	faultWorkers = 4
	// faultHang bounds every request: the server's StoreTimeout (its
	// default, 30 s) plus a margin. A request that takes longer hangs.
	faultHang = attachment.DefaultStoreTimeout + 10*time.Second
	// faultMaxSize is the largest file of the load (sizes log-uniform
	// from 1 KiB).
	faultMaxSize = 512 << 10
)

// faultServices is a PostgreSQL cluster and a versitygw of one test.
type faultServices struct {
	dir            string
	pgBin, pgData  string
	pgPort, s3Port string
	gwBin          string
	key, secret    string
	pgURL, s3URL   string
	gw             *exec.Cmd // the versitygw this test restarted, if any
}

// faultSuite skips t under -short, and where the server tests do not run:
// when ATTACHMENT_TEST_POSTGRES_URL is not set (a newcomer's machine, CI's
// first run on an empty module cache). The suite takes a minute or two and
// starts its own servers, but runs only where the others do: in CI's main
// run, or after `eval "$(.ci/services start DIR)"`.
func faultSuite(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("fault suite: runs the server (and PostgreSQL and versitygw) as child processes; skipped under -short")
	}
	if os.Getenv("ATTACHMENT_TEST_POSTGRES_URL") == "" {
		t.Skip("fault suite: ATTACHMENT_TEST_POSTGRES_URL is not set, so this machine runs no server tests; " +
			`run it after eval "$(.ci/services start /tmp/attachment-services)" (it starts servers of its own)`)
	}
}

// startFaultServices starts the test's own servers with .ci/services, and
// points the AWS SDK (of this process and of the server it starts) at
// them. Outside CI it skips when they cannot be had; in CI (CI=true) it
// fails instead.
func startFaultServices(t *testing.T) *faultServices {
	t.Helper()
	faultSuite(t)
	inCI := os.Getenv("CI") == "true"
	unavailable := func(format string, args ...any) {
		t.Helper()
		if inCI {
			t.Fatalf("fault suite (CI=true, so not skipped): "+format, args...)
		}
		t.Skipf("fault suite: "+format, args...)
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		unavailable("no PostgreSQL server under /usr/lib/postgresql (apt-get install postgresql)")
	}
	gwBin := filepath.Join(os.TempDir(), "attachment-ci-bin", "versitygw")
	if _, err := os.Stat(gwBin); err != nil && !inCI {
		unavailable("versitygw is not installed at %s (.ci/services start DIR installs it)", gwBin)
	}
	script, err := filepath.Abs(filepath.Join("..", "..", ".ci", "services"))
	require.NoError(t, err)
	// Not t.TempDir: its parents are private to root, and PostgreSQL runs
	// as the postgres user.
	dir, err := os.MkdirTemp("", "attachment-faults-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() {
		_ = exec.Command(script, "stop", dir).Run()
		_ = os.RemoveAll(dir)
	})
	cmd := exec.Command(script, "start", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		unavailable(".ci/services start failed: %v\n%s", err, stderr.String())
	}
	env := map[string]string{}
	for _, m := range regexp.MustCompile(`(\w+)='([^']*)'`).FindAllStringSubmatch(string(out), -1) {
		env[m[1]] = m[2]
	}
	s := &faultServices{
		dir: dir, gwBin: gwBin, pgData: filepath.Join(dir, "pg"),
		pgURL: env["ATTACHMENT_TEST_POSTGRES_URL"], s3URL: env["ATTACHMENT_TEST_S3_URL"],
		key: env["AWS_ACCESS_KEY_ID"], secret: env["AWS_SECRET_ACCESS_KEY"],
	}
	require.NotEmpty(t, s.pgURL, "services output: %s", out)
	require.NotEmpty(t, s.s3URL, "services output: %s", out)
	pgBin, err := os.ReadFile(filepath.Join(dir, "pg.bin"))
	require.NoError(t, err)
	s.pgBin = strings.TrimSpace(string(pgBin))
	pu, err := url.Parse(s.pgURL)
	require.NoError(t, err)
	s.pgPort = pu.Port()
	su, err := url.Parse(s.s3URL)
	require.NoError(t, err)
	eu, err := url.Parse(su.Query().Get("endpoint"))
	require.NoError(t, err)
	s.s3Port = eu.Port()
	t.Setenv(s3test.EnvURL, s.s3URL)
	t.Setenv("AWS_ACCESS_KEY_ID", s.key)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.secret)
	t.Cleanup(func() {
		if s.gw != nil && s.gw.ProcessState == nil {
			_ = s.gw.Process.Kill()
			_ = s.gw.Wait()
		}
	})
	return s
}

// asPostgres runs a PostgreSQL program as the postgres user when the test
// runs as root (as .ci/services does).
func (s *faultServices) asPostgres(t *testing.T, prog string, args ...string) {
	t.Helper()
	argv := append([]string{filepath.Join(s.pgBin, prog)}, args...)
	var cmd *exec.Cmd
	if os.Getuid() == 0 {
		quoted := make([]string, len(argv))
		for i, a := range argv {
			quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		cmd = exec.Command("su", "postgres", "-s", "/bin/sh", "-c", strings.Join(quoted, " "))
	} else {
		cmd = exec.Command(argv[0], argv[1:]...)
	}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s: %s", prog, out)
}

// stopPostgres stops the cluster as an operator would for a restart:
// connections are terminated, new ones refused.
func (s *faultServices) stopPostgres(t *testing.T) {
	t.Helper()
	s.asPostgres(t, "pg_ctl", "-D", s.pgData, "-m", "fast", "-w", "stop")
}

// startPostgres starts the cluster again, on its port, with the options
// .ci/services gave it.
func (s *faultServices) startPostgres(t *testing.T) {
	t.Helper()
	s.asPostgres(t, "pg_ctl", "-D", s.pgData, "-l", filepath.Join(s.pgData, "server.log"), "-w", "-t", "60",
		"-o", "-p "+s.pgPort+" -c listen_addresses=127.0.0.1 -c unix_socket_directories="+s.pgData+
			" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
		"start")
}

// killVersitygw SIGKILLs the running versitygw and waits until its port
// is closed.
func (s *faultServices) killVersitygw(t *testing.T) {
	t.Helper()
	if s.gw != nil {
		require.NoError(t, s.gw.Process.Kill())
		_ = s.gw.Wait()
	} else {
		raw, err := os.ReadFile(filepath.Join(s.dir, "versitygw.pid"))
		require.NoError(t, err)
		var pid int
		_, err = fmt.Sscan(string(raw), &pid)
		require.NoError(t, err)
		require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	}
	require.Eventually(t, func() bool { return !s.s3Listening() }, 10*time.Second, 10*time.Millisecond, "versitygw still listens after SIGKILL")
}

// startVersitygw starts versitygw again on the same port and directory.
func (s *faultServices) startVersitygw(t *testing.T) {
	t.Helper()
	cmd := exec.Command(s.gwBin, "--port", "127.0.0.1:"+s.s3Port, "--access", s.key, "--secret", s.secret, "posix", filepath.Join(s.dir, "s3"))
	log, err := os.OpenFile(filepath.Join(s.dir, "versitygw.log"), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	require.NoError(t, err)
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	require.NoError(t, cmd.Start())
	s.gw = cmd
	require.Eventually(t, s.s3Listening, 10*time.Second, 10*time.Millisecond, "versitygw did not start again")
}

func (s *faultServices) s3Listening() bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+s.s3Port, time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// buildServer builds examples/server into a temporary directory.
func buildServer(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("fault suite: no go command on PATH to build the server: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "server")
	out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// faultAck is an upload the server acknowledged with a 201.
type faultAck struct {
	id string
	f  *crashFile
}

// faultLoad is a bounded load of uploads and downloads (of acknowledged
// files) against one server, which records every answer, by phase.
type faultLoad struct {
	t      *testing.T
	client *http.Client
	base   string
	// killed: the server is SIGKILLed under this load, so requests may
	// end without an answer (but an answer must still be allowed).
	killed bool

	phase atomic.Pointer[string]
	stop  atomic.Bool
	wg    sync.WaitGroup

	mu     sync.Mutex
	acked  []faultAck
	counts map[string]map[string]int // phase → "GET 200" → n
	bad    []string                  // answers the API does not allow here
	slow   map[string]time.Duration  // phase → longest request
}

func newFaultLoad(t *testing.T, base string) *faultLoad {
	l := &faultLoad{
		t: t, base: base,
		client: &http.Client{Timeout: faultHang, Transport: &http.Transport{MaxIdleConnsPerHost: faultWorkers * 2}},
		counts: map[string]map[string]int{},
		slow:   map[string]time.Duration{},
	}
	l.setPhase("before")
	return l
}

func (l *faultLoad) setPhase(p string) { l.phase.Store(&p) }

// start runs faultWorkers workers until finish. Each request is bounded
// in time (faultHang), and a worker pauses a little after a 503.
func (l *faultLoad) start(seed uint64) {
	for w := range faultWorkers {
		l.wg.Go(func() {
			rng := rand.New(rand.NewChaCha8(seedBytes(seed, w)))
			for n := 0; !l.stop.Load(); n++ {
				status := l.one(rng, fmt.Sprintf("w%d-r%d", w, n))
				if status != http.StatusOK && status != http.StatusCreated {
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
}

// finish stops the workers and waits for them.
func (l *faultLoad) finish() {
	l.stop.Store(true)
	l.wg.Wait()
	l.client.CloseIdleConnections()
}

// one sends one upload, or one download of an acknowledged file, and
// records its answer; it returns the status (0 for none).
func (l *faultLoad) one(rng *rand.Rand, name string) int {
	l.mu.Lock()
	var get *faultAck
	if len(l.acked) > 0 && rng.IntN(10) < 3 {
		a := l.acked[rng.IntN(len(l.acked))]
		get = &a
	}
	l.mu.Unlock()
	if get != nil {
		return l.download(*get)
	}
	lo, hi := math.Log(1<<10), math.Log(faultMaxSize)
	f := newFaultFile(rng, name+".bin", int(math.Exp(lo+rng.Float64()*(hi-lo))))
	status, id := l.upload(f, bytes.NewReader(f.data))
	if status == http.StatusCreated {
		l.mu.Lock()
		l.acked = append(l.acked, faultAck{id, f})
		l.mu.Unlock()
	}
	return status
}

func newFaultFile(rng *rand.Rand, name string, size int) *crashFile {
	data := make([]byte, size)
	for j := 0; j < size; j += 8 {
		v := rng.Uint64()
		for k := 0; k < 8 && j+k < size; k++ {
			data[j+k] = byte(v >> (8 * k))
		}
	}
	sum := sha256.Sum256(data)
	return &crashFile{name: name, data: data, sum: hex.EncodeToString(sum[:])}
}

// record notes an answer, and whether it is one the API allows during a
// fault: ok (200 or 201, as want says) or 503 unavailable with
// Retry-After. Anything else, a transport error included (the server
// itself never goes away here), is bad.
func (l *faultLoad) record(what string, want int, resp *http.Response, body []byte, err error, took time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	phase := l.tally(took)
	if err != nil {
		l.counts[phase][what+" error"]++
		if l.killed {
			return
		}
		l.bad = append(l.bad, fmt.Sprintf("%s: %s after %v: %v", phase, what, took, err))
		return
	}
	l.counts[phase][fmt.Sprintf("%s %d", what, resp.StatusCode)]++
	switch {
	case resp.StatusCode == want:
	case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" && bytes.Contains(body, []byte(`"unavailable"`)):
	default:
		l.bad = append(l.bad, fmt.Sprintf("%s: %s answered %d (Retry-After %q) after %v: %.300s", phase, what, resp.StatusCode, resp.Header.Get("Retry-After"), took, body))
	}
}

// cut counts an answer whose status arrived but whose body was cut short
// of its Content-Length: allowed while the store is down, since the
// client can tell the body is incomplete.
func (l *faultLoad) cut(what string, took time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts[l.tally(took)][what+" 200 cut"]++
}

// tally returns the phase an answer that took took belongs to, with its
// count map made and its longest request updated. l.mu must be held.
func (l *faultLoad) tally(took time.Duration) string {
	phase := *l.phase.Load()
	if took > l.slow[phase] {
		l.slow[phase] = took
	}
	if l.counts[phase] == nil {
		l.counts[phase] = map[string]int{}
	}
	return phase
}

// upload sends f raw, its body read from body; it returns the status and,
// on a 201, the ID.
func (l *faultLoad) upload(f *crashFile, body io.Reader) (int, string) {
	req, err := http.NewRequest("POST", l.base+"?filename="+url.QueryEscape(f.name), body)
	require.NoError(l.t, err)
	req.Header.Set("Content-Type", "application/octet-stream")
	req.ContentLength = int64(len(f.data))
	start := time.Now()
	resp, err := l.client.Do(req)
	var ans []byte
	if err == nil {
		ans, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	l.record("POST", http.StatusCreated, resp, ans, err, time.Since(start))
	if err != nil || resp.StatusCode != http.StatusCreated {
		if resp != nil {
			return resp.StatusCode, ""
		}
		return 0, ""
	}
	var a struct {
		Attachments []crashRecord `json:"attachments"`
	}
	if err := json.Unmarshal(ans, &a); err != nil || len(a.Attachments) != 1 || a.Attachments[0].SHA256 != f.sum || a.Attachments[0].Size != int64(len(f.data)) {
		l.mu.Lock()
		l.bad = append(l.bad, fmt.Sprintf("201 for %s with an answer that does not match it (%v): %.300s", f.name, err, ans))
		l.mu.Unlock()
		return 0, ""
	}
	return http.StatusCreated, a.Attachments[0].ID
}

// download fetches an acknowledged file; a 200 must be its bytes.
func (l *faultLoad) download(a faultAck) int {
	start := time.Now()
	resp, err := l.client.Get(l.base + a.id)
	var got []byte
	if err == nil {
		got, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	took := time.Since(start)
	if err != nil && resp != nil && resp.StatusCode == http.StatusOK && errors.Is(err, io.ErrUnexpectedEOF) && *l.phase.Load() == "fault" {
		// The store went away while the body was streaming: the status
		// was sent, so the server can only cut the connection short of
		// Content-Length, which the client sees. What did arrive must
		// be the file's first bytes.
		l.cut("GET", took)
		if !bytes.HasPrefix(a.f.data, got) {
			l.mu.Lock()
			l.bad = append(l.bad, fmt.Sprintf("cut download of %s (%s) is not a prefix of the bytes sent (%d bytes)", a.f.name, a.id, len(got)))
			l.mu.Unlock()
		}
		return 0
	}
	l.record("GET", http.StatusOK, resp, got, err, took)
	if err != nil {
		return 0
	}
	if resp.StatusCode == http.StatusOK && !bytes.Equal(got, a.f.data) {
		l.mu.Lock()
		l.bad = append(l.bad, fmt.Sprintf("download of %s (%s) is not the bytes sent: %d bytes, want %d", a.f.name, a.id, len(got), len(a.f.data)))
		l.mu.Unlock()
	}
	return resp.StatusCode
}

// count returns how many answers of phase were "METHOD STATUS".
func (l *faultLoad) count(phase, key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[phase][key]
}

// awaitFault lets the fault last 3 s, and longer (up to 20 s) until an
// answer during it was a 503: a request in flight when the service went
// away may take seconds (the S3 client retries) before it is answered.
func (l *faultLoad) awaitFault(t *testing.T) {
	t.Helper()
	time.Sleep(3 * time.Second)
	deadline := time.Now().Add(17 * time.Second)
	for l.count("fault", "POST 503")+l.count("fault", "GET 503") == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}

// awaitAfter lets the load run for a second after the recovery, and
// longer (up to 20 s) until an upload of the load itself is acknowledged:
// the load's requests in flight at the restart may still be in the S3
// client's retries and backoff, and the client's retry quota, spent
// during the outage, comes back only as requests succeed (answers
// meanwhile are 503 with Retry-After).
func (l *faultLoad) awaitAfter() {
	time.Sleep(time.Second)
	deadline := time.Now().Add(19 * time.Second)
	for l.count("after", "POST 201") == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
}

// awaitRecovery sends uploads until one is acknowledged, for at most d.
func (l *faultLoad) awaitRecovery(t *testing.T, d time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), 7))
	for n := 0; ; n++ {
		f := newFaultFile(rng, fmt.Sprintf("probe-%d.bin", n), 1<<10)
		if status, id := l.upload(f, bytes.NewReader(f.data)); status == http.StatusCreated {
			l.mu.Lock()
			l.acked = append(l.acked, faultAck{id, f})
			l.mu.Unlock()
			return time.Since(start)
		}
		if time.Since(start) > d {
			require.FailNow(t, "the server did not recover", "no upload acknowledged within %v of the restart", d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// report logs the answers by phase and fails the test on any answer the
// API does not allow.
func (l *faultLoad) report(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	phases := make([]string, 0, len(l.counts))
	for p := range l.counts {
		phases = append(phases, p)
	}
	sort.Strings(phases)
	for _, p := range phases {
		t.Logf("%-8s answers %v, longest request %v", p, l.counts[p], l.slow[p].Round(time.Millisecond))
	}
	for i, b := range l.bad {
		if i == 20 {
			t.Errorf("... and %d more", len(l.bad)-i)
			break
		}
		t.Errorf("answer not allowed: %s", b)
	}
}

// checkAcked downloads every acknowledged file, byte-exact, after the
// fault is over.
func (l *faultLoad) checkAcked(t *testing.T) {
	t.Helper()
	client := &http.Client{Timeout: faultHang}
	defer client.CloseIdleConnections()
	for _, a := range l.acked {
		checkCrashDownload(t, client, l.base, a.id, a.f)
	}
	t.Logf("%d acknowledged uploads download byte-exact after the fault", len(l.acked))
}

// maintenanceService opens a Service on the stores of a stopped or idle
// server for the test to run Maintain with: no workers, no maintenance
// loop, and a grace of 1 ns (no upload is in flight). It is closed when
// the test ends.
func maintenanceService(t *testing.T, blobURL, metaURL string) *attachment.Service {
	t.Helper()
	svc, err := attachment.Open(t.Context(), blobURL, metaURL, &attachment.Options{
		Processing:  attachment.ProcessingOptions{Workers: attachment.Off},
		Maintenance: attachment.MaintenanceOptions{Interval: attachment.Off, OrphanGrace: time.Nanosecond},
	})
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() })
	return svc
}

// maintainClean runs Maintain (from the test, with a short grace: no
// upload is in flight now) until it settles, and checks that it leaves no
// content without a record, no temporary file and no pending multipart
// upload.
func maintainClean(t *testing.T, bucket *s3test.Bucket, metaURL string) attachment.MaintenanceReport {
	t.Helper()
	svc := maintenanceService(t, bucket.URL, metaURL)
	rep, err := svc.Maintain(t.Context())
	require.NoError(t, err)
	t.Logf("Maintain: %+v", rep)
	assert.Zero(t, rep.Failed)
	assert.Zero(t, rep.MissingContent, "every record keeps its content")
	assert.Zero(t, rep.Unknown)
	again, err := svc.Maintain(t.Context())
	require.NoError(t, err)
	assert.Zero(t, again.OrphanContent+again.TempFiles+again.AbortedUploads+again.Deferred+again.Failed, "a second Maintain still finds something: %+v", again)
	assert.Equal(t, again.RecordsChecked, again.ContentChecked, "content files and records after Maintain")
	assert.Empty(t, bucket.PendingUploads(t), "multipart uploads pending after Maintain")
	return rep
}

// startFaultServer starts examples/server on s3 (its own key prefix in the
// test's versitygw) and the test's PostgreSQL, with no maintenance of its
// own. restart starts another on the same stores.
func startFaultServer(t *testing.T, s *faultServices) (srv crashServer, bucket *s3test.Bucket, restart func() crashServer) {
	t.Helper()
	bin := buildServer(t)
	bucket = s3test.Open(t)
	args := []string{"-addr", "127.0.0.1:0", "-demo=false", "-maintain-every", "0", "-blob", bucket.URL, "-meta", s.pgURL}
	restart = func() crashServer { return startCrashServer(t, bin, args) }
	return restart(), bucket, restart
}

// TestFaultPostgresRestart stops PostgreSQL under load and starts it
// again: during the outage every answer is 201/200 or 503 unavailable
// with Retry-After, none hangs; after it, uploads are acknowledged again
// without restarting the server; every acknowledged upload downloads
// byte-exact; Maintain leaves nothing behind.
func TestFaultPostgresRestart(t *testing.T) {
	s := startFaultServices(t)
	srv, bucket, _ := startFaultServer(t, s)
	load := newFaultLoad(t, srv.base)
	load.start(uint64(time.Now().UnixNano()))
	defer load.finish()

	time.Sleep(time.Second)
	load.setPhase("fault")
	s.stopPostgres(t)
	load.awaitFault(t)
	s.startPostgres(t)
	load.setPhase("recovery")
	took := load.awaitRecovery(t, 30*time.Second)
	t.Logf("first upload acknowledged %v after PostgreSQL started again", took.Round(time.Millisecond))
	load.setPhase("after")
	load.awaitAfter()
	load.finish()

	t.Logf("multipart uploads pending before Maintain: %d", len(bucket.PendingUploads(t)))

	load.report(t)
	assert.Positive(t, load.count("before", "POST 201"), "uploads acknowledged before the fault")
	assert.Positive(t, load.count("fault", "POST 503")+load.count("fault", "GET 503"), "the outage was answered 503")
	assert.Positive(t, load.count("after", "POST 201"), "uploads acknowledged after the fault")
	load.checkAcked(t)
	maintainClean(t, bucket, s.pgURL)
}

// slowBody is an upload body that sends its first hold bytes, then waits
// for release before sending the rest.
type slowBody struct {
	data    []byte
	hold    int
	off     int
	release <-chan struct{}
	held    chan struct{}
	once    sync.Once
}

func (b *slowBody) Read(p []byte) (int, error) {
	if b.off >= len(b.data) {
		return 0, io.EOF
	}
	if b.off >= b.hold {
		b.once.Do(func() { close(b.held) })
		<-b.release
	}
	end := len(b.data)
	if b.off < b.hold {
		end = b.hold
	}
	n := copy(p, b.data[b.off:end])
	b.off += n
	return n, nil
}

// TestFaultVersitygwRestart SIGKILLs the S3 server under load, with an
// upload of more than 16 MiB in flight (a multipart upload started on
// it), and starts it again: the same answers as for PostgreSQL, and
// Maintain aborts the multipart upload the kill left.
func TestFaultVersitygwRestart(t *testing.T) {
	s := startFaultServices(t)
	srv, bucket, restart := startFaultServer(t, s)
	load := newFaultLoad(t, srv.base)
	load.start(uint64(time.Now().UnixNano()))
	defer load.finish()

	// The big upload: 20 MiB, the first 17 MiB sent at once (parts of
	// 5 MiB are on their way to S3), the rest after the kill.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	big := newFaultFile(rng, "big.bin", 20<<20)
	release := make(chan struct{})
	body := &slowBody{data: big.data, hold: 17 << 20, release: release, held: make(chan struct{})}
	bigDone := make(chan int, 1)
	go func() {
		status, id := load.upload(big, body)
		if status == http.StatusCreated {
			load.mu.Lock()
			load.acked = append(load.acked, faultAck{id, big})
			load.mu.Unlock()
		}
		bigDone <- status
	}()

	time.Sleep(time.Second)
	select {
	case <-body.held:
	case <-time.After(20 * time.Second):
		require.FailNow(t, "the big upload's first 17 MiB were not read within 20s")
	}
	require.Eventually(t, func() bool { return len(bucket.PendingUploads(t)) > 0 }, 10*time.Second, 20*time.Millisecond,
		"the big upload started no multipart upload")
	load.setPhase("fault")
	s.killVersitygw(t)
	close(release)
	load.awaitFault(t)
	s.startVersitygw(t)
	load.setPhase("recovery")
	took := load.awaitRecovery(t, 30*time.Second)
	t.Logf("first upload acknowledged %v after versitygw started again", took.Round(time.Millisecond))
	load.setPhase("after")
	load.awaitAfter()
	load.finish()
	var bigStatus int
	select {
	case bigStatus = <-bigDone:
	case <-time.After(faultHang):
		require.FailNow(t, "the big upload hangs")
	}
	t.Logf("the big upload in flight at the kill was answered %d", bigStatus)

	t.Logf("multipart uploads pending before Maintain: %d", len(bucket.PendingUploads(t)))

	load.report(t)
	assert.Positive(t, load.count("before", "POST 201"), "uploads acknowledged before the fault")
	assert.Positive(t, load.count("fault", "POST 503")+load.count("fault", "GET 503"), "the outage was answered 503")
	assert.Positive(t, load.count("after", "POST 201"), "uploads acknowledged after the fault")
	load.checkAcked(t)

	// The server SIGKILLed under load, small uploads and a 20 MiB one in
	// flight, the big one's multipart upload started: nothing is left to
	// abort it but Maintain. Restarted, the server still has every
	// acknowledged upload.
	kl := newFaultLoad(t, srv.base)
	kl.killed = true
	kl.setPhase("kill")
	kl.start(uint64(time.Now().UnixNano()))
	defer kl.finish()
	big2 := newFaultFile(rng, "big2.bin", 20<<20)
	release2 := make(chan struct{})
	defer close(release2)
	body2 := &slowBody{data: big2.data, hold: 17 << 20, release: release2, held: make(chan struct{})}
	go func() { _, _ = kl.upload(big2, body2) }()
	select {
	case <-body2.held:
	case <-time.After(20 * time.Second):
		require.FailNow(t, "the second big upload's first 17 MiB were not read within 20s")
	}
	require.Eventually(t, func() bool { return len(bucket.PendingUploads(t)) > 0 }, 10*time.Second, 20*time.Millisecond,
		"the second big upload started no multipart upload")
	require.Eventually(t, func() bool { return kl.count("kill", "POST 201") > 0 }, 10*time.Second, 10*time.Millisecond,
		"no upload acknowledged before the kill")
	srv.kill(t)
	kl.finish()
	kl.report(t)
	assert.Positive(t, kl.count("kill", "POST error"), "uploads in flight at the kill")
	srv = restart()
	defer srv.kill(t)
	load.base, kl.base = srv.base, srv.base
	load.checkAcked(t)
	kl.checkAcked(t)
	rep := maintainClean(t, bucket, s.pgURL)
	assert.Positive(t, rep.AbortedUploads, "Maintain aborts the multipart upload of the killed server")
}

// TestFaultDiskFull runs the server (file+sqlite) on a 16 MiB tmpfs and
// fills it: uploads are answered 507 insufficient_storage (never 500),
// deletes still work, and once some are deleted uploads are acknowledged
// again; nothing is left once Maintain has run.
func TestFaultDiskFull(t *testing.T) {
	faultSuite(t)
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("fault suite (CI=true, so not skipped): mount a tmpfs: %v: %s", err, out)
		}
		t.Skipf("fault suite: cannot mount a tmpfs (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	bin := buildServer(t)
	blobDir := filepath.Join(mnt, "blobs")
	blobURL := "file://" + blobDir + "?create_dir=1&no_tmp_dir=1&metadata=skip"
	metaURL := "sqlite://" + filepath.Join(mnt, "attachments.db")
	srv := startCrashServer(t, bin, []string{"-addr", "127.0.0.1:0", "-demo=false", "-maintain-every", "0", "-blob", blobURL, "-meta", metaURL})
	defer srv.kill(t)
	load := newFaultLoad(t, srv.base)
	defer load.client.CloseIdleConnections()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))

	// Fill it with 1 MiB files until it is full.
	load.setPhase("filling")
	full := 0
	for n := 0; n < 40 && full < 3; n++ {
		f := newFaultFile(rng, fmt.Sprintf("fill-%d.bin", n), 1<<20)
		req, err := http.NewRequest("POST", srv.base+"?filename="+f.name, bytes.NewReader(f.data))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/octet-stream")
		start := time.Now()
		resp, err := load.client.Do(req)
		require.NoError(t, err, "upload %d on a filling disk", n)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		switch resp.StatusCode {
		case http.StatusCreated:
			var a struct {
				Attachments []crashRecord `json:"attachments"`
			}
			require.NoError(t, json.Unmarshal(body, &a))
			require.Len(t, a.Attachments, 1)
			load.acked = append(load.acked, faultAck{a.Attachments[0].ID, f})
		case http.StatusInsufficientStorage:
			assert.Contains(t, string(body), `"insufficient_storage"`)
			full++
		default:
			require.Failf(t, "an upload on a full disk", "answered %d after %v: %.300s", resp.StatusCode, took, body)
		}
	}
	require.Equal(t, 3, full, "uploads on a full 16 MiB tmpfs are answered 507")
	require.NotEmpty(t, load.acked, "some uploads fit")
	t.Logf("%d uploads of 1 MiB acknowledged before the disk was full", len(load.acked))

	// Deletes work on the full disk.
	for range 4 {
		a := load.acked[len(load.acked)-1]
		req, err := http.NewRequest("DELETE", srv.base+a.id, nil)
		require.NoError(t, err)
		resp, err := load.client.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "delete on a full disk: %s", body)
		require.Contains(t, string(body), `"deleted"`)
		load.acked = load.acked[:len(load.acked)-1]
	}

	// Uploads work again.
	f := newFaultFile(rng, "after.bin", 1<<20)
	status, id := load.upload(f, bytes.NewReader(f.data))
	require.Equal(t, http.StatusCreated, status, "an upload once files are deleted")
	load.acked = append(load.acked, faultAck{id, f})
	load.checkAcked(t)

	rep, err := maintenanceService(t, blobURL, metaURL).Maintain(t.Context())
	require.NoError(t, err)
	t.Logf("Maintain: %+v", rep)
	assert.Zero(t, rep.Failed+rep.MissingContent+rep.Unknown)
	entries, err := os.ReadDir(filepath.Join(blobDir, "content"))
	require.NoError(t, err)
	assert.Len(t, entries, len(load.acked), "content files after Maintain: one per record")
}

// stallClients is how many clients of TestFaultStalledClients stall.
const stallClients = 16

// vmRSS returns the resident memory of process pid, in bytes.
func vmRSS(t *testing.T, pid int) int64 {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb int64
			_, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb)
			require.NoError(t, err)
			return kb << 10
		}
	}
	require.FailNow(t, "no VmRSS in /proc/PID/status")
	return 0
}

// TestFaultStalledClients has stallClients clients send part of an
// upload's body and then nothing: each is cut off (408, or the connection
// closed) within UploadIdleTimeout and a margin, the server's memory stays
// bounded, it keeps serving others meanwhile, and none of the stalled
// uploads is stored.
func TestFaultStalledClients(t *testing.T) {
	faultSuite(t)
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skipf("fault suite: no /proc to read the server's memory: %v", err)
	}
	bin := buildServer(t)
	data := t.TempDir()
	blobDir := filepath.Join(data, "blobs")
	blobURL := "file://" + blobDir + "?create_dir=1&no_tmp_dir=1&metadata=skip"
	metaURL := "sqlite://" + filepath.Join(data, "attachments.db")
	srv := startCrashServer(t, bin, []string{"-addr", "127.0.0.1:0", "-demo=false", "-maintain-every", "0", "-blob", blobURL, "-meta", metaURL})
	defer srv.kill(t)
	u, err := url.Parse(srv.base)
	require.NoError(t, err)
	pid := srv.cmd.Process.Pid
	baseline := vmRSS(t, pid)

	// Each stalled client announces 64 MiB and sends 1 MiB of it.
	const announced, sent = 64 << 20, 1 << 20
	limit := attachment.DefaultUploadIdleTimeout + 10*time.Second
	chunk := bytes.Repeat([]byte("x"), sent)
	type cut struct {
		after  time.Duration
		status int // 0: the connection was closed without an answer
		err    error
	}
	cuts := make(chan cut, stallClients)
	start := time.Now()
	for k := range stallClients {
		go func() {
			c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
			if err != nil {
				cuts <- cut{err: err}
				return
			}
			defer c.Close()
			fmt.Fprintf(c, "POST %s?filename=stalled-%d.bin HTTP/1.1\r\nHost: %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", u.Path, k, u.Host, announced)
			if _, err := c.Write(chunk); err != nil {
				cuts <- cut{err: fmt.Errorf("send the first MiB: %w", err)}
				return
			}
			// Then nothing: wait for the server to give up.
			_ = c.SetReadDeadline(time.Now().Add(limit))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					cuts <- cut{after: time.Since(start), err: fmt.Errorf("no answer and the connection still open after %v: %w", limit, err)}
					return
				}
				cuts <- cut{after: time.Since(start)} // closed
				return
			}
			resp.Body.Close()
			cuts <- cut{after: time.Since(start), status: resp.StatusCode}
		}()
	}

	// Meanwhile: the server serves others, and its memory is sampled.
	load := newFaultLoad(t, srv.base)
	defer load.client.CloseIdleConnections()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 13))
	f := newFaultFile(rng, "healthy.bin", 256<<10)
	status, id := load.upload(f, bytes.NewReader(f.data))
	require.Equal(t, http.StatusCreated, status, "an upload while %d clients stall", stallClients)
	peak := baseline
	var got []cut
	ticker := time.NewTicker(250 * time.Millisecond)
	defer ticker.Stop()
	for len(got) < stallClients {
		select {
		case c := <-cuts:
			got = append(got, c)
		case <-ticker.C:
			peak = max(peak, vmRSS(t, pid))
		}
	}
	statuses := map[int]int{}
	var last time.Duration
	for _, c := range got {
		if !assert.NoError(t, c.err) {
			continue
		}
		statuses[c.status]++
		last = max(last, c.after)
		assert.Contains(t, []int{0, http.StatusRequestTimeout}, c.status, "a stalled upload is answered 408 or its connection closed")
		assert.Less(t, c.after, limit, "a stalled upload is cut within UploadIdleTimeout and a margin")
	}
	t.Logf("%d stalled clients cut (status: count, 0 = connection closed) %v, the last after %v; server VmRSS %d MiB before, peak %d MiB",
		stallClients, statuses, last.Round(time.Millisecond), baseline>>20, peak>>20)
	assert.Less(t, peak-baseline, int64(128<<20), "the server's memory grows by more than 128 MiB with %d stalled uploads", stallClients)

	// Nothing of the stalled uploads is stored: one record (the healthy
	// upload), and once Maintain has run, one content file.
	load.acked = append(load.acked, faultAck{id, f})
	load.checkAcked(t)
	resp, err := load.client.Get(srv.base)
	require.NoError(t, err)
	var page struct {
		Data []crashRecord `json:"data"`
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	require.NoError(t, err)
	require.Len(t, page.Data, 1, "records after the stalled uploads")
	rep, err := maintenanceService(t, blobURL, metaURL).Maintain(t.Context())
	require.NoError(t, err)
	t.Logf("Maintain: %+v", rep)
	assert.Zero(t, rep.Failed+rep.MissingContent+rep.Unknown)
	entries, err := os.ReadDir(filepath.Join(blobDir, "content"))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "content files after Maintain")
}
