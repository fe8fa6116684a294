package attachment_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/metadata/sqlitestore"
	"github.com/attachkit/attachment/storage"
)

var loadDuration = flag.Duration("load.duration", 12*time.Second,
	"how long TestLoad's workers run on file+sqlite (s3+postgres, when configured, runs a quarter of it)")

const (
	loadWorkers = 16
	loadTenants = 4
	loadPrefix  = "/files"
)

// TestLoad is the load proof: K workers over T tenants upload (raw and
// multipart, 1 KiB to 1 MiB, some of them images), download (whole and
// ranges, checked byte for byte), ask for thumbnails, list, delete their
// own uploads and try other tenants' IDs, against a real loopback server,
// for a bounded time. At the end: no 5xx, no cross-tenant answer but 404,
// every acknowledged upload that was not deleted intact and listed, every
// deleted one gone from the bucket, and the heap flat.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("a timed load run; skipped with -short")
	}
	t.Run("file+sqlite", func(t *testing.T) {
		// Opened by URL, as attachment.Open and examples/server open it.
		dir := t.TempDir()
		cs, err := storage.Open(context.Background(), "file://"+dir+"?create_dir=1&no_tmp_dir=1&metadata=skip")
		require.NoError(t, err)
		st, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "meta.db"), nil)
		require.NoError(t, err)
		runLoad(t, stores{bucket: cs.Bucket(), meta: st, content: cs}, dir, *loadDuration)
	})
	be := backends()[3]
	t.Run(be.name, func(t *testing.T) {
		if be.skip != "" {
			t.Skip(be.skip)
		}
		runLoad(t, be.open(t), "", *loadDuration/4)
	})
}

// loadImage is one of the images the workers upload.
type loadImage struct {
	name, contentType string
	data              []byte
	sha               [32]byte
}

func makeLoadImages(t *testing.T) []loadImage {
	var imgs []loadImage
	for _, sz := range [][2]int{{64, 48}, {320, 240}, {640, 400}} {
		img := image.NewRGBA(image.Rect(0, 0, sz[0], sz[1]))
		for y := 0; y < sz[1]; y++ {
			for x := 0; x < sz[0]; x++ {
				img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 3), uint8(x ^ y), 255})
			}
		}
		var pb, jb bytes.Buffer
		require.NoError(t, png.Encode(&pb, img))
		require.NoError(t, jpeg.Encode(&jb, img, &jpeg.Options{Quality: 85}))
		for _, li := range []loadImage{
			{name: fmt.Sprintf("photo-%dx%d.png", sz[0], sz[1]), contentType: "image/png", data: pb.Bytes()},
			{name: fmt.Sprintf("photo-%dx%d.jpg", sz[0], sz[1]), contentType: "image/jpeg", data: jb.Bytes()},
		} {
			li.sha = sha256.Sum256(li.data)
			imgs = append(imgs, li)
		}
	}
	return imgs
}

// loadFile is one upload a worker made: its content is either an image or
// genReader's stream for (size, state), so it is regenerated, not held.
type loadFile struct {
	name        string
	contentType string
	size        int64
	state       uint64
	img         *loadImage
	sha         [32]byte // kept small: the workers' records of every upload share the heap measured

	id      string
	deleted bool
}

func (f *loadFile) reader() io.Reader {
	if f.img != nil {
		return bytes.NewReader(f.img.data)
	}
	return &genReader{n: uint64(f.size), state: f.state}
}

// slice is the content from off, n bytes.
func (f *loadFile) slice(off, n int64) []byte {
	r := f.reader()
	if _, err := io.CopyN(io.Discard, r, off); err != nil {
		panic(err)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		panic(err)
	}
	return b
}

// loadRun is the state the workers share.
type loadRun struct {
	t      *testing.T
	base   string // server URL and mount prefix
	client *http.Client

	mu  sync.Mutex
	ids [loadTenants][]string // every acknowledged ID, per tenant

	failures atomic.Int64
	errMu    sync.Mutex
	errs     []string

	fiveXX       atomic.Int64
	crossTries   atomic.Int64
	crossNot404  atomic.Int64
	crossContent atomic.Int64
}

