package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/internal/e2e/openapitest"
)

// chromiumEnv names the browser for TestBrowser.
const chromiumEnv = "ATTACHMENT_TEST_CHROMIUM"

// chromium finds the browser: $ATTACHMENT_TEST_CHROMIUM, /usr/bin/chromium,
// or chromium, chromium-browser or google-chrome on the PATH. Without one
// the test skips, except in CI (CI=true), where it fails.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(chromiumEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s=%s: %v", chromiumEnv, p, err)
		}
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium: set " + chromiumEnv + " to a Chromium or Chrome binary, or install Debian's package: apt-get install -y chromium"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: the browser test must run)")
	}
	t.Skip(msg)
	return ""
}

// artifactsEnv names a folder for the test's screenshots.
const artifactsEnv = "ATTACHMENT_TEST_ARTIFACTS"

// screenshotDir is $ATTACHMENT_TEST_ARTIFACTS/browser/TESTNAME (emptied
// first), or a new temporary folder that is left behind to be looked at.
func screenshotDir(t *testing.T) string {
	t.Helper()
	var dir string
	if v := os.Getenv(artifactsEnv); v != "" {
		dir = filepath.Join(v, "browser", t.Name())
		require.NoError(t, os.RemoveAll(dir))
		require.NoError(t, os.MkdirAll(dir, 0o755))
	} else {
		var err error
		dir, err = os.MkdirTemp("", "attachment-"+t.Name()+"-")
		require.NoError(t, err)
	}
	t.Logf("screenshots: %s", dir)
	return dir
}

// browserTest is a page in headless Chromium on a demo server.
type browserTest struct {
	t      *testing.T
	ctx    context.Context // the tab
	origin string          // http://127.0.0.1:PORT
	prefix string
	spec   *openapitest.Validator
	shots  string
	nshot  int
	server *serverProcess // the examples/server behind the page

	mu       sync.Mutex
	problems []string          // JS errors and failed requests
	errors   []string          // "METHOD path status" of every answer >= 400
	methods  map[string]string // request ID -> method
}

// startBrowserTest serves the API (validated against the OpenAPI document)
// and the demo page on loopback, with a temporary folder and SQLite, and
// opens a Chromium tab on nothing yet.
func startBrowserTest(t *testing.T, prefix string, extra ...string) *browserTest {
	t.Helper()
	return startBrowserTestWith(t, prefix, nil, extra...)
}

