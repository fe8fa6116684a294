package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/internal/e2e/openapitest"
)

// exchangesEnv is the variable that makes the root package's shared test
// environment (helpers_test.go's newEnv) record its exchanges.
const exchangesEnv = "ATTACHMENT_TEST_EXCHANGES"

// rootExchange is one recorded exchange, as exchangelog_test.go in the
// root package writes it.
type rootExchange struct {
	Test          string      `json:"test"`
	Prefix        string      `json:"prefix"`
	Method        string      `json:"method"`
	URI           string      `json:"uri"`
	Header        http.Header `json:"header"`
	ContentLength int64       `json:"content_length"`
	Body          []byte      `json:"body"`
	BodyRecorded  bool        `json:"body_recorded"`

	Status            int         `json:"status"`
	ResponseHeader    http.Header `json:"response_header"`
	ResponseBody      []byte      `json:"response_body"`
	ResponseTruncated bool        `json:"response_truncated"`
}

// replayAction is what a replayRule does to the exchanges it matches.
type replayAction int

const (
	// skipExchange leaves the exchange out: counted, not validated.
	skipExchange replayAction = iota
	// withoutBody validates the exchange without its request body
	// (parameters, headers and the response are still checked).
	withoutBody
	// asJSON validates the exchange with Content-Type: application/json
	// added to the request.
	asJSON
)

// replayRule is an explicit exception for root exchanges the document
// cannot describe, or that root tests send on purpose outside it. Each
// rule must match some exchange, so that none outlives its reason.
type replayRule struct {
	test   string // the root test (and its subtests) it covers; "" is any
	why    string
	action replayAction
	match  func(ex *rootExchange) bool
}

// replayRules are the exceptions. Keep them narrow: a rule is a hole in
// the validation.
var replayRules = []replayRule{
	{
		why: "{prefix}/uploads is HandlerOptions.Uploads'; the document describes the resumable layer's " +
			"answers there (TestOpenAPIResumableUploads checks them), but the root tests that reach it " +
			"mount stub layers, which answer otherwise",
		action: skipExchange,
		match: func(ex *rootExchange) bool {
			path, _, _ := strings.Cut(ex.URI, "?")
			return path == ex.Prefix+"/uploads" || strings.HasPrefix(path, ex.Prefix+"/uploads/")
		},
	},
	{
		why: "the handler reads a body without a Content-Type as JSON (decodeJSON in handler_records.go), " +
			"which OpenAPI 3.0 cannot say; such bodies are validated as the JSON the handler takes them for",
		action: asJSON,
		match: func(ex *rootExchange) bool {
			return ex.Header.Get("Content-Type") == "" && len(ex.Body) > 0 && !isUpload(ex)
		},
	},
	{
		why: "an empty file is an empty raw upload, which kin-openapi takes for a missing (required) body; " +
			"its parameters and answer are still validated",
		action: withoutBody,
		match: func(ex *rootExchange) bool {
			return isUpload(ex) && ex.BodyRecorded && len(ex.Body) == 0 && ex.Status == http.StatusCreated
		},
	},
	{
		test: "TestSignedURLTTL",
		why: "ttl is an integer with no upper bound in the document (cut to the host's maximum); " +
			"kin-openapi refuses integers beyond int64, which the test sends on purpose",
		action: skipExchange,
		match: func(ex *rootExchange) bool {
			return strings.Contains(ex.URI, "ttl=99999999999999999999999")
		},
	},
	{
		test: "TestSignedURLDisabled",
		why: "without a Signer the signed-url route does not exist, so every method is a 404; " +
			"the document, written for a handler with one, has a 405 for GET",
		action: skipExchange,
		match: func(ex *rootExchange) bool {
			return ex.Method == http.MethodGet && strings.HasSuffix(ex.URI, "/signed-url") && ex.Status == http.StatusNotFound
		},
	},
}

// isUpload reports whether ex is a POST to the collection (an upload).
func isUpload(ex *rootExchange) bool {
	path, _, _ := strings.Cut(ex.URI, "?")
	return ex.Method == http.MethodPost && path == ex.Prefix+"/"
}

// ruleFor returns the index of the first rule that covers ex, or -1.
func ruleFor(ex *rootExchange) int {
	for i, r := range replayRules {
		if r.test != "" && ex.Test != r.test && !strings.HasPrefix(ex.Test, r.test+"/") {
			continue
		}
		if r.match(ex) {
			return i
		}
	}
	return -1
}