func (r *loadRun) fail(format string, args ...any) {
	r.failures.Add(1)
	r.errMu.Lock()
	defer r.errMu.Unlock()
	if len(r.errs) < 20 {
		r.errs = append(r.errs, fmt.Sprintf(format, args...))
	}
}

// loadWorker is one client: a user of one tenant.
type loadWorker struct {
	r      *loadRun
	n      int
	tenant int
	hdr    http.Header
	rng    *rand.Rand
	imgs   []loadImage
	files  []*loadFile
	lat    map[string][]time.Duration
	up     int64 // content bytes sent in acknowledged uploads
	down   int64 // content bytes received
	counts map[int]int
}

func loadTenant(k int) string { return fmt.Sprintf("t%d", k) }

func newLoadWorker(r *loadRun, n int, imgs []loadImage) *loadWorker {
	k := n % loadTenants
	h := http.Header{}
	h.Set("X-Tenant", loadTenant(k))
	h.Set("X-User", fmt.Sprintf("%s-u%d", loadTenant(k), n))
	return &loadWorker{r: r, n: n, tenant: k, hdr: h, rng: rand.New(rand.NewPCG(uint64(n), 0x10ad)),
		imgs: imgs, lat: map[string][]time.Duration{}, counts: map[int]int{}}
}

// do sends a request as the worker, counting 5xx. The caller closes the body.
func (w *loadWorker) do(method, url string, body io.Reader, size int64, hdr ...string) (*http.Response, error) {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.ContentLength = size // -1: unknown, sent chunked
	}
	for k, v := range w.hdr {
		req.Header[k] = v
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := w.r.client.Do(req)
	if err != nil {
		w.r.fail("worker %d: %s %s: %v", w.n, method, url, err)
		return nil, err
	}
	w.counts[resp.StatusCode]++
	if resp.StatusCode >= 500 {
		w.r.fiveXX.Add(1)
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		w.r.fail("worker %d: %s %s: %d %s", w.n, method, url, resp.StatusCode, b)
	}
	return resp, nil
}

func loadDrain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

// newFile picks content: a fifth are images, the rest 1 KiB to 1 MiB,
// log-uniform.
func (w *loadWorker) newFile() *loadFile {
	if w.rng.IntN(5) == 0 {
		img := &w.imgs[w.rng.IntN(len(w.imgs))]
		return &loadFile{name: img.name, contentType: img.contentType, size: int64(len(img.data)), img: img, sha: img.sha}
	}
	size := int64(1024 << w.rng.IntN(10))
	size += w.rng.Int64N(size + 1)
	size = min(size, 1<<20)
	f := &loadFile{name: fmt.Sprintf("doc-%d.bin", w.rng.IntN(1e6)), contentType: "application/octet-stream",
		size: size, state: w.rng.Uint64()}
	h := sha256.New()
	_, _ = io.Copy(h, f.reader())
	h.Sum(f.sha[:0])
	return f
}

// acknowledged checks a 201's records against what was sent and keeps them.
func (w *loadWorker) acknowledged(resp *http.Response, files []*loadFile) {
	var res struct{ Attachments []attachment.Attachment }
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		w.r.fail("worker %d: upload answer: %v", w.n, err)
		return
	}
	if len(res.Attachments) != len(files) {
		w.r.fail("worker %d: %d files uploaded, %d records", w.n, len(files), len(res.Attachments))
		return
	}
	for i, a := range res.Attachments {
		f := files[i]
		if a.Size != f.size || a.SHA256 != hex.EncodeToString(f.sha[:]) {
			w.r.fail("worker %d: upload %s: size %d sha %s, sent %d %x", w.n, a.ID, a.Size, a.SHA256, f.size, f.sha)
		}
		f.id = a.ID
		w.files = append(w.files, f)
		w.up += f.size
		w.r.mu.Lock()
		w.r.ids[w.tenant] = append(w.r.ids[w.tenant], a.ID)
		w.r.mu.Unlock()
	}
}

