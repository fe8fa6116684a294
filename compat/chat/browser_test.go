package chat_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/compat/chat"
	"github.com/attachkit/attachment/internal/compattest"
)

// findChromium returns a Chromium or Chrome binary: $ATTACHMENT_TEST_CHROMIUM,
// /usr/bin/chromium, or one on the PATH; the test skips without one.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ATTACHMENT_TEST_CHROMIUM"); p != "" {
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
	t.Skip("no Chromium (apt-get install chromium, or set ATTACHMENT_TEST_CHROMIUM): the byte-exact FormData of TestDocExamples still runs")
	return ""
}

// seen is one request the test server received, with its answer's status.
type seen struct {
	method, path                           string
	contentType, cookie, fetchSite, origin string
	status                                 int
	body                                   []byte // of a POST
}

// recorder keeps what the browser sent.
type recorder struct {
	mu   sync.Mutex
	reqs []seen
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
	w.ResponseWriter.WriteHeader(s)
}
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (rc *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		var body bytes.Buffer
		if r.Method == http.MethodPost {
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.TeeReader(r.Body, &body), r.Body}
		}
		h.ServeHTTP(sw, r)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.reqs = append(rc.reqs, seen{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Cookie"),
			r.Header.Get("Sec-Fetch-Site"), r.Header.Get("Origin"), sw.status, body.Bytes()})
	})
}

func (rc *recorder) find(method, pathPrefix string) []seen {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []seen
	for _, s := range rc.reqs {
		if s.method == method && strings.HasPrefix(s.path, pathPrefix) {
			out = append(out, s)
		}
	}
	return out
}

// chatPage runs the document's fetch() with FormData, then reads the
// metadata, downloads by `${attachmentId}/${fileName}` as a template
// literal builds the URL, deletes, and last posts the same FormData to
// another site (crossURL). It writes what it saw into #out.
const chatPage = `<!doctype html><meta charset="utf-8"><title>chat</title><pre id="out">pending</pre>
<script>
(async () => {
  const out = {};
  try {
    out.cookieVisible = document.cookie.includes("session=");
    const pdf = Uint8Array.from(atob("%s"), c => c.charCodeAt(0));
    const files = [new File([pdf], "Document.pdf", {type: "application/pdf"}), new File(["h\u00e9llo\n"], "notes \u00e9t\u00e9.txt")];
    const messageId = 1234567;

    const formData = new FormData();
    files.forEach(file => {
        formData.append("files", file);
    });
    const up = await fetch(` + "`/api/v1/messages/${messageId}/attachments`" + `, {
        method: "POST",
        body: formData
    });
    out.uploadStatus = up.status;
    out.upload = await up.json();

    const { attachmentId } = out.upload.attachments[1];
    const meta = await fetch(` + "`/api/v1/attachments/${attachmentId}`" + `);
    out.meta = await meta.json();
    const attachmentFileName = out.meta.fileName;
    const dl = await fetch(` + "`/api/v1/attachments/${attachmentId}/${attachmentFileName}`" + `);
    out.downloadStatus = dl.status;
    out.disposition = dl.headers.get("Content-Disposition");
    out.download = await dl.text();
    const del = await fetch(` + "`/api/v1/attachments/${attachmentId}`" + `, { method: "DELETE" });
    out.deleteStatus = del.status;
    out.delete = await del.json();
    const gone = await fetch(` + "`/api/v1/attachments/${attachmentId}`" + `);
    out.gone = await gone.json();

    try {
      await fetch("%s/api/v1/messages/1/attachments", { method: "POST", body: formData, mode: "no-cors", credentials: "include" });
      out.crossSent = true;
    } catch (e) {
      out.crossError = String(e);
    }
  } catch (e) {
    out.error = String(e);
  }
  document.getElementById("out").textContent = JSON.stringify(out);
})();
</script>`

