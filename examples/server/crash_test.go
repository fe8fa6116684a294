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
	"io/fs"
	"math"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
)

// crashCycles is how many times the server is killed and restarted on the
// same data: from the second cycle on, recovery starts from a recovered
// state.
const (
	crashCycles   = 3
	crashWorkers  = 8
	crashMinSize  = 1 << 10
	crashMaxSize  = 2 << 20
	crashMaxFiles = 3 // files per multipart request
	// crashStalled multipart requests per cycle are cut off by the kill
	// half sent, each at a known point: their first file sent whole and
	// stored, their second half sent (see sendStalledRequest).
	crashStalled = 2
)

// crashFile is one file some client sent.
type crashFile struct {
	name string // unique, so a listed record maps back to its request
	data []byte
	sum  string // hex sha256 of data
}

// crashRequest is one upload request and what the client saw of it.
type crashRequest struct {
	multipart bool
	// stalled: the body was never sent whole (sendStalledRequest).
	stalled bool
	files   []*crashFile
	status  int      // 0: no response (connection error)
	ids     []string // from the 201 answer, in file order
	err     error
}

// TestCrashRecovery is the crash proof of issue 5: it runs the server as a
// child process, uploads concurrently, kills it with SIGKILL while uploads
// are in flight, restarts it on the same data and checks what survived.
// It does so crashCycles times on the same data dir.
func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: builds and runs examples/server as a child process; skipped under -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("crash test: no go command on PATH to build the server: %v", err)
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "server")
	build := exec.Command(goBin, "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	data := filepath.Join(tmp, "data")
	blobDir := filepath.Join(data, "blobs")
	blobURL := "file://" + blobDir + "?create_dir=1&no_tmp_dir=1&metadata=skip"
	metaURL := "sqlite://" + filepath.Join(data, "attachments.db")
	args := []string{"-addr", "127.0.0.1:0", "-blob", blobURL, "-meta", metaURL}

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 5))
	// Every request ever sent, across cycles, by file name.
	byName := map[string]*crashRequest{}
	var all []*crashRequest

	for cycle := 1; cycle <= crashCycles; cycle++ {
		srv := startCrashServer(t, bin, args)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: crashWorkers}}

		// Recovery check of the previous cycle's data first (for cycle 1,
		// an empty store), then new uploads on top of it.
		if cycle > 1 {
			checkCrashRecovery(t, client, srv.base, blobDir, all, byName, cycle-1)
			if t.Failed() {
				srv.kill(t)
				return
			}
		}

		runFor := time.Duration(300+rng.IntN(500)) * time.Millisecond
		reqs, inFlight := crashUpload(t, client, srv, blobDir, cycle, runFor, rng.Uint64())
		client.CloseIdleConnections()
		for _, r := range reqs {
			all = append(all, r)
			for _, f := range r.files {
				byName[f.name] = r
			}
		}
		var acked, refused, broken, files int
		for _, r := range reqs {
			switch {
			case r.status == http.StatusCreated:
				acked++
				files += len(r.files)
			case r.status != 0:
				refused++
			default:
				broken++
			}
		}
		t.Logf("cycle %d: ran %v: %d requests: %d got 201 (%d files), %d another status, %d no response; %d in flight at SIGKILL",
			cycle, runFor, len(reqs), acked, files, refused, broken, inFlight)
		require.Positive(t, inFlight, "the server must die with uploads in flight")
		require.Positive(t, acked, "some uploads must have succeeded before the kill")
		rep := crashMaintain(t, blobURL, metaURL, cycle)
		// Each stalled request left its first file's content, stored and
		// never committed: the kill landed mid-upload, and recovery had
		// something to clean. (Not require: the next cycle's recovery check
		// says what was committed instead.)
		//
		// Mutation guarded: a multipart upload that commits each file's
		// record on its own, as soon as the file is stored (see the check
		// of stalled requests in checkCrashRecovery): the stalled requests'
		// first files are then committed, not orphans.
		assert.GreaterOrEqual(t, rep.OrphanContent, crashStalled, "content left by the requests cut off mid-body")
	}

	srv := startCrashServer(t, bin, args)
	client := &http.Client{Transport: &http.Transport{}}
	checkCrashRecovery(t, client, srv.base, blobDir, all, byName, crashCycles)
	client.CloseIdleConnections()
	srv.kill(t)
}

