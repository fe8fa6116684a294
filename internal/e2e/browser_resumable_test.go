package e2e_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tusExchange is one request to {prefix}/uploads/ and its answer.
type tusExchange struct {
	Method, Path string
	Phase        int   // the test's phase when the request came
	Offset       int64 // Upload-Offset sent; -1 when none
	Sent         int64 // body bytes the page sent that reached the proxy
	Status       int   // 0 while the request is being served; -1: cut (no answer)
	RespOffset   int64 // Upload-Offset answered; -1 when none
	Location     string
	RetryAfter   string
	Held         bool // the PATCH held mid-body by a patchHold
	Auth         string
}

func (e tusExchange) String() string {
	s := fmt.Sprintf("[%d] %s %s offset=%d sent=%d -> %d", e.Phase, e.Method, e.Path, e.Offset, e.Sent, e.Status)
	if e.Status < 0 {
		s = fmt.Sprintf("[%d] %s %s offset=%d sent=%d -> connection closed", e.Phase, e.Method, e.Path, e.Offset, e.Sent)
	}
	if e.RespOffset >= 0 {
		s += fmt.Sprintf(" Upload-Offset: %d", e.RespOffset)
	}
	if e.RetryAfter != "" {
		s += " Retry-After: " + e.RetryAfter
	}
	if e.Held {
		s += " (held)"
	}
	return s
}

// patchHold holds one PATCH in the middle of its body: the first PATCH
// that comes once afterAcks PATCHes were answered 204 since the hold was
// set has its first at bytes forwarded to the server, then waits until
// released. Released, it ends the body with an error: the server sees a
// cut request, and the page a 502 (if it still listens) or, with cut, its
// connection closed without an answer, as when a server dies.
type patchHold struct {
	afterAcks int
	at        int64
	cut       bool
	acks      int
	held      chan struct{} // closed when the PATCH is held
	release   chan struct{} // closed by the test
	heldOnce  sync.Once
	once      sync.Once
	done      chan struct{} // closed when the held PATCH is answered
}

// tusRecorder records every request to {prefix}/uploads/ on its way to
// the server, and holds a PATCH when told to.
type tusRecorder struct {
	next http.Handler

	mu    sync.Mutex
	log   []tusExchange
	phase int
	hold  *patchHold
	// cutPatches closes the connection of every PATCH instead of
	// answering it, as a server that is down would (the proxy would
	// answer 502, and Chromium would retry a PATCH cut once on its own).
	cutPatches bool
}

// setCutPatches sets cutPatches.
func (rec *tusRecorder) setCutPatches(on bool) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.cutPatches = on
}

// setPhase marks the requests that come from now on with phase.
func (rec *tusRecorder) setPhase(phase int) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.phase = phase
}

// holdPatch sets a patchHold (see there).
func (rec *tusRecorder) holdPatch(t *testing.T, afterAcks int, at int64, cut bool) *patchHold {
	h := &patchHold{afterAcks: afterAcks, at: at, cut: cut, held: make(chan struct{}), release: make(chan struct{}), done: make(chan struct{})}
	t.Cleanup(h.free)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.hold = h
	return h
}

// free releases the held PATCH.
func (h *patchHold) free() { h.once.Do(func() { close(h.release) }) }

// exchanges answers what was recorded so far.
func (rec *tusRecorder) exchanges() []tusExchange {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]tusExchange(nil), rec.log...)
}

// errHeldBody ends the body of a held PATCH once released.
var errHeldBody = errors.New("the test cut this PATCH")

// heldBody passes a request body on, counting it; with a hold, it stops
// after hold.at bytes until released, then fails.
type heldBody struct {
	mu   sync.Mutex // orders the proxy's reads and the final drain
	r    io.ReadCloser
	n    atomic.Int64 // bytes read
	hold *patchHold
}