// startBrowserTestWith is startBrowserTest, with uploads (when not nil)
// serving {prefix}/uploads/ instead of the OpenAPI validation: it is
// given the proxy to the server.
func startBrowserTestWith(t *testing.T, prefix string, uploads func(proxy http.Handler) http.Handler, extra ...string) *browserTest {
	t.Helper()
	chrome := chromium(t)
	dir := t.TempDir()
	// The demo server runs as users run it: the examples/server program,
	// built from this repository, as a process of its own.
	server := startServerProcess(t, append([]string{"-addr", "127.0.0.1:0", "-prefix", prefix,
		"-blob", "file://" + dir + "/blobs?create_dir=1&no_tmp_dir=1&metadata=skip",
		"-meta", "sqlite://" + dir + "/meta.db"}, extra...)...)
	upstream, err := url.Parse(server.base)
	require.NoError(t, err)
	upstream.Path = ""
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	// Every request to the API, the page's and the test's, and every answer
	// is checked against the OpenAPI document on its way through.
	api := openapitest.New(t, proxy, prefix)
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", api)
	if uploads != nil {
		mux.Handle(prefix+"/uploads/", uploads(proxy))
	}
	mux.Handle("/", proxy)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	b := &browserTest{t: t, origin: srv.URL, prefix: prefix, spec: api, shots: screenshotDir(t), methods: map[string]string{}, server: server}
	profile, err := os.MkdirTemp("", "attachment-chromium-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(profile) })
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// Nothing but loopback: no name resolves (Chromium's own services
		// would look up Google hosts), and the services that call home are
		// off.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,AutofillServerCommunication,OptimizationHints,MediaRouter,DialMediaRouteProvider,CertificateTransparencyComponentUpdater"),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("disable-component-extensions-with-background-pages", true),
		chromedp.Flag("no-pings", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx,
		chromedp.WithListener(b.listen),
		chromedp.WithLogf(t.Logf))
	// Cleanups run last first: the browser ends before the profile is
	// removed and the server closed.
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// The first action starts the browser, with no timeout of its own: a
	// timeout there would be the browser's lifetime.
	require.NoError(t, chromedp.Do(ctx), "starting %s", chrome)
	b.ctx = ctx
	return b
}

// listen records JS errors, failed requests and error answers. It runs in
// the tab's event loop: it must return fast and send no command.
func (b *browserTest) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil {
			text += " " + d.Exception.Description
		}
		b.problems = append(b.problems, fmt.Sprintf("JS exception at %s:%d: %s", d.URL, d.LineNumber+1, text))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					args = append(args, string(a.Value))
				} else {
					args = append(args, a.Description)
				}
			}
			b.problems = append(b.problems, "console."+string(ev.Type)+": "+strings.Join(args, " "))
		}
	case *log.EventEntryAdded:
		// Error answers are checked one by one below; anything else the
		// browser logs as an error (CSP violations, say) is a problem.
		if ev.Entry.Level == log.EntryLevelError && ev.Entry.Source != log.EntrySourceNetwork {
			b.problems = append(b.problems, fmt.Sprintf("browser log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		b.methods[string(ev.RequestID)] = ev.Request.Method
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			path := strings.TrimPrefix(ev.Response.URL, b.origin)
			b.errors = append(b.errors, fmt.Sprintf("%s %s %d", b.methods[string(ev.RequestID)], path, ev.Response.Status))
		}
	case *network.EventLoadingFailed:
		if !ev.Canceled {
			b.problems = append(b.problems, fmt.Sprintf("request failed: %s %s (%s)", b.methods[string(ev.RequestID)], ev.Type, ev.ErrorText))
		}
	}
}

// errorAnswers is the "METHOD path status" of every answer >= 400 so far.
func (b *browserTest) errorAnswers() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.errors)
}

// checkProblems fails the test on any JS error or failed request so far.
func (b *browserTest) checkProblems() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Error(p)
	}
	b.problems = nil
}

// checkAPI checks that the OpenAPI validation saw the page's requests
// (each one and its answer already checked), every one of them valid, and
// the documented responses in want among them.
func (b *browserTest) checkAPI(want ...string) {
	b.t.Helper()
	assert.Positive(b.t, b.spec.Count(), "the OpenAPI validation saw requests")
	assert.Zero(b.t, b.spec.Rejected(), "requests the OpenAPI document calls invalid")
	seen := b.spec.Seen()
	for _, k := range want {
		assert.Positive(b.t, seen[k], "the page made %s", k)
	}
}

// do runs actions with a generous timeout; on failure it takes a
// screenshot, shows what the page said, and stops the test.
func (b *browserTest) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(step, err)
	}
}

// wait polls a JavaScript expression until it is true.
func (b *browserTest) wait(step, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+expr+")",
		chromedp.WithPollingInterval(100*time.Millisecond),
		chromedp.WithPollingTimeout(75*time.Second)))
	if err != nil {
		b.fail(step, err)
	}
}

// eval evaluates a JavaScript expression.
func eval[T any](b *browserTest, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fail("evaluate "+expr, err)
	}
	return v
}

func (b *browserTest) fail(step string, err error) {
	b.t.Helper()
	b.screenshot("failed-" + step)
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	said, _ := chromedp.Run(ctx, chromedp.Evaluate[string](
		`document.getElementById('status')?.textContent + ' | error: ' + document.getElementById('error')?.innerText`))
	b.checkProblems()
	b.t.Fatalf("%s: %v\npage status: %s\nerror answers: %v", step, err, said, b.errorAnswers())
}

// screenshot saves the whole page as NN-name.png.
func (b *browserTest) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	b.nshot++
	path := filepath.Join(b.shots, fmt.Sprintf("%02d-%s.png", b.nshot, name))
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
	}
}