type crashServer struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:PORT/attachments/
	stderr *bytes.Buffer
	mu     *sync.Mutex
}

func (s crashServer) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, s.cmd.Process.Signal(os.Kill)) // SIGKILL: no shutdown, no flush
	_ = s.cmd.Wait()
}

// lockedBuffer keeps the child's log for a failure message.
type lockedBuffer struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (b lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		return len(p), nil
	}
	return b.buf.Write(p)
}

// startCrashServer starts the built server and waits for its "listening
// on" line. The store must open: after a SIGKILL, that is SQLite's WAL
// recovery working.
func startCrashServer(t *testing.T, bin string, args []string) crashServer {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	s := crashServer{cmd: cmd, stderr: new(bytes.Buffer), mu: new(sync.Mutex)}
	cmd.Stderr = lockedBuffer{s.mu, s.stderr}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
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
		if !ok {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			s.mu.Lock()
			defer s.mu.Unlock()
			require.FailNow(t, "the server did not start (did the store open after the kill?)", "stdout %q\nstderr:\n%s", line, s.stderr)
		}
		s.base = base
	case <-time.After(30 * time.Second):
		require.FailNow(t, "the server did not print its listening line within 30s")
	}
	return s
}

// crashUpload runs crashWorkers uploaders for runFor, and crashStalled
// requests that stop half sent; then, once the stalled requests' first
// files are stored, it kills the server while uploads are in flight, and
// returns every request with what its client saw, and how many were in
// flight at the kill.
func crashUpload(t *testing.T, client *http.Client, srv crashServer, blobDir string, cycle int, runFor time.Duration, seed uint64) ([]*crashRequest, int) {
	var (
		stop     atomic.Bool
		inFlight atomic.Int64
		mu       sync.Mutex
		reqs     []*crashRequest
		wg       sync.WaitGroup
	)
	for w := range crashWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewChaCha8(seedBytes(seed, w)))
			for n := 0; !stop.Load(); n++ {
				r := newCrashRequest(rng, fmt.Sprintf("c%d-w%d-r%d", cycle, w, n))
				mu.Lock()
				reqs = append(reqs, r)
				mu.Unlock()
				inFlight.Add(1)
				sendCrashRequest(client, srv.base, r)
				inFlight.Add(-1)
			}
		}()
	}
	killed := make(chan struct{})
	stalled := make([]*crashRequest, crashStalled)
	for k := range stalled {
		stalled[k] = newStalledRequest(seed, cycle, k)
		mu.Lock()
		reqs = append(reqs, stalled[k])
		mu.Unlock()
		wg.Go(func() { sendStalledRequest(client, srv.base, stalled[k], killed) })
	}
	time.Sleep(runFor)
	// Make sure the kill lands mid-upload, in every cycle: each stalled
	// request's first file is stored (its content is in the bucket under
	// its unique size) while its second is half sent, so nothing of it may
	// be committed; the kill cuts it off there.
	deadline := time.Now().Add(20 * time.Second)
	for !allStored(t, blobDir, stalled) {
		if time.Now().After(deadline) {
			stop.Store(true)
			srv.kill(t)
			close(killed)
			wg.Wait()
			require.FailNow(t, "the stalled requests' first files were not stored within 20s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Make sure the kill lands mid-flight: wait (briefly) until at least
	// half the workers are inside a request.
	deadline = time.Now().Add(2 * time.Second)
	for inFlight.Load() < crashWorkers/2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	// No new requests from here; the ones in flight die with the server.
	stop.Store(true)
	at := int(inFlight.Load())
	srv.kill(t)
	close(killed)
	wg.Wait()
	return reqs, at
}

// newStalledRequest makes the k-th stalled request of the cycle: two files,
// the first of a size no other file has (sizes of newCrashRequest are at
// most crashMaxSize), so that its content can be found in the bucket.
func newStalledRequest(seed uint64, cycle, k int) *crashRequest {
	rng := rand.New(rand.NewChaCha8(seedBytes(seed, 1000+k)))
	r := &crashRequest{multipart: true, stalled: true}
	for i, size := range []int{crashMaxSize + 1<<20 + 1000*cycle + k, 1 << 20} {
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		sum := sha256.Sum256(data)
		r.files = append(r.files, &crashFile{name: fmt.Sprintf("c%d-stalled%d-f%d.bin", cycle, k, i), data: data, sum: hex.EncodeToString(sum[:])})
	}
	return r
}

// sendStalledRequest sends r's first file whole and half of its second,
// then sends nothing more until killed is closed: the body is never
// finished.
func sendStalledRequest(client *http.Client, base string, r *crashRequest, killed <-chan struct{}) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for i, f := range r.files {
			fw, err := mw.CreateFormFile("file", f.name)
			if err == nil {
				data := f.data
				if i == len(r.files)-1 {
					data = data[:len(data)/2]
				}
				_, err = fw.Write(data)
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		<-killed
		pw.CloseWithError(errors.New("the server was killed"))
	}()
	req, err := http.NewRequest("POST", base, pr)
	if err != nil {
		r.err = err
		return
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := client.Do(req)
	if err != nil {
		r.err = err
		return
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	r.status = resp.StatusCode // a half-sent body has no answer: a failure
}

// allStored reports whether the first file of every stalled request is in
// the bucket, committed (a key with no ".", which only a driver's temporary
// file has) and whole.
func allStored(t *testing.T, blobDir string, stalled []*crashRequest) bool {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(blobDir, "content"))
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	require.NoError(t, err)
	sizes := map[int64]bool{}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".") {
			continue
		}
		if info, err := e.Info(); err == nil {
			sizes[info.Size()] = true
		}
	}
	for _, r := range stalled {
		if !sizes[int64(len(r.files[0].data))] {
			return false
		}
	}
	return true
}

func seedBytes(seed uint64, w int) [32]byte {
	var b [32]byte
	s := sha256.Sum256(fmt.Appendf(nil, "%d/%d", seed, w))
	copy(b[:], s[:])
	return b
}

// newCrashRequest makes a raw or multipart request of random files:
// sizes log-uniform in [1 KiB, 2 MiB], so there are many small files and
// some large ones; random content.
func newCrashRequest(rng *rand.Rand, prefix string) *crashRequest {
	r := &crashRequest{multipart: rng.IntN(2) == 0}
	n := 1
	if r.multipart {
		n = 1 + rng.IntN(crashMaxFiles)
	}
	for i := range n {
		lo, hi := math.Log(crashMinSize), math.Log(crashMaxSize)
		size := int(math.Exp(lo + rng.Float64()*(hi-lo)))
		data := make([]byte, size)
		for j := 0; j < size; j += 8 {
			v := rng.Uint64()
			for k := 0; k < 8 && j+k < size; k++ {
				data[j+k] = byte(v >> (8 * k))
			}
		}
		sum := sha256.Sum256(data)
		r.files = append(r.files, &crashFile{name: fmt.Sprintf("%s-f%d.bin", prefix, i), data: data, sum: hex.EncodeToString(sum[:])})
	}
	return r
}

func sendCrashRequest(client *http.Client, base string, r *crashRequest) {
	var req *http.Request
	var err error
	if r.multipart {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		for _, f := range r.files {
			fw, _ := mw.CreateFormFile("file", f.name)
			_, _ = fw.Write(f.data)
		}
		_ = mw.Close()
		req, err = http.NewRequest("POST", base, &body)
		if err == nil {
			req.Header.Set("Content-Type", mw.FormDataContentType())
		}
	} else {
		req, err = http.NewRequest("POST", base+"?filename="+url.QueryEscape(r.files[0].name), bytes.NewReader(r.files[0].data))
		if err == nil {
			req.Header.Set("Content-Type", "application/octet-stream")
		}
	}
	if err != nil {
		r.err = err
		return
	}
	resp, err := client.Do(req)
	if err != nil {
		r.err = err
		return
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		// The status line arrived but the body did not: the client has no
		// IDs, so it cannot count this as acknowledged.
		r.err = err
		return
	}
	r.status = resp.StatusCode
	if resp.StatusCode != http.StatusCreated {
		return
	}
	var ans struct {
		Attachments []struct {
			ID       string `json:"id"`
			Filename string `json:"filename"`
			Size     int64  `json:"size"`
			SHA256   string `json:"sha256"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(body, &ans); err != nil || len(ans.Attachments) != len(r.files) {
		r.err = fmt.Errorf("201 with an unexpected body (%v): %.200s", err, body)
		return
	}
	for i, a := range ans.Attachments {
		f := r.files[i]
		if a.Filename != f.name || a.Size != int64(len(f.data)) || a.SHA256 != f.sum {
			r.err = fmt.Errorf("201 with a record that does not match the file sent: %+v, want %s %d %s", a, f.name, len(f.data), f.sum)
		}
		r.ids = append(r.ids, a.ID)
	}
}

type crashRecord struct {
	ID       string `json:"id"`
	Filename string `json:"filename"`
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
}

// checkCrashRecovery checks the restarted server's data against what the
// clients saw, up to and including cycle.
func checkCrashRecovery(t *testing.T, client *http.Client, base, blobDir string, all []*crashRequest, byName map[string]*crashRequest, cycle int) {
	t.Helper()
	// List everything, with pagination.
	listed := map[string]crashRecord{}
	next := base + "?limit=100&order=asc"
	for pages := 0; next != ""; pages++ {
		require.Less(t, pages, 10000, "listing does not end")
		resp, err := client.Get(next)
		require.NoError(t, err)
		var page struct {
			Data       []crashRecord `json:"data"`
			HasMore    bool          `json:"has_more"`
			NextCursor string        `json:"next_cursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.NoError(t, err)
		for _, rec := range page.Data {
			_, dup := listed[rec.ID]
			require.False(t, dup, "listed twice: %s", rec.ID)
			listed[rec.ID] = rec
		}
		next = ""
		if page.HasMore {
			require.NotEmpty(t, page.NextCursor)
			next = base + "?limit=100&order=asc&cursor=" + url.QueryEscape(page.NextCursor)
		}
	}

	// Every upload that got a 201 is listed, and downloads byte-exact.
	ackedFiles := 0
	for _, r := range all {
		if r.status != http.StatusCreated {
			continue
		}
		require.NoError(t, r.err, "a 201 answer the client could not match to its files")
		for i, f := range r.files {
			ackedFiles++
			id := r.ids[i]
			rec, ok := listed[id]
			if !assert.True(t, ok, "upload %s (%s) got a 201 but is not listed after the kill", f.name, id) {
				continue
			}
			assert.Equal(t, f.sum, rec.SHA256, "record sha256 of %s", f.name)
			assert.Equal(t, int64(len(f.data)), rec.Size, "record size of %s", f.name)
			checkCrashDownload(t, client, base, id, f)
		}
	}

	// Every listed record is something a client sent, and downloads
	// byte-exact. A request cut off by the kill may have committed without
	// its client seeing the 201 (the server died between commit and
	// answer, or while the answer was on the wire): the client saw a
	// connection error, not a 201, and it must not treat the upload as
	// acknowledged, but the record is not a lie either. That is the most
	// any server can promise; what must hold is that such a record is
	// complete (all its request's files, its content byte-exact). A record
	// for a request that got a definite non-201 answer, or one that no
	// client sent, fails the test.
	withoutAck := map[*crashRequest]int{}
	for id, rec := range listed {
		r, ok := byName[rec.Filename]
		if !assert.True(t, ok, "listed record %s (%q) is nothing a client sent", id, rec.Filename) {
			continue
		}
		if r.status == http.StatusCreated {
			assert.Contains(t, r.ids, id, "listed record %s (%q) is not the ID the 201 gave", id, rec.Filename)
			continue
		}
		if !assert.Zero(t, r.status, "record %s (%q) is listed, but its request was answered %d", id, rec.Filename, r.status) {
			continue
		}
		// Mutation guarded: a multipart upload that commits each file's
		// record on its own (in Batch.Add, as soon as the file is stored,
		// instead of all at once in Commit). A stalled request's first file
		// is stored when the kill lands, in every cycle: committed alone,
		// it is listed here, and the all-or-nothing check below fails too.
		assert.False(t, r.stalled, "record %s (%q) is listed, but its request's body was never sent whole", id, rec.Filename)
		var f *crashFile
		for _, ff := range r.files {
			if ff.name == rec.Filename {
				f = ff
			}
		}
		assert.Equal(t, f.sum, rec.SHA256, "record sha256 of %s", f.name)
		assert.Equal(t, int64(len(f.data)), rec.Size, "record size of %s", f.name)
		checkCrashDownload(t, client, base, id, f)
		withoutAck[r]++
	}
	withoutAckFiles := 0
	for r, n := range withoutAck {
		// All or nothing: a request committed without its 201 has every
		// one of its files.
		assert.Equal(t, len(r.files), n, "a request cut off by the kill is partly committed: %s", r.files[0].name)
		withoutAckFiles += n
	}

	// Content left without a record. Every record has its content (the
	// downloads above); content/ keys with no record are what a crash
	// between the two writes leaves (content written, commit not done).
	entries, err := os.ReadDir(filepath.Join(blobDir, "content"))
	require.NoError(t, err)
	orphans, tmpFiles := 0, 0
	for _, e := range entries {
		if _, ok := listed[e.Name()]; ok {
			continue
		}
		if strings.Contains(e.Name(), ".") {
			tmpFiles++ // a driver's temporary file, cut off mid-write
		} else {
			orphans++
		}
	}
	// crashMaintain ran Maintain after the kill: it left no content
	// without a record, and no temporary file.
	assert.Zero(t, orphans, "content without a record after Maintain")
	assert.Zero(t, tmpFiles, "temporary files after Maintain")
	t.Logf("after kill %d: %d listed, %d acknowledged files checked, %d files (%d requests) committed without a 201, %d content keys without a record, %d temporary files",
		cycle, len(listed), ackedFiles, withoutAckFiles, len(withoutAck), orphans, tmpFiles)
}

// crashMaintain runs the reconciler on the killed server's data, as a
// host would at startup or from its background loop: with the server
// down, no upload is in progress, so any age is old enough (OrphanGrace of
// a nanosecond).
func crashMaintain(t *testing.T, blobURL, metaURL string, cycle int) attachment.MaintenanceReport {
	t.Helper()
	svc, err := attachment.Open(t.Context(), blobURL, metaURL, &attachment.Options{Processing: attachment.ProcessingOptions{Workers: attachment.Off}, Maintenance: attachment.MaintenanceOptions{OrphanGrace: time.Nanosecond}})
	require.NoError(t, err)
	defer svc.Close()
	rep, err := svc.Maintain(t.Context())
	require.NoError(t, err)
	t.Logf("after kill %d: Maintain: %d content files and %d records checked; removed %d content files without a record and %d temporary files; %d records without content",
		cycle, rep.ContentChecked, rep.RecordsChecked, rep.OrphanContent, rep.TempFiles, rep.MissingContent)
	require.Zero(t, rep.Failed)
	require.Zero(t, rep.MissingContent, "every record keeps its content")
	require.Zero(t, rep.Unknown)
	return rep
}

func checkCrashDownload(t *testing.T, client *http.Client, base, id string, f *crashFile) {
	t.Helper()
	resp, err := client.Get(base + id)
	if !assert.NoError(t, err) {
		return
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	assert.NoError(t, err)
	if assert.Equal(t, http.StatusOK, resp.StatusCode, "download %s (%s)", f.name, id) {
		// Not assert.Equal: its diff of megabytes of random bytes is useless.
		assert.True(t, bytes.Equal(f.data, got), "download of %s (%s) is not the bytes sent: %d bytes, want %d", f.name, id, len(got), len(f.data))
	}
}