// TestBrowserFormData runs the document's fetch() example in headless
// Chromium: a real FormData upload with the HTTP-only session cookie the
// page's own response set, the metadata, the download by a URL built from
// the name, the delete, and a post from the page to another site, which
// the host's cross-origin protection refuses.
func TestBrowserFormData(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	bin := findChromium(t)
	e := newEnv(t, compattest.Backends()[0], nil)
	var rc recorder
	mux := http.NewServeMux()
	mux.Handle("/", e.Mux)
	srv := httptest.NewServer(rc.wrap(mux))
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	// Another site: the same server under another host name.
	other := "http://localhost:" + u.Port()
	mux.HandleFunc("GET /chat", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: chat.CookieName, Value: compattest.Token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, chatPage, base64.StdEncoding.EncodeToString(compattest.PDF), other)
	})

	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--user-data-dir="+t.TempDir(), "--virtual-time-budget=20000", "--dump-dom", srv.URL+"/chat")
	dom, err := cmd.Output()
	require.NoError(t, err, "chromium: %s", dom)
	m := regexp.MustCompile(`(?s)<pre id="out">(.*?)</pre>`).FindSubmatch(dom)
	require.NotNil(t, m, "no #out in %s", dom)
	var out struct {
		CookieVisible  bool
		UploadStatus   int
		Upload         chat.UploadAnswer
		Meta           map[string]any
		DownloadStatus int
		Disposition    string
		Download       string
		DeleteStatus   int
		Delete         map[string]any
		Gone           chat.ErrorBody
		CrossSent      bool
		CrossError     string
		Error          string
	}
	require.NoError(t, json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &out), "%s", m[1])
	require.Empty(t, out.Error)
	assert.False(t, out.CookieVisible, "the session cookie is HTTP-only")

	// The upload: Chromium's own multipart, with the cookie, same-origin.
	ups := rc.find(http.MethodPost, "/api/v1/messages/1234567/")
	require.Len(t, ups, 1)
	assert.Regexp(t, `^multipart/form-data; boundary=----WebKitFormBoundary[0-9A-Za-z]{16}$`, ups[0].contentType)
	assert.Equal(t, sessionCookie, ups[0].cookie)
	assert.Equal(t, "same-origin", ups[0].fetchSite)
	// ... byte for byte the body browserForm builds for TestDocExamples
	// and the other tests, but for the random boundary.
	mine, _ := newBrowserForm().
		file("files", "Document.pdf", "application/pdf", compattest.PDF).
		file("files", "notes été.txt", "", []byte("héllo\n")).body()
	theirs := strings.TrimPrefix(ups[0].contentType, "multipart/form-data; boundary=")
	assert.Equal(t, mine.String(), strings.ReplaceAll(string(ups[0].body), theirs, newBrowserForm().boundary))
	require.Equal(t, 200, out.UploadStatus)
	require.Len(t, out.Upload.Attachments, 2)
	pdf, notes := out.Upload.Attachments[0], out.Upload.Attachments[1]
	assert.Equal(t, "Document.pdf", pdf.FileName)
	assert.Equal(t, sum(compattest.PDF), pdf.FileChecksum)
	assert.Equal(t, "notes été.txt", notes.FileName)
	assert.Equal(t, sum([]byte("héllo\n")), notes.FileChecksum)
	assert.Equal(t, chat.ID("1234567"), notes.TextMessageID)

	// The metadata, the download by name (the browser escaped it), the delete.
	requireDocShape(t, out.Meta, notes, nil, float64(1234567))
	assert.Equal(t, 200, out.DownloadStatus)
	assert.Equal(t, "héllo\n", out.Download)
	assert.Contains(t, out.Disposition, "attachment;")
	dls := rc.find(http.MethodGet, "/api/v1/attachments/"+notes.AttachmentID+"/")
	require.Len(t, dls, 1)
	assert.Equal(t, "/api/v1/attachments/"+notes.AttachmentID+"/notes été.txt", dls[0].path)
	assert.Equal(t, 200, out.DeleteStatus)
	assert.Equal(t, map[string]any{"httpStatusCode": float64(200)}, out.Delete)
	assert.Equal(t, 404, out.Gone.HTTPStatusCode)

	// The post to another site left the browser marked cross-site and
	// was refused before anything was read or stored.
	assert.True(t, out.CrossSent, out.CrossError)
	cross := rc.find(http.MethodPost, "/api/v1/messages/1/")
	require.Len(t, cross, 1)
	assert.Equal(t, "cross-site", cross[0].fetchSite)
	assert.Equal(t, srv.URL, cross[0].origin)
	assert.Equal(t, http.StatusForbidden, cross[0].status)
	records, _ := e.Count()
	assert.Equal(t, 1, records, "only Document.pdf is left")
}
