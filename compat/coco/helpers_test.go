package coco_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "gocloud.dev/blob/fileblob" // compattest opens file:// buckets

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/compat/coco"
	"github.com/attachkit/attachment/internal/compattest"
)

// tok is the header pair of the credential the environments accept.
var tok = []string{coco.TokenHeader, compattest.Token}

// env is a compattest environment with the Coco routes mounted at
// coco.BasePath.
type env struct {
	*compattest.Env
	coco *coco.Handler
}

// newEnv opens a backend with the Coco routes at coco.BasePath, behind
// the token access hook. o may be nil.
func newEnv(t *testing.T, be compattest.Backend, o *compattest.Options) *env {
	t.Helper()
	if o == nil {
		o = &compattest.Options{}
	}
	o.Credential = coco.Token
	e := compattest.NewEnv(t, be, o)
	h := coco.New(e.Handler, &coco.Options{Prefix: coco.BasePath})
	e.Mount(coco.BasePath, h)
	return &env{Env: e, coco: h}
}

// forBackends runs f as a subtest on every backend.
func forBackends(t *testing.T, f func(t *testing.T, be compattest.Backend)) {
	for _, be := range compattest.Backends() {
		t.Run(be.Name, func(t *testing.T) { f(t, be) })
	}
}

// upload posts parts to /_upload (with the credential and query q) and
// returns the IDs of the answer, which must be a 200.
func (e *env) upload(t *testing.T, q string, parts ...compattest.Part) []string {
	t.Helper()
	body, ct := compattest.Multipart(t, parts...)
	rec := e.Do("POST", coco.BasePath+"/_upload"+q, body, append([]string{"Content-Type", ct}, tok...)...)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var res struct {
		Acknowledged bool     `json:"acknowledged"`
		Attachments  []string `json:"attachments"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &res))
	require.True(t, res.Acknowledged)
	return res.Attachments
}

// file is a "files" part.
func file(name string, content []byte) compattest.Part {
	return compattest.Part{Field: "files", Filename: name, Content: content}
}

// field is a text part.
func field(name, value string) compattest.Part {
	return compattest.Part{Field: name, Content: []byte(value)}
}

// object decodes a JSON object answer and checks that it has exactly the
// keys given.
func object(t *testing.T, b []byte, keys ...string) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), string(b))
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	require.ElementsMatch(t, keys, got, string(b))
	return m
}

// sub returns the object at key of m, checking its keys.
func sub(t *testing.T, m map[string]any, key string, keys ...string) map[string]any {
	t.Helper()
	v, ok := m[key].(map[string]any)
	require.True(t, ok, "%s is not an object: %#v", key, m[key])
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return object(t, b, keys...)
}

// requireError checks an error answer: the status, Coco's error body with
// the code as its type, and a reason.
func requireError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) map[string]any {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
	assert.Equal(t, float64(status), m["status"])
	e, ok := m["error"].(map[string]any)
	require.True(t, ok, rec.Body.String())
	assert.Equal(t, code, e["type"])
	reason, _ := e["reason"].(string)
	assert.NotEmpty(t, reason)
	rc, ok := e["root_cause"].([]any)
	require.True(t, ok, rec.Body.String())
	require.Len(t, rc, 1)
	assert.Equal(t, map[string]any{"type": code, "reason": reason}, rc[0])
	return m
}

// requireTime checks that v is an RFC 3339 time equal to want.
func requireTime(t *testing.T, want time.Time, v any) {
	t.Helper()
	s, ok := v.(string)
	require.True(t, ok, "%#v is not a string", v)
	got, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	require.True(t, want.Equal(got), "%s, want %s", got, want)
	require.True(t, strings.HasSuffix(s, "Z"), s)
}

// statusBody is a POST /_status body of ids.
func statusBody(t *testing.T, ids ...string) io.Reader {
	t.Helper()
	b, err := json.Marshal(map[string][]string{"attachments": ids})
	require.NoError(t, err)
	return bytes.NewReader(b)
}

// get returns the record of id from the Service.
func (e *env) get(t *testing.T, id string) *attachment.Attachment {
	t.Helper()
	a, err := e.Service.Get(t.Context(), id)
	require.NoError(t, err)
	return a
}