// TestRootExchanges runs the root package's tests (go test -count=1 -run .
// in the repository root) with $ATTACHMENT_TEST_EXCHANGES set, so that the
// shared test environment (newEnv) records every exchange its handler
// has, and then replays each one through an openapitest.Validator: a
// handler that answers with the recorded response, served the recorded
// request. Every request and response is checked as the Validator checks
// live ones (a request the document calls invalid must be refused with a
// 4xx and a valid problem); a mismatch fails, naming the root test.
//
// What is not recorded is not checked: request bodies of unknown length,
// over 4 MiB, or not read whole by the handler (refused unread) are left
// out, and the request's parameters and headers are still validated;
// binary response bodies are never recorded (as the Validator never reads
// them). Exchanges of handlers a root test builds itself, not through
// newEnv, are not recorded at all.
func TestRootExchanges(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the root package's tests; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH to run the root package's tests: %v", err)
	}
	dir := t.TempDir()
	cmd := exec.Command(goBin, "test", "-count=1", "-run", ".", ".")
	cmd.Dir = filepath.Join("..", "..") // the repository's root module
	cmd.Env = append(os.Environ(), exchangesEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go test in the root module with %s set:\n%s", exchangesEnv, tail(out, 8000))
	require.NotContains(t, string(out), "exchange recording failed")

	exchanges := readRootExchanges(t, dir)
	require.NotEmpty(t, exchanges, "the root tests recorded no exchange")

	rt := &replayTB{TB: t}
	var cur *rootExchange
	replay := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range cur.ResponseHeader {
			w.Header()[k] = v
		}
		w.WriteHeader(cur.Status)
		_, _ = w.Write(cur.ResponseBody)
	})
	validators := map[string]*openapitest.Validator{}
	var (
		validated, noBody int
		ruled             = make([]int, len(replayRules))
		tests             = map[string]bool{}
	)
	for i := range exchanges {
		ex := &exchanges[i]
		tests[ex.Test] = true
		action := replayAction(-1)
		if k := ruleFor(ex); k >= 0 {
			ruled[k]++
			action = replayRules[k].action
		}
		if action == skipExchange {
			continue
		}
		v := validators[ex.Prefix]
		if v == nil {
			v = openapitest.New(rt, replay, ex.Prefix)
			validators[ex.Prefix] = v
		}
		req, err := http.NewRequestWithContext(context.Background(), ex.Method, "http://example.com"+ex.URI, nil)
		if err != nil {
			t.Errorf("%s: %s %s: cannot replay the request: %v", ex.Test, ex.Method, ex.URI, err)
			continue
		}
		req.Header = ex.Header.Clone()
		if action == asJSON {
			req.Header.Set("Content-Type", "application/json")
		}
		switch {
		case ex.BodyRecorded && action != withoutBody && len(ex.Body) > 0:
			req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(ex.Body)), int64(len(ex.Body))
		case ex.BodyRecorded && action != withoutBody:
			req.Body, req.ContentLength = http.NoBody, 0
		default:
			// A body the recording left out (or a rule does): declared
			// longer than the Validator buffers, which it then passes on
			// unvalidated, checking the request's parameters and headers.
			noBody++
			req.Body, req.ContentLength = io.NopCloser(strings.NewReader("")), openapitest.MaxRequestBody+1
		}
		if ex.ResponseTruncated {
			t.Errorf("%s: %s %s -> %d: the JSON body is longer than the recording keeps and was not validated", ex.Test, ex.Method, ex.URI, ex.Status)
		}
		cur, rt.test = ex, ex.Test
		v.ServeHTTP(httptest.NewRecorder(), req)
		validated++
	}
	rejected := 0
	for _, v := range validators {
		rejected += v.Rejected()
	}
	t.Logf("%d exchanges recorded by %d root tests: %d validated (%d of them refused as invalid by the document, %d without their request body), %d skipped",
		len(exchanges), len(tests), validated, rejected, noBody, len(exchanges)-validated)
	for k, r := range replayRules {
		t.Logf("rule %d (%s): %d exchanges: %s", k, cmpOr(r.test, "any test"), ruled[k], r.why)
		assert.Positive(t, ruled[k], "rule %d (%s) matches no exchange: remove it", k, r.why)
	}
}

// readRootExchanges reads every recorded exchange in dir, ordered by
// test (each test's in the order it made them).
func readRootExchanges(t *testing.T, dir string) []rootExchange {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	require.NoError(t, err)
	var all []rootExchange
	for _, file := range files {
		f, err := os.Open(file)
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 256<<20)
		for sc.Scan() {
			var ex rootExchange
			require.NoError(t, json.Unmarshal(sc.Bytes(), &ex), "%s", file)
			all = append(all, ex)
		}
		require.NoError(t, sc.Err(), "%s", file)
		require.NoError(t, f.Close())
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Test < all[j].Test })
	return all
}

// replayTB prefixes the Validator's reports with the root test that made
// the exchange.
type replayTB struct {
	testing.TB
	test string
}

func (r *replayTB) Errorf(format string, args ...any) {
	r.TB.Helper()
	r.TB.Errorf("%s: "+format, append([]any{r.test}, args...)...)
}

// tail is the end of a command's output, for messages.
func tail(b []byte, n int) string {
	if len(b) > n {
		return "…" + string(b[len(b)-n:])
	}
	return string(b)
}