func (b *heldBody) Read(p []byte) (int, error) {
	if b.hold != nil {
		left := b.hold.at - b.n.Load()
		if left <= 0 {
			b.hold.heldOnce.Do(func() { close(b.hold.held) })
			<-b.hold.release
			return 0, errHeldBody
		}
		p = p[:min(int64(len(p)), left)]
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.r.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func (b *heldBody) Close() error { return b.r.Close() }

// drain reads what the page sent and the proxy did not, so that the
// answer reaches the page rather than a connection closed mid-body.
func (b *heldBody) drain() {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, _ := io.Copy(io.Discard, b.r)
	b.n.Add(n)
}

// statusWriter records the status written; with swallow, it writes
// nothing, so that the connection can be closed instead.
type statusWriter struct {
	http.ResponseWriter
	status  int
	swallow http.Header // not nil: swallow the answer
}

func (w *statusWriter) Header() http.Header {
	if w.swallow != nil {
		return w.swallow
	}
	return w.ResponseWriter.Header()
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	if w.swallow == nil {
		w.ResponseWriter.WriteHeader(status)
	}
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.swallow != nil {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

func (rec *tusRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ex := tusExchange{Method: r.Method, Path: r.URL.Path, Offset: -1, RespOffset: -1, Auth: r.Header.Get("Authorization")}
	if v := r.Header.Get("Upload-Offset"); v != "" {
		ex.Offset, _ = strconv.ParseInt(v, 10, 64)
	}
	body := &heldBody{r: r.Body}
	rec.mu.Lock()
	ex.Phase = rec.phase
	if h := rec.hold; h != nil && r.Method == http.MethodPatch && h.acks >= h.afterAcks {
		body.hold, rec.hold = h, nil
		ex.Held = true
	}
	cut := (body.hold != nil && body.hold.cut) || (rec.cutPatches && r.Method == http.MethodPatch)
	i := len(rec.log)
	rec.log = append(rec.log, ex)
	rec.mu.Unlock()

	r.Body = body
	sw := &statusWriter{ResponseWriter: w}
	if cut {
		sw.swallow = http.Header{}
	}
	rec.next.ServeHTTP(sw, r)
	switch {
	case cut:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
		sw.status = -1
		if body.hold != nil {
			defer close(body.hold.done)
		}
	case body.hold != nil:
		body.drain()
		defer close(body.hold.done)
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	ex = rec.log[i]
	ex.Sent = body.n.Load()
	ex.Status = sw.status
	hdr := sw.Header()
	if v := hdr.Get("Upload-Offset"); v != "" {
		ex.RespOffset, _ = strconv.ParseInt(v, 10, 64)
	}
	ex.Location = hdr.Get("Location")
	ex.RetryAfter = hdr.Get("Retry-After")
	rec.log[i] = ex
	if h := rec.hold; h != nil && r.Method == http.MethodPatch && ex.Status == http.StatusNoContent {
		h.acks++
	}
}

// writeRandom writes size random bytes (a fixed seed per name) to path
// and answers their SHA-256.
func writeRandom(t *testing.T, path string, size int) [32]byte {
	t.Helper()
	var seed [32]byte
	copy(seed[:], filepath.Base(path))
	data := make([]byte, size)
	_, _ = rand.NewChaCha8(seed).Read(data)
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return sha256.Sum256(data)
}

// TestBrowserResumable drives the demo page's resumable uploads (tus, in
// resumable.js) in headless Chromium, on a server that is a process of its
// own, with 4 MiB chunks (?chunk_size) for files over 8 MiB:
//
//   - a 40 MiB file: after its first chunk is acknowledged, the server is
//     killed in the middle of the second PATCH and started again on the
//     same port and stores; the page says "paused, retrying" meanwhile, and
//     then finishes by itself, going on from the server's offset. A small
//     file picked with it goes the usual way (POST /).
//   - another 40 MiB file: the page is reloaded in the middle of its
//     fourth PATCH; it lists the unfinished upload, and when the same file
//     is picked again it resumes: its first PATCH after the reload has the
//     offset HEAD answered, past the three chunks acknowledged before.
//   - a 12 MiB file left unfinished by a reload is discarded from the list:
//     DELETE, and the upload is gone.
//
// Both large attachments are listed as cards, downloaded, and compared by
// SHA-256 with the files.
func TestBrowserResumable(t *testing.T) {
	const (
		prefix = "/api/files"
		chunk  = 4 << 20
		size   = 40 << 20
	)
	var rec *tusRecorder
	b := startBrowserTestWith(t, prefix, func(proxy http.Handler) http.Handler {
		rec = &tusRecorder{next: proxy}
		return rec
	})

	files := t.TempDir()
	crash := filepath.Join(files, "crash.bin")
	crashSum := writeRandom(t, crash, size)
	reload := filepath.Join(files, "reload.bin")
	reloadSum := writeRandom(t, reload, size)
	discard := filepath.Join(files, "discard.bin")
	writeRandom(t, discard, 12<<20)
	small := filepath.Join(files, "small.txt")
	require.NoError(t, os.WriteFile(small, []byte(strings.Repeat("a small file, sent as a form.\n", 3000)), 0o644))

	page := fmt.Sprintf("%s/?chunk_size=%d", b.origin, chunk)
	b.do("open", chromedp.Navigate(page))
	b.wait("first list", `document.getElementById('grid').dataset.loaded === 'true'`)
	assert.False(t, eval[bool](b, `document.getElementById('unfinished-box').checkVisibility()`), "nothing unfinished yet")

	rowJS := func(name string) string {
		return fmt.Sprintf(`document.querySelector('[data-testid=upload-row][data-filename=%q]')`, name)
	}
	cardID := func(name string) string {
		b.wait("card of "+name, fmt.Sprintf(`!!document.querySelector('[data-testid=card][data-filename=%q]')`, name))
		return eval[string](b, fmt.Sprintf(`document.querySelector('[data-testid=card][data-filename=%q]').dataset.id`, name))
	}
	stored := func() []string {
		return eval[[]string](b, `Object.keys(localStorage).filter(k => k.startsWith('attachment-demo-upload '))`)
	}
	download := func(id string) [32]byte {
		resp, err := http.Get(b.origin + prefix + "/" + id)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		h := sha256.New()
		_, err = io.Copy(h, resp.Body)
		require.NoError(t, err)
		return [32]byte(h.Sum(nil))
	}

	// waitFor waits for ch to be closed.
	waitFor := func(step string, ch <-chan struct{}) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(90 * time.Second):
			b.fail(step, errors.New("not within 90s"))
		}
	}

	// waitExchange waits for an exchange that ok accepts.
	waitExchange := func(step string, ok func(tusExchange) bool) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for !slices.ContainsFunc(rec.exchanges(), ok) {
			if time.Now().After(deadline) {
				b.fail(step, fmt.Errorf("not within 90s: %v", rec.exchanges()))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// (a) The server dies mid-PATCH after the first chunk, and comes back.
	rec.setPhase(1)
	hold := rec.holdPatch(t, 1, chunk/2, true)
	b.do("choose crash.bin and small.txt", chromedp.SetUploadFiles(chromedp.CSS("#file-input"), []string{crash, small}))
	waitFor("PATCH held", hold.held)
	assert.Equal(t, []string{"attachment-demo-upload crash.bin:" + strconv.Itoa(size) + ":" +
		strconv.FormatInt(modTime(t, crash), 10)}, stored(), "the upload URL is kept under name:size:lastModified")
	b.screenshot("crash-mid-patch")
	b.server.kill()
	rec.setCutPatches(true)
	hold.free()
	waitFor("held PATCH cut", hold.done)
	b.wait("paused, retrying", rowJS("crash.bin")+`.dataset.state === 'paused' && `+rowJS("crash.bin")+`.textContent.includes('paused, retrying')`)
	b.screenshot("paused")
	// The server stays down until the page has asked it for the offset.
	waitExchange("HEAD while the server is down", func(e tusExchange) bool {
		return e.Phase == 1 && e.Method == http.MethodHead && e.Status == http.StatusBadGateway
	})
	rec.setPhase(2)
	rec.setCutPatches(false)
	b.server.restart()
	b.wait("crash.bin done", rowJS("crash.bin")+`.dataset.state === 'done'`)
	b.wait("small.txt done", rowJS("small.txt")+`.dataset.state === 'done'`)
	crashID := cardID("crash.bin")
	cardID("small.txt")
	b.screenshot("crash-done")
	assert.Equal(t, crashSum, download(crashID), "crash.bin downloaded")
	assert.Empty(t, stored(), "nothing kept once done")

	ex := rec.exchanges()
	var posts, down, afterRestart []tusExchange
	for _, e := range ex {
		switch {
		case e.Method == http.MethodPost:
			posts = append(posts, e)
		case e.Phase == 1 && (e.Status == http.StatusBadGateway || e.Status < 0):
			down = append(down, e)
		case e.Phase == 2 && e.Method == http.MethodPatch:
			afterRestart = append(afterRestart, e)
		}
	}
	require.Len(t, posts, 1, "one upload made: %v", ex)
	assert.Equal(t, http.StatusCreated, posts[0].Status)
	require.NotEmpty(t, down, "%v", ex)
	assert.Equal(t, http.MethodPatch, down[0].Method, "the PATCH cut: %v", down)
	assert.Equal(t, -1, down[0].Status, "the PATCH cut: %v", down)
	assert.Equal(t, int64(chunk), down[0].Offset, "the PATCH cut: %v", down)
	assert.Equal(t, http.MethodHead, down[len(down)-1].Method, "the page asked for the offset again while the server was down: %v", down)
	// The page saw the cut PATCH fail without an answer, as when a server
	// dies: that is no problem of the page's.
	assert.NotEmpty(t, b.dropProblems("request failed: PATCH"), "the page saw the PATCH fail")
	require.NotEmpty(t, afterRestart, "%v", ex)
	assert.GreaterOrEqual(t, afterRestart[0].Offset, int64(chunk), "after the restart it went on from the acknowledged chunk, not from 0: %v", ex)
	assert.Equal(t, http.StatusNoContent, afterRestart[len(afterRestart)-1].Status)
	assert.Equal(t, prefix+"/"+crashID, afterRestart[len(afterRestart)-1].Location, "the last PATCH answers the attachment")
	t.Logf("crash: %d exchanges; while the server was down: %v; after the restart: %v", len(ex), down, afterRestart)

	// (b) The page is reloaded mid-upload; the same file picked again
	// resumes.
	rec.setPhase(3)
	hold = rec.holdPatch(t, 3, chunk/2, false)
	b.do("choose reload.bin", chromedp.SetUploadFiles(chromedp.CSS("#file-input"), []string{reload}))
	waitFor("PATCH held", hold.held)
	b.do("reload", chromedp.Reload())
	rec.setPhase(4)
	b.wait("list after reload", `document.getElementById('grid').dataset.loaded === 'true'`)
	b.wait("unfinished upload listed", `document.querySelector('[data-testid=unfinished-row][data-filename="reload.bin"]')?.dataset.offset > 0`)
	assert.Contains(t, eval[string](b, `document.querySelector('[data-testid=unfinished-row]').textContent`), "pick the same file to resume")
	assert.True(t, eval[bool](b, `document.getElementById('unfinished-box').checkVisibility()`))
	b.screenshot("unfinished-after-reload")
	hold.free()
	waitFor("held PATCH answered", hold.done)
	b.do("choose reload.bin again", chromedp.SetUploadFiles(chromedp.CSS("#file-input"), []string{reload}))
	b.wait("reload.bin done", rowJS("reload.bin")+`.dataset.state === 'done'`)
	assert.False(t, eval[bool](b, `document.getElementById('unfinished-box').checkVisibility()`), "the list of unfinished uploads is empty again")
	reloadID := cardID("reload.bin")
	b.screenshot("reload-done")
	assert.Equal(t, reloadSum, download(reloadID), "reload.bin downloaded")
	assert.Empty(t, stored(), "nothing kept once done")

	ex = rec.exchanges()
	var before, after []tusExchange
	for _, e := range ex {
		switch e.Phase {
		case 3:
			before = append(before, e)
		case 4:
			after = append(after, e)
		}
	}
	acked := int64(0)
	for _, e := range before {
		if e.Method == http.MethodPatch && e.Status == http.StatusNoContent {
			acked = max(acked, e.RespOffset)
		}
	}
	assert.Equal(t, int64(3*chunk), acked, "three chunks acknowledged before the reload: %v", before)
	var firstPatch, lastHead *tusExchange
	for i, e := range after {
		assert.NotEqual(t, http.MethodPost, e.Method, "no new upload after the reload: %v", after)
		if e.Method == http.MethodHead && e.Status == http.StatusNoContent && firstPatch == nil {
			lastHead = &after[i]
		}
		if e.Method == http.MethodPatch && firstPatch == nil {
			firstPatch = &after[i]
		}
	}
	require.NotNil(t, firstPatch, "%v", after)
	require.NotNil(t, lastHead, "%v", after)
	t.Logf("first PATCH after the reload: %v (HEAD before it: %v)", firstPatch, lastHead)
	assert.GreaterOrEqual(t, firstPatch.Offset, acked, "the first PATCH after the reload goes on from the server's offset: %v", after)
	assert.Equal(t, lastHead.RespOffset, firstPatch.Offset, "from the offset HEAD answered")

	// (c) An unfinished upload discarded from the list.
	rec.setPhase(5)
	hold = rec.holdPatch(t, 1, chunk/2, false)
	b.do("choose discard.bin", chromedp.SetUploadFiles(chromedp.CSS("#file-input"), []string{discard}))
	waitFor("PATCH held", hold.held)
	b.do("reload again", chromedp.Reload())
	b.wait("discard.bin listed", `document.querySelector('[data-testid=unfinished-row][data-filename="discard.bin"]')?.dataset.offset > 0`)
	hold.free()
	waitFor("held PATCH answered", hold.done)
	b.do("discard", chromedp.Click(chromedp.CSS(`[data-testid=unfinished-row][data-filename="discard.bin"] [data-testid=unfinished-discard]`)))
	b.wait("discarded", `!document.querySelector('[data-testid=unfinished-row]') && !document.getElementById('unfinished-box').checkVisibility()`)
	assert.Empty(t, stored())
	var uploadURL string
	var deleted bool
	for _, e := range rec.exchanges() {
		if e.Phase == 5 && e.Method == http.MethodPost {
			uploadURL = e.Location
		}
		if e.Phase == 5 && e.Method == http.MethodDelete {
			deleted = e.Status == http.StatusNoContent && e.Path == uploadURL
		}
	}
	require.NotEmpty(t, uploadURL)
	assert.True(t, deleted, "DELETE %s answered 204: %v", uploadURL, rec.exchanges())
	assert.Equal(t, http.StatusNotFound, b.api("HEAD", uploadURL, nil, nil, "Tus-Resumable", "1.0.0"), "the upload is gone")
	b.screenshot("discarded")

	// The page made no other mistakes; the error answers it saw were the
	// outage's and the locked upload's.
	b.checkProblems()
	b.checkAPI("POST / 201", "GET / 200", "GET /{id}/metadata 200")
	for _, e := range b.errorAnswers() {
		assert.Regexp(t, `^(PATCH|HEAD) `+prefix+`/uploads/\S+ (502|423|409)$`, e)
	}
	t.Logf("error answers: %v", b.errorAnswers())
}

// dropProblems removes the problems recorded so far that start with
// prefix, and answers them.
func (b *browserTest) dropProblems(prefix string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var dropped, kept []string
	for _, p := range b.problems {
		if strings.HasPrefix(p, prefix) {
			dropped = append(dropped, p)
		} else {
			kept = append(kept, p)
		}
	}
	b.problems = kept
	return dropped
}

// modTime is the file's modification time in milliseconds since 1970, as
// a browser's File.lastModified.
func modTime(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.ModTime().UnixMilli()
}

// TestBrowserResumableToken: on a server with -token, the page sends the
// token it was given on every tus request too (POST, PATCH), and a file
// over the threshold (12 MiB, in the default 8 MiB PATCHes) becomes an
// attachment like any other.
func TestBrowserResumableToken(t *testing.T) {
	const prefix = "/attachments"
	var rec *tusRecorder
	b := startBrowserTestWith(t, prefix, func(proxy http.Handler) http.Handler {
		rec = &tusRecorder{next: proxy}
		return rec
	}, "-token", "s3cret")
	big := filepath.Join(t.TempDir(), "big.bin")
	sum := writeRandom(t, big, 12<<20)

	b.do("open", chromedp.Navigate(b.origin+"/"), chromedp.WaitVisible(chromedp.CSS("[data-testid=error]")))
	b.do("enter token",
		chromedp.SendKeys(chromedp.CSS("#token"), "s3cret"),
		chromedp.Click(chromedp.CSS("[data-testid=token-save]")),
		chromedp.WaitNotVisible(chromedp.CSS("[data-testid=error]")),
	)
	b.wait("list", `document.getElementById('grid').dataset.loaded === 'true'`)
	b.do("upload", chromedp.SetUploadFiles(chromedp.CSS("#file-input"), []string{big}))
	b.wait("uploaded", `document.querySelector('[data-testid=upload-row]')?.dataset.state === 'done'`)
	b.wait("card", `!!document.querySelector('[data-testid=card][data-filename="big.bin"]')`)
	id := eval[string](b, `document.querySelector('[data-testid=card][data-filename="big.bin"]').dataset.id`)
	b.screenshot("token-resumable")

	var methods []string
	for _, e := range rec.exchanges() {
		methods = append(methods, e.Method)
		assert.Equal(t, "Bearer s3cret", e.Auth, "%v", e)
		assert.Less(t, e.Status, 400, "%v", e)
	}
	assert.Equal(t, []string{"POST", "PATCH", "PATCH"}, methods, "created, then two PATCHes of at most 8 MiB")

	req, err := http.NewRequest("GET", b.origin+prefix+"/"+id, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	h := sha256.New()
	_, err = io.Copy(h, resp.Body)
	require.NoError(t, err)
	assert.Equal(t, sum, [32]byte(h.Sum(nil)))

	b.checkProblems()
	b.checkAPI("GET / 401", "GET / 200", "GET /{id}/metadata 200")
	assert.Equal(t, []string{"GET /attachments/?limit=20 401"}, b.errorAnswers())
}