// api calls the API from Go (as another client would), and decodes a JSON
// answer into out when it is not nil.
func (b *browserTest) api(method, path string, body io.Reader, out any, hdr ...string) int {
	b.t.Helper()
	req, err := http.NewRequest(method, b.origin+path, body)
	require.NoError(b.t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	if out != nil && resp.StatusCode < 300 {
		require.NoError(b.t, json.Unmarshal(data, out), "%s %s: %s", method, path, data)
	}
	return resp.StatusCode
}

// writePNG writes an opaque w×h PNG with a gradient and a few shapes.
func writePNG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{uint8(40 + 180*x/w), uint8(90 + 120*y/h), 200, 255}
			dx, dy := x-w/3, y-h/2
			if dx*dx+dy*dy < (h/4)*(h/4) {
				c = color.RGBA{250, 190, 40, 255}
			}
			if x > w*3/5 && x < w*4/5 && y > h/4 && y < h*3/4 {
				c = color.RGBA{230, 60, 70, 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
}

// cardJS is a JavaScript expression for the card of an attachment.
func cardJS(id string) string {
	return fmt.Sprintf(`document.querySelector('[data-testid=card][data-id=%q]')`, id)
}

func cardCSS(id string) string {
	return fmt.Sprintf(`[data-testid=card][data-id=%q]`, id)
}

// TestBrowser drives the demo page in headless Chromium: upload two files
// at once through the file input, thumbnails, rename, an API error shown,
// search, delete (plain and of a referenced file), and "Load more". Every
// request the page makes goes through the OpenAPI validation; any JS
// error or failed request fails the test. Screenshots of each step go to
// $ATTACHMENT_TEST_ARTIFACTS/browser or a temporary folder (logged).
func TestBrowser(t *testing.T) {
	const prefix = "/api/files" // not the default: the page must learn it
	b := startBrowserTest(t, prefix)

	// Files to upload: an image made here and a text file.
	files := t.TempDir()
	photo := filepath.Join(files, "photo.png")
	writePNG(t, photo, 1200, 800)
	notes := filepath.Join(files, "notes.txt")
	notesText := strings.Repeat("Minutes of the meeting: the demo page works.\n", 6000) // ~270 KB
	require.NoError(t, os.WriteFile(notes, []byte(notesText), 0o644))

	b.do("open", chromedp.Navigate(b.origin+"/"))
	b.wait("first list", `document.getElementById('grid').dataset.loaded === 'true'`)
	assert.Equal(t, prefix+"/", eval[string](b, `document.getElementById('api-prefix').textContent`))
	assert.True(t, eval[bool](b, `document.getElementById('empty').checkVisibility()`), "an empty list says so")
	assert.False(t, eval[bool](b, `document.getElementById('load-more').checkVisibility()`), "nothing more to load")
	b.screenshot("empty")

	// Upload both at once through the file input.
	b.do("choose files", chromedp.SetUploadFiles(chromedp.CSS("#file-input"), []string{photo, notes}))
	b.wait("both uploads at 100%", `(() => {
		const rows = [...document.querySelectorAll('[data-testid=upload-row]')];
		return rows.length === 2 && rows.every(r => r.dataset.state === 'done' && r.querySelector('progress').value === 100);
	})()`)
	assert.Equal(t, []string{"photo.png", "notes.txt"},
		eval[[]string](b, `[...document.querySelectorAll('[data-testid=upload-row]')].map(r => r.dataset.filename)`))
	b.wait("two cards", `document.querySelectorAll('[data-testid=card]').length === 2`)
	assert.False(t, eval[bool](b, `[...document.querySelectorAll('[data-testid=rename-form]')].some(f => f.checkVisibility())`), "no rename form open")
	assert.False(t, eval[bool](b, `document.getElementById('empty').checkVisibility()`))
	b.screenshot("uploaded")
	photoID := eval[string](b, `document.querySelector('[data-testid=card][data-filename="photo.png"]').dataset.id`)
	notesID := eval[string](b, `document.querySelector('[data-testid=card][data-filename="notes.txt"]').dataset.id`)
	require.NotEmpty(t, photoID)
	require.NotEmpty(t, notesID)

	// The image's thumbnail fills in once processing is done, and loads.
	b.wait("thumbnail loaded", `(() => {
		const img = `+cardJS(photoID)+`.querySelector('img[data-testid=thumb]');
		return img && img.complete && img.naturalWidth > 0;
	})()`)
	size := eval[[]int](b, `(() => { const img = `+cardJS(photoID)+`.querySelector('img[data-testid=thumb]'); return [img.naturalWidth, img.naturalHeight]; })()`)
	assert.Equal(t, []int{256, 171}, size, "a 256 px thumbnail of a 1200×800 image")
	src := eval[string](b, cardJS(photoID)+`.querySelector('img[data-testid=thumb]').getAttribute('src')`)
	assert.Equal(t, prefix+"/"+photoID+"/thumbnail?size=256", src)
	// The text file shows its type instead.
	assert.Equal(t, "TXT", eval[string](b, cardJS(notesID)+`.querySelector('[data-testid=type-label]').textContent`))
	assert.False(t, eval[bool](b, `!!`+cardJS(notesID)+`.querySelector('img')`), "no thumbnail for text")
	b.screenshot("thumbnails")

	// The download link is the API's download, as an attachment.
	href := eval[string](b, cardJS(notesID)+`.querySelector('[data-testid=download]').getAttribute('href')`)
	assert.Equal(t, prefix+"/"+notesID, href)
	resp, err := http.Get(b.origin + href)
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, notesText, string(got))
	assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment"), resp.Header.Get("Content-Disposition"))

	// Rename the text file through the UI; the API agrees.
	b.do("rename",
		chromedp.Click(chromedp.CSS(cardCSS(notesID)+" [data-testid=rename]")),
		chromedp.WaitVisible(chromedp.CSS(cardCSS(notesID)+" [data-testid=rename-input]")),
		chromedp.SetValue(chromedp.CSS(cardCSS(notesID)+" [data-testid=rename-input]"), "meeting notes.txt"),
		chromedp.Click(chromedp.CSS(cardCSS(notesID)+" [data-testid=rename-save]")),
	)
	b.wait("renamed", cardJS(notesID)+`.querySelector('[data-testid=card-name]').textContent === 'meeting notes.txt'`)
	var rec struct {
		Filename string `json:"filename"`
	}
	require.Equal(t, http.StatusOK, b.api("GET", prefix+"/"+notesID+"/metadata", nil, &rec))
	assert.Equal(t, "meeting notes.txt", rec.Filename)
	b.screenshot("renamed")

	// A name the API refuses: its problem is shown to the user.
	b.do("bad rename",
		chromedp.Click(chromedp.CSS(cardCSS(photoID)+" [data-testid=rename]")),
		chromedp.SetValue(chromedp.CSS(cardCSS(photoID)+" [data-testid=rename-input]"), "../"),
		chromedp.Click(chromedp.CSS(cardCSS(photoID)+" [data-testid=rename-save]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=error]")),
	)
	assert.Equal(t, "invalid_filename", eval[string](b, `document.querySelector('[data-testid=error-code]').textContent`))
	assert.Contains(t, eval[string](b, `document.querySelector('[data-testid=error-title]').textContent`), "Bad Request")
	b.screenshot("error-shown")
	b.do("cancel bad rename",
		chromedp.Click(chromedp.CSS(cardCSS(photoID)+" [data-testid=rename-cancel]")),
		chromedp.Click(chromedp.CSS("#error-close")),
		chromedp.WaitNotVisible(chromedp.CSS("[data-testid=error]")),
	)
	require.Equal(t, http.StatusOK, b.api("GET", prefix+"/"+photoID+"/metadata", nil, &rec))
	assert.Equal(t, "photo.png", rec.Filename)

	// Search by name (case-insensitive), then clear the search.
	search := func(q string) {
		set := chromedp.SetValue(chromedp.CSS("#search"), q)
		if q == "" {
			// SetValue refuses "", and Clear sets only the attribute.
			set = chromedp.Evaluate[chromedp.Void](`document.getElementById('search').value = ''`)
		}
		b.do("search "+q, set, chromedp.Click(chromedp.CSS("[data-testid=search-submit]")))
	}
	search("PHOTO")
	b.wait("search photo", `(() => { const c = document.querySelectorAll('[data-testid=card]');
		return c.length === 1 && c[0].dataset.id === `+fmt.Sprintf("%q", photoID)+`; })()`)
	b.wait("search status", `document.getElementById('status').textContent.includes('matching')`)
	b.screenshot("search")
	search("notes")
	b.wait("search notes", `(() => { const c = document.querySelectorAll('[data-testid=card]');
		return c.length === 1 && c[0].dataset.filename === 'meeting notes.txt'; })()`)
	search("")
	b.wait("search cleared", `document.querySelectorAll('[data-testid=card]').length === 2`)

	// Delete the text file through the UI: it goes, and the API says 404.
	b.do("delete",
		chromedp.Click(chromedp.CSS(cardCSS(notesID)+" [data-testid=delete]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=confirm-dialog]")),
	)
	assert.Contains(t, eval[string](b, `document.querySelector('[data-testid=confirm-text]').textContent`), "meeting notes.txt")
	b.screenshot("confirm-delete")
	b.do("confirm delete",
		chromedp.Click(chromedp.CSS("[data-testid=confirm-ok]")),
		chromedp.WaitNotPresent(chromedp.CSS(cardCSS(notesID))),
	)
	assert.Equal(t, http.StatusNotFound, b.api("GET", prefix+"/"+notesID+"/metadata", nil, nil))
	assert.Equal(t, http.StatusNotFound, b.api("GET", prefix+"/"+notesID, nil, nil))
	b.screenshot("deleted")

	// Load more: two more files, a page size of 2.
	for _, name := range []string{"a.txt", "b.txt"} {
		require.Equal(t, http.StatusCreated, b.api("POST", prefix+"/?filename="+name, strings.NewReader("file "+name), nil, "Content-Type", "text/plain"))
	}
	b.do("open with page_size=2", chromedp.Navigate(b.origin+"/?page_size=2"))
	b.wait("first page", `document.getElementById('grid').dataset.loaded === 'true' && document.querySelectorAll('[data-testid=card]').length === 2`)
	assert.True(t, eval[bool](b, `document.getElementById('load-more').checkVisibility()`), "Load more is offered")
	b.do("load more", chromedp.Click(chromedp.CSS("[data-testid=load-more]")))
	b.wait("second page", `document.querySelectorAll('[data-testid=card]').length === 3 && !document.getElementById('load-more').checkVisibility()`)
	assert.Equal(t, []string{"b.txt", "a.txt", "photo.png"},
		eval[[]string](b, `[...document.querySelectorAll('[data-testid=card]')].map(c => c.dataset.filename)`), "newest first")
	b.wait("thumbnail after reload", cardJS(photoID)+`?.querySelector('img[data-testid=thumb]')?.naturalWidth > 0`)
	b.screenshot("load-more")

	// A referenced file: the API refuses (409 referenced), the page asks
	// again and deletes with force.
	require.Equal(t, http.StatusOK, b.api("POST", prefix+"/"+photoID+"/refs", strings.NewReader(`{"ref":"document:demo"}`), nil, "Content-Type", "application/json"))
	b.do("delete referenced",
		chromedp.Click(chromedp.CSS(cardCSS(photoID)+" [data-testid=delete]")),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=confirm-dialog]")),
		chromedp.Click(chromedp.CSS("[data-testid=confirm-ok]")),
	)
	b.wait("asked again", `document.getElementById('confirm').open && document.querySelector('[data-testid=confirm-text]').textContent.includes('document:demo')`)
	b.screenshot("confirm-referenced")
	b.do("force delete",
		chromedp.Click(chromedp.CSS("[data-testid=confirm-ok]")),
		chromedp.WaitNotPresent(chromedp.CSS(cardCSS(photoID))),
	)
	assert.Equal(t, http.StatusNotFound, b.api("GET", prefix+"/"+photoID+"/metadata", nil, nil))
	b.wait("two left", `document.querySelectorAll('[data-testid=card]').length === 2`)
	b.screenshot("final")

	b.checkProblems()
	b.checkAPI("POST / 201", "GET / 200", "POST /_status 200", "GET /{id}/thumbnail 200",
		"PATCH /{id} 200", "PATCH /{id} 400", "DELETE /{id} 200", "DELETE /{id} 409", "GET /{id}/metadata 200")
	assert.Equal(t, []string{
		"PATCH " + prefix + "/" + photoID + " 400",  // the bad name
		"DELETE " + prefix + "/" + photoID + " 409", // referenced
	}, b.errorAnswers(), "the only error answers the page saw")
}