func (w *loadWorker) uploadRaw() {
	f := w.newFile()
	size := f.size
	if w.rng.IntN(2) == 0 {
		size = -1
	}
	resp, err := w.do("POST", w.r.base+"/?filename="+f.name, f.reader(), size, "Content-Type", f.contentType)
	if err != nil {
		return
	}
	defer loadDrain(resp)
	if resp.StatusCode != http.StatusCreated {
		w.r.fail("worker %d: raw upload of %d bytes: %d", w.n, f.size, resp.StatusCode)
		return
	}
	w.acknowledged(resp, []*loadFile{f})
}

func (w *loadWorker) uploadMultipart() {
	files := make([]*loadFile, 1+w.rng.IntN(3))
	for i := range files {
		files[i] = w.newFile()
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := func() error {
			for _, f := range files {
				part, err := mw.CreateFormFile("files", f.name)
				if err != nil {
					return err
				}
				if _, err := io.Copy(part, f.reader()); err != nil {
					return err
				}
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	resp, err := w.do("POST", w.r.base+"/", pr, -1, "Content-Type", mw.FormDataContentType())
	_ = pr.Close()
	<-done
	if err != nil {
		return
	}
	defer loadDrain(resp)
	if resp.StatusCode != http.StatusCreated {
		w.r.fail("worker %d: multipart upload of %d files: %d", w.n, len(files), resp.StatusCode)
		return
	}
	w.acknowledged(resp, files)
}

// live picks one of the worker's uploads that it has not deleted.
func (w *loadWorker) live(images bool) *loadFile {
	var fs []*loadFile
	for _, f := range w.files {
		if !f.deleted && (!images || f.img != nil) {
			fs = append(fs, f)
		}
	}
	if len(fs) == 0 {
		return nil
	}
	return fs[w.rng.IntN(len(fs))]
}

// downloadFull checks the content byte for byte (by its SHA-256).
func (w *loadWorker) downloadFull(f *loadFile) {
	resp, err := w.do("GET", w.r.base+"/"+f.id, nil, 0)
	if err != nil {
		return
	}
	defer loadDrain(resp)
	if resp.StatusCode != http.StatusOK {
		w.r.fail("worker %d: GET %s: %d", w.n, f.id, resp.StatusCode)
		return
	}
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	w.down += n
	if err != nil || n != f.size || !bytes.Equal(h.Sum(nil), f.sha[:]) {
		w.r.fail("worker %d: GET %s: %d bytes (err %v), not the %d uploaded", w.n, f.id, n, err, f.size)
	}
}

func (w *loadWorker) downloadRange(f *loadFile) {
	off := w.rng.Int64N(f.size)
	n := 1 + w.rng.Int64N(min(f.size-off, 64<<10))
	resp, err := w.do("GET", w.r.base+"/"+f.id, nil, 0, "Range", fmt.Sprintf("bytes=%d-%d", off, off+n-1))
	if err != nil {
		return
	}
	defer loadDrain(resp)
	if resp.StatusCode != http.StatusPartialContent {
		w.r.fail("worker %d: GET %s range: %d", w.n, f.id, resp.StatusCode)
		return
	}
	got, err := io.ReadAll(io.LimitReader(resp.Body, n+1))
	w.down += int64(len(got))
	if err != nil || !bytes.Equal(got, f.slice(off, n)) {
		w.r.fail("worker %d: GET %s bytes %d+%d: %d bytes (err %v), not the ones uploaded", w.n, f.id, off, n, len(got), err)
	}
}

// thumbnail: 200 and an image within 256 px for images, 204 otherwise.
func (w *loadWorker) thumbnail(f *loadFile) {
	resp, err := w.do("GET", w.r.base+"/"+f.id+"/thumbnail", nil, 0)
	if err != nil {
		return
	}
	defer loadDrain(resp)
	if f.img == nil {
		if resp.StatusCode != http.StatusNoContent {
			w.r.fail("worker %d: thumbnail of %s (not an image): %d", w.n, f.id, resp.StatusCode)
		}
		return
	}
	if resp.StatusCode != http.StatusOK {
		w.r.fail("worker %d: thumbnail of %s: %d", w.n, f.id, resp.StatusCode)
		return
	}
	b, err := io.ReadAll(resp.Body)
	w.down += int64(len(b))
	if err != nil {
		w.r.fail("worker %d: thumbnail of %s: %v", w.n, f.id, err)
		return
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil || max(cfg.Width, cfg.Height) > 256 || cfg.Width == 0 {
		w.r.fail("worker %d: thumbnail of %s: %dx%d, %v", w.n, f.id, cfg.Width, cfg.Height, err)
	}
}

// list reads the tenant's newest page: every record must be the tenant's.
func (w *loadWorker) list() {
	resp, err := w.do("GET", w.r.base+"/?limit=20", nil, 0)
	if err != nil {
		return
	}
	defer loadDrain(resp)
	if resp.StatusCode != http.StatusOK {
		w.r.fail("worker %d: list: %d", w.n, resp.StatusCode)
		return
	}
	var lb listBody
	if err := json.NewDecoder(resp.Body).Decode(&lb); err != nil {
		w.r.fail("worker %d: list: %v", w.n, err)
		return
	}
	for _, a := range lb.Data {
		if !strings.HasPrefix(a.CreatedBy, loadTenant(w.tenant)+"-") {
			w.r.crossContent.Add(1)
			w.r.fail("worker %d (tenant %d): listed %s, created by %s", w.n, w.tenant, a.ID, a.CreatedBy)
		}
	}
}

func (w *loadWorker) delete(f *loadFile) {
	resp, err := w.do("DELETE", w.r.base+"/"+f.id, nil, 0)
	if err != nil {
		return
	}
	loadDrain(resp)
	if resp.StatusCode != http.StatusOK {
		w.r.fail("worker %d: DELETE %s: %d", w.n, f.id, resp.StatusCode)
		return
	}
	f.deleted = true
	resp, err = w.do("GET", w.r.base+"/"+f.id, nil, 0)
	if err != nil {
		return
	}
	loadDrain(resp)
	if resp.StatusCode != http.StatusNotFound {
		w.r.fail("worker %d: GET %s after DELETE: %d", w.n, f.id, resp.StatusCode)
	}
}

// loadCrossRoutes are what a worker tries on another tenant's IDs.
var loadCrossRoutes = []struct{ method, suffix, body string }{
	{"GET", "", ""},
	{"HEAD", "", ""},
	{"GET", "/metadata", ""},
	{"GET", "/thumbnail", ""},
	{"GET", "/status", ""},
	{"PATCH", "", `{"filename":"pwned.txt"}`},
	{"DELETE", "", ""},
	{"DELETE", "?force=true", ""},
}

// cross tries another tenant's ID; it must be a 404 problem, every time.
func (w *loadWorker) cross() bool {
	other := (w.tenant + 1 + w.rng.IntN(loadTenants-1)) % loadTenants
	w.r.mu.Lock()
	ids := w.r.ids[other]
	var id string
	if len(ids) > 0 {
		id = ids[w.rng.IntN(len(ids))]
	}
	w.r.mu.Unlock()
	if id == "" {
		return false
	}
	rt := loadCrossRoutes[w.rng.IntN(len(loadCrossRoutes))]
	var body io.Reader
	if rt.body != "" {
		body = strings.NewReader(rt.body)
	}
	w.r.crossTries.Add(1)
	resp, err := w.do(rt.method, w.r.base+"/"+id+rt.suffix, body, int64(len(rt.body)), "Content-Type", "application/json")
	if err != nil {
		return true
	}
	defer loadDrain(resp)
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusNotFound {
		w.r.crossNot404.Add(1)
		if resp.StatusCode < 300 {
			w.r.crossContent.Add(1)
		}
		w.r.fail("worker %d (tenant %d): %s %s of tenant %d: %d", w.n, w.tenant, rt.method, id+rt.suffix, other, resp.StatusCode)
		return true
	}
	if rt.method != "HEAD" && (resp.Header.Get("Content-Type") != "application/problem+json" || !bytes.Contains(b, []byte(`"not_found"`))) {
		w.r.crossContent.Add(1)
		w.r.fail("worker %d: %s %s of tenant %d: 404 with %q %q", w.n, rt.method, id+rt.suffix, other, resp.Header.Get("Content-Type"), b)
	}
	return true
}

// step does one operation, picked at random, and records its latency.
func (w *loadWorker) step() {
	p := w.rng.IntN(100)
	kind := ""
	start := time.Now()
	switch f, img := w.live(false), w.live(true); {
	case p < 20 || f == nil:
		kind = "upload raw"
		w.uploadRaw()
	case p < 30:
		kind = "upload multipart"
		w.uploadMultipart()
	case p < 44:
		kind = "download"
		w.downloadFull(f)
	case p < 54:
		kind = "download range"
		w.downloadRange(f)
	case p < 64:
		kind = "thumbnail"
		if img != nil && w.rng.IntN(8) != 0 {
			f = img
		}
		w.thumbnail(f)
	case p < 70:
		kind = "list"
		w.list()
	case p < 78:
		kind = "delete"
		w.delete(f)
	default:
		kind = "cross-tenant"
		if !w.cross() {
			return
		}
	}
	w.lat[kind] = append(w.lat[kind], time.Since(start))
}

func runLoad(t *testing.T, st stores, dir string, d time.Duration) {
	bucket, meta := st.bucket, st.meta
	t.Cleanup(func() { bucket.Close(); meta.Close() })
	// Maintain runs throughout (below), with a grace short enough that
	// anything it wrongly took for an orphan would be an upload it broke.
	svc, err := attachment.New(st.contentStore(), meta, &attachment.Options{Maintenance: attachment.MaintenanceOptions{OrphanGrace: 10 * time.Second}})
	require.NoError(t, err)
	closed := false
	t.Cleanup(func() {
		if !closed {
			svc.Close()
		}
	})
	mux := http.NewServeMux()
	mux.Handle(loadPrefix+"/", attachment.NewHandler(svc, &attachment.HandlerOptions{Prefix: loadPrefix, Access: headerAccess()}))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 2 * loadWorkers
	r := &loadRun{t: t, base: srv.URL + loadPrefix, client: &http.Client{Transport: tr, Timeout: time.Minute}}
	defer tr.CloseIdleConnections()
	imgs := makeLoadImages(t)
	workers := make([]*loadWorker, loadWorkers)
	for i := range workers {
		workers[i] = newLoadWorker(r, i, imgs)
	}

	// The heap, every 250 ms while the workers run. Clients and server
	// share the process, so this is both; the clients hold no content.
	// The live heap (marked by the last GC) and the RSS (which SQLite's
	// page cache, outside the Go heap, counts in) are logged, not judged.
	var heap, liveHeap, rss []uint64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			select {
			case <-stopSampling:
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				heap = append(heap, ms.HeapInuse)
				metrics.Read(live)
				if live[0].Value.Kind() == metrics.KindUint64 {
					liveHeap = append(liveHeap, live[0].Value.Uint64())
				}
				if n := loadRSS(); n > 0 {
					rss = append(rss, n)
				}
			}
		}
	}()

	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	// The reconciler, over and over while the workers upload and delete:
	// it must find no record without its content, and fail nothing.
	var maint attachment.MaintenanceReport
	maintRuns := 0
	wg.Go(func() {
		for time.Now().Before(deadline) && r.failures.Load() < 100 {
			rep, err := svc.Maintain(context.Background())
			if err != nil {
				r.fail("Maintain during the load: %v", err)
				return
			}
			maintRuns++
			maint.ContentChecked += rep.ContentChecked
			maint.OrphanContent += rep.OrphanContent
			maint.OrphanDerivatives += rep.OrphanDerivatives
			maint.MissingContent += rep.MissingContent
			maint.Failed += rep.Failed
			if rep.MissingContent > 0 || rep.Failed > 0 {
				r.fail("Maintain during the load: %+v", rep)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	for _, w := range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) && r.failures.Load() < 100 {
				w.step()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stopSampling)
	<-sampled

	// Figures.
	lat := map[string][]time.Duration{}
	var up, down int64
	codes := map[int]int{}
	for _, w := range workers {
		for k, v := range w.lat {
			lat[k] = append(lat[k], v...)
		}
		up += w.up
		down += w.down
		for c, n := range w.counts {
			codes[c] += n
		}
	}
	t.Logf("%d workers over %d tenants for %v (%d CPUs)", loadWorkers, loadTenants, elapsed.Round(time.Millisecond), runtime.NumCPU())
	kinds := make([]string, 0, len(lat))
	for k := range lat {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	total := 0
	for _, k := range kinds {
		v := lat[k]
		slices.Sort(v)
		total += len(v)
		t.Logf("  %-17s %7d ops %8.1f ops/s   p50 %8v   p99 %8v", k, len(v), float64(len(v))/elapsed.Seconds(),
			v[len(v)/2].Round(10*time.Microsecond), v[len(v)*99/100].Round(10*time.Microsecond))
	}
	t.Logf("  all               %7d ops %8.1f ops/s", total, float64(total)/elapsed.Seconds())
	t.Logf("  content: %.1f MiB up (acknowledged), %.1f MiB down (%.1f MiB/s together)",
		float64(up)/(1<<20), float64(down)/(1<<20), float64(up+down)/(1<<20)/elapsed.Seconds())
	t.Logf("  status codes: %v; cross-tenant attempts: %d", codes, r.crossTries.Load())
	t.Logf("  Maintain alongside: %d runs, %d content files checked, %d orphan content and %d orphan derivatives removed, %d records without content, %d failures",
		maintRuns, maint.ContentChecked, maint.OrphanContent, maint.OrphanDerivatives, maint.MissingContent, maint.Failed)

	// The heap: the highest sample of the last third against the highest
	// of the first. Highs, because HeapInuse saws with every GC cycle; a
	// leak shows as the highs climbing.
	require.NotEmpty(t, heap)
	third := len(heap) / 3
	hmin, hmax := slices.Min(heap), slices.Max(heap)
	t.Logf("  heap in use: %d samples, min %.1f MiB, max %.1f MiB", len(heap), loadMiB(hmin), loadMiB(hmax))
	if len(liveHeap) > 0 {
		t.Logf("  live heap after GC: min %.1f MiB, max %.1f MiB, last %.1f MiB",
			loadMiB(slices.Min(liveHeap)), loadMiB(slices.Max(liveHeap)), loadMiB(liveHeap[len(liveHeap)-1]))
	}
	if len(rss) > 0 {
		t.Logf("  process RSS: min %.1f MiB, max %.1f MiB", loadMiB(slices.Min(rss)), loadMiB(slices.Max(rss)))
	}
	if third >= 8 {
		first, last := slices.Max(heap[:third]), slices.Max(heap[len(heap)-third:])
		t.Logf("  heap in use: max of the first third %.1f MiB, of the last third %.1f MiB", loadMiB(first), loadMiB(last))
		if last > first*3/2+16<<20 {
			r.fail("heap grew: max %.1f MiB in the first third of the run, %.1f MiB in the last", loadMiB(first), loadMiB(last))
		}
	} else {
		t.Logf("  heap: run too short (%d samples) to compare thirds", len(heap))
	}

	// After the run: every acknowledged upload not deleted downloads
	// byte for byte; every deleted one is a 404.
	var deleted, kept []*loadFile
	for _, w := range workers {
		for _, f := range w.files {
			if f.deleted {
				deleted = append(deleted, f)
			} else {
				kept = append(kept, f)
			}
		}
	}
	t.Logf("  after the run: %d uploads kept, %d deleted", len(kept), len(deleted))
	var vg sync.WaitGroup
	for _, w := range workers {
		vg.Go(func() {
			for _, f := range w.files {
				if !f.deleted {
					w.downloadFull(f)
					continue
				}
				resp, err := w.do("GET", r.base+"/"+f.id, nil, 0)
				if err != nil {
					continue
				}
				loadDrain(resp)
				if resp.StatusCode != http.StatusNotFound {
					r.fail("deleted %s: GET %d", f.id, resp.StatusCode)
				}
			}
		})
	}
	vg.Wait()

	// Each tenant's listing is exactly its kept uploads.
	for k := range loadTenants {
		want := map[string]bool{}
		for _, w := range workers {
			if w.tenant == k {
				for _, f := range w.files {
					if !f.deleted {
						want[f.id] = true
					}
				}
			}
		}
		got := loadListAll(t, r, workers[k])
		for id := range want {
			if !got[id] {
				r.fail("tenant %d: kept upload %s not listed", k, id)
			}
		}
		for id := range got {
			if !want[id] {
				r.fail("tenant %d: listed %s, not a kept upload of the tenant", k, id)
			}
		}
	}

	// Stop the workers (processing drains), then the bucket holds the
	// kept uploads' content and derivatives and nothing else.
	srv.Close()
	require.NoError(t, svc.Close())
	closed = true
	keep, deletedIDs := map[string]bool{}, map[string]bool{}
	for _, f := range kept {
		keep[f.id] = true
	}
	for _, f := range deleted {
		deletedIDs[f.id] = true
	}
	var stray []string
	it := bucket.List(nil)
	for {
		obj, err := it.Next(context.Background())
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		id, derived := strings.CutPrefix(obj.Key, "derived/")
		if derived {
			id, _, _ = strings.Cut(id, "/")
		} else {
			id = strings.TrimPrefix(obj.Key, "content/")
		}
		if !keep[id] {
			// Includes a thumbnail written by a job that had the content
			// open when the attachment was deleted: thumbnailer.make removes
			// it again once it sees the record gone.
			stray = append(stray, obj.Key)
			r.fail("bucket key %s is no kept upload's", obj.Key)
		}
	}
	for _, f := range kept {
		ok, err := bucket.Exists(context.Background(), storage.ContentKey(f.id))
		require.NoError(t, err)
		if !ok {
			r.fail("kept upload %s: content missing from the bucket", f.id)
		}
	}
	if dir != "" {
		// On disk too: no content file, and no file under derived/{id}/
		// (fileblob leaves empty directories behind, which hold nothing).
		for _, f := range deleted {
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(storage.ContentKey(f.id)))); !errors.Is(err, fs.ErrNotExist) {
				r.fail("deleted %s: content still on disk (%v)", f.id, err)
			}
			_ = filepath.WalkDir(filepath.Join(dir, filepath.FromSlash(storage.DerivativePrefix(f.id))), func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					key, _ := filepath.Rel(dir, p)
					r.fail("deleted %s: %s still on disk", f.id, key)
				}
				return nil
			})
		}
	}
	t.Logf("  bucket: %d stray keys", len(stray))

	for _, e := range r.errs {
		t.Error(e)
	}
	require.Zero(t, r.fiveXX.Load(), "5xx answers")
	require.Zero(t, r.crossNot404.Load(), "cross-tenant attempts answered other than 404")
	require.Zero(t, r.crossContent.Load(), "cross-tenant answers that carried content")
	require.Zero(t, r.failures.Load(), "failures (first ones above)")
}

// loadListAll pages through the worker's tenant's listing.
func loadListAll(t *testing.T, r *loadRun, w *loadWorker) map[string]bool {
	got := map[string]bool{}
	cursor := ""
	for {
		resp, err := w.do("GET", r.base+"/?limit=1000&cursor="+url.QueryEscape(cursor), nil, 0)
		require.NoError(t, err)
		var lb listBody
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&lb))
		loadDrain(resp)
		for _, a := range lb.Data {
			got[a.ID] = true
		}
		if !lb.HasMore {
			return got
		}
		cursor = lb.NextCursor
	}
}

func loadMiB(n uint64) float64 { return float64(n) / (1 << 20) }

// loadRSS is the process's resident set in bytes, from /proc (0 where
// there is none).
func loadRSS() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}
