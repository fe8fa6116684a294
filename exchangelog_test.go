package attachment_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// exchangesEnv names a folder: when it is set, every exchange with a
// handler of the shared test environment (newEnv) is appended to a JSON
// lines file there, one file per test binary run, for internal/e2e's
// TestRootExchanges to check against the OpenAPI document (this module
// cannot import the validator). Unset, nothing is recorded.
const exchangesEnv = "ATTACHMENT_TEST_EXCHANGES"

// Caps on what is recorded. A request body is recorded when its length is
// known and at most maxLoggedRequestBody; a JSON response body (the only
// kind the validator reads) up to maxLoggedResponseBody, the validator's
// own cap, beyond which it is flagged.
const (
	maxLoggedRequestBody  = 4 << 20
	maxLoggedResponseBody = 32 << 20
)

// loggedExchange is one line of the file. Bodies are base64 (as []byte).
type loggedExchange struct {
	Test          string      `json:"test"`
	Prefix        string      `json:"prefix"`
	Method        string      `json:"method"`
	URI           string      `json:"uri"`
	Header        http.Header `json:"header"`
	ContentLength int64       `json:"content_length"`
	// Body is the request body; BodyRecorded is false when it was not
	// (unknown length, over the cap, or unreadable).
	Body         []byte `json:"body,omitempty"`
	BodyRecorded bool   `json:"body_recorded"`

	Status         int         `json:"status"`
	ResponseHeader http.Header `json:"response_header"`
	// ResponseBody is a JSON response body; ResponseTruncated is set when
	// it was longer than the cap.
	ResponseBody      []byte `json:"response_body,omitempty"`
	ResponseTruncated bool   `json:"response_truncated,omitempty"`
}

// recordExchanges returns h, or, when $ATTACHMENT_TEST_EXCHANGES is set, h
// recording each exchange as made by test t with h mounted at prefix.
func recordExchanges(t testing.TB, prefix string, h http.Handler) http.Handler {
	dir := os.Getenv(exchangesEnv)
	if dir == "" {
		return h
	}
	file := filepath.Join(dir, fmt.Sprintf("exchanges-%d.jsonl", os.Getpid()))
	test := t.Name() // not asked later: the test may be over by then
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ex := loggedExchange{
			Test: test, Prefix: prefix, Method: r.Method, URI: r.URL.RequestURI(),
			Header: r.Header.Clone(), ContentLength: r.ContentLength,
		}
		var tee *teeBody
		switch {
		case r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0:
			ex.BodyRecorded = true
		case r.ContentLength > 0 && r.ContentLength <= maxLoggedRequestBody:
			// Kept as the handler reads it, never read ahead: tests check
			// what the handler leaves unread.
			tee = &teeBody{ReadCloser: r.Body, want: r.ContentLength}
			r2 := *r
			r2.Body = tee
			r = &r2
		}
		lw := &logWriter{ResponseWriter: w, capture: r.Method != http.MethodHead}
		h.ServeHTTP(lw, r)
		ex.Status, ex.ResponseHeader, ex.ResponseBody, ex.ResponseTruncated = lw.result()
		if tee != nil {
			ex.Body, ex.BodyRecorded = tee.result()
		}
		line, err := json.Marshal(ex)
		if err == nil {
			err = appendLine(file, line)
		}
		if err != nil {
			// Not t.Errorf: the test may be over. TestRootExchanges looks
			// for this in the output.
			fmt.Fprintf(os.Stderr, "exchange recording failed: %v\n", err)
		}
	})
}

// appendLine appends line and a newline to file in one write.
func appendLine(file string, line []byte) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(append(line, '\n'))
	return errors.Join(err, f.Close())
}

// teeBody keeps what the handler reads of a request body of known
// length.
type teeBody struct {
	io.ReadCloser
	want int64

	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.mu.Lock()
	b.buf.Write(p[:n])
	b.mu.Unlock()
	return n, err
}

// result returns the body, and whether the handler read all of it.
func (b *teeBody) result() ([]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if int64(b.buf.Len()) != b.want {
		return nil, false
	}
	return bytes.Clone(b.buf.Bytes()), true
}

// logWriter passes a response through and keeps its status, its headers
// as written, and (when capture is set) a JSON body up to the cap.
type logWriter struct {
	http.ResponseWriter
	capture bool

	mu        sync.Mutex
	status    int
	header    http.Header
	body      bytes.Buffer
	truncated bool
}

func (l *logWriter) WriteHeader(status int) {
	l.mu.Lock()
	if l.status == 0 && status >= 200 {
		l.status, l.header = status, l.ResponseWriter.Header().Clone()
	}
	l.mu.Unlock()
	l.ResponseWriter.WriteHeader(status)
}

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	if l.status == 0 {
		l.status, l.header = http.StatusOK, l.ResponseWriter.Header().Clone()
	}
	if l.capture && isJSON(l.header.Get("Content-Type")) {
		room := maxLoggedResponseBody - l.body.Len()
		if len(p) > room {
			l.truncated = true
			l.body.Write(p[:room])
		} else {
			l.body.Write(p)
		}
	}
	l.mu.Unlock()
	return l.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (l *logWriter) Unwrap() http.ResponseWriter { return l.ResponseWriter }

// Flush passes a flush on, when the underlying writer can.
func (l *logWriter) Flush() {
	if f, ok := l.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (l *logWriter) result() (int, http.Header, []byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.status == 0 {
		return http.StatusOK, l.ResponseWriter.Header().Clone(), nil, false
	}
	return l.status, l.header, bytes.Clone(l.body.Bytes()), l.truncated
}

func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}