// TestBrowserToken: on a server with -token, the page shows the 401 and
// works once the token is entered (thumbnails fetched with it as blobs);
// a file dropped on the drop zone is uploaded.
func TestBrowserToken(t *testing.T) {
	b := startBrowserTest(t, "/attachments", "-token", "s3cret")
	photo := filepath.Join(t.TempDir(), "tiny.png")
	writePNG(t, photo, 300, 200)

	b.do("open", chromedp.Navigate(b.origin+"/"), chromedp.WaitVisible(chromedp.CSS("[data-testid=error]")))
	assert.Equal(t, "unauthorized", eval[string](b, `document.querySelector('[data-testid=error-code]').textContent`))
	assert.True(t, eval[bool](b, `document.getElementById('token-box').open`), "the token field is shown")
	b.screenshot("token-needed")

	b.do("enter token",
		chromedp.SendKeys(chromedp.CSS("#token"), "s3cret"),
		chromedp.Click(chromedp.CSS("[data-testid=token-save]")),
		chromedp.WaitNotVisible(chromedp.CSS("[data-testid=error]")),
	)
	b.wait("list", `document.getElementById('grid').dataset.loaded === 'true'`)
	b.do("upload", chromedp.SetUploadFiles(chromedp.CSS("#file-input"), []string{photo}))
	b.wait("uploaded", `document.querySelector('[data-testid=upload-row]')?.dataset.state === 'done'`)
	b.wait("thumbnail", `(() => { const img = document.querySelector('[data-testid=card] img[data-testid=thumb]');
		return img && img.complete && img.naturalWidth > 0 && img.src.startsWith('blob:'); })()`)
	b.screenshot("token-thumbnail")

	// A file dropped on the drop zone is uploaded (with the token) too.
	b.do("drop", chromedp.Evaluate[chromedp.Void](`(() => {
		const dt = new DataTransfer();
		dt.items.add(new File(['dropped text'], 'dropped.txt', {type: 'text/plain'}));
		const zone = document.querySelector('[data-testid=drop-zone]');
		zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
		zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
	})()`))
	b.wait("dropped", `document.querySelector('[data-testid=upload-row][data-filename="dropped.txt"]')?.dataset.state === 'done'
		&& !!document.querySelector('[data-testid=card][data-filename="dropped.txt"]')`)
	var list struct {
		Data []struct {
			Filename string `json:"filename"`
		} `json:"data"`
	}
	require.Equal(t, http.StatusOK, b.api("GET", "/attachments/", nil, &list, "Authorization", "Bearer s3cret"))
	require.Len(t, list.Data, 2)
	assert.Equal(t, "dropped.txt", list.Data[0].Filename)

	b.checkProblems()
	b.checkAPI("GET / 401", "GET / 200", "POST / 201", "GET /{id}/thumbnail 200")
	assert.Equal(t, []string{"GET /attachments/?limit=20 401"}, b.errorAnswers())
}

// TestBrowserUploadProgress: on a slow network (uploads throttled by
// Chromium's network emulation), the upload's progress bar moves through
// values strictly between 0 and 100 while the file is being sent, not
// only to 100 at the end.
func TestBrowserUploadProgress(t *testing.T) {
	const prefix = "/api/files"
	b := startBrowserTest(t, prefix)
	const size = 2 << 20
	big := filepath.Join(t.TempDir(), "big.txt")
	require.NoError(t, os.WriteFile(big, bytes.Repeat([]byte("progress, slowly.\n"), size/18), 0o644))

	b.do("open", chromedp.Navigate(b.origin+"/"))
	b.wait("first list", `document.getElementById('grid').dataset.loaded === 'true'`)
	// Every value the page gives a progress bar, with its row's state then.
	b.do("watch progress", chromedp.Evaluate[chromedp.Void](`(() => {
		window.progressSeen = [];
		new MutationObserver((ms) => {
			for (const m of ms) {
				const row = m.target.closest('[data-testid=upload-row]');
				window.progressSeen.push({value: m.target.value, state: row && row.dataset.state});
			}
		}).observe(document.getElementById('uploads'), {subtree: true, attributes: true, attributeFilter: ['value']});
	})()`))
	// 512 KiB/s up: some four seconds for the file, many progress events.
	b.do("slow network", chromedp.Func(slowUploads(512<<10)))
	start := time.Now()
	b.do("choose file", chromedp.SetUploadFiles(chromedp.CSS("#file-input"), []string{big}))
	// Sampled from here while the upload runs, as a user would see it,
	// until a value between 0 and 100 shows or the upload is over.
	b.wait("progress shown mid-upload, or the upload over", `(() => {
		const p = document.querySelector('[data-testid=upload-progress]');
		const state = p?.closest('[data-testid=upload-row]').dataset.state;
		if (p && p.value > 0 && p.value < 100 && state === 'uploading') window.progressSampled = p.value;
		return window.progressSampled !== undefined || state === 'done' || state === 'error';
	})()`)
	sampled := eval[float64](b, `window.progressSampled ?? -1`)
	assert.True(t, sampled > 0 && sampled < 100, "sampled mid-upload, the bar showed no value between 0 and 100")
	b.wait("uploaded", `document.querySelector('[data-testid=upload-row]')?.dataset.state === 'done'`)
	took := time.Since(start)
	b.screenshot("uploaded-slowly")

	type sample struct {
		Value float64 `json:"value"`
		State string  `json:"state"`
	}
	seen := eval[[]sample](b, `window.progressSeen`)
	var between []float64
	for _, s := range seen {
		if s.Value > 0 && s.Value < 100 && s.State == "uploading" {
			between = append(between, s.Value)
		}
	}
	t.Logf("%d MiB uploaded in %v; sampled at %v%%; progress values between 0 and 100: %v", size>>20, took.Round(time.Millisecond), sampled, between)
	assert.NotEmpty(t, between, "no progress between 0 and 100 while uploading: %v", seen)
	assert.True(t, slices.IsSorted(between), "progress went back: %v", between)
	assert.Equal(t, 100.0, seen[len(seen)-1].Value, "the bar ends full")
	b.checkProblems()
	b.checkAPI("POST / 201")
	assert.Empty(t, b.errorAnswers())
}

// slowUploads throttles the tab's uploads to bytesPerSecond. The DevTools
// protocol changed under this call: Chromium 148 (Debian bookworm's today)
// wants emulateNetworkConditionsByRule with a top-level offline flag,
// which the protocol of cdproto's version no longer has, and older ones
// have only emulateNetworkConditions. The forms are tried in turn.
func slowUploads(bytesPerSecond int) func(ctx context.Context, tgt *chromedp.Target) error {
	conditions := []map[string]any{{"urlPattern": "", "latency": 0, "downloadThroughput": -1, "uploadThroughput": bytesPerSecond}}
	tries := []struct {
		method string
		params map[string]any
	}{
		{network.CommandEmulateNetworkConditionsByRule, map[string]any{"offline": false, "matchedNetworkConditions": conditions}},
		{network.CommandEmulateNetworkConditionsByRule, map[string]any{"matchedNetworkConditions": conditions}},
		{"Network.emulateNetworkConditions", map[string]any{"offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": bytesPerSecond}},
	}
	return func(ctx context.Context, tgt *chromedp.Target) error {
		var errs []error
		for _, try := range tries {
			_, err := cdp.Call(ctx, tgt, cdp.Command[map[string]any, json.RawMessage]{Method: try.method}, try.params)
			if err == nil {
				return nil
			}
			errs = append(errs, fmt.Errorf("%s: %w", try.method, err))
		}
		return errors.Join(errs...)
	}
}
