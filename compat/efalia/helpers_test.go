package efalia_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "gocloud.dev/blob/fileblob" // compattest's file:// backend

	"github.com/attachkit/attachment/compat/efalia"
	"github.com/attachkit/attachment/internal/compattest"
)

// bearer is the credential most tests send.
var bearer = []string{"Authorization", "Bearer " + compattest.Token}

// newEnv is an Env whose access hook wants compattest.Token the Efalia
// way, with the dialect at BasePath.
func newEnv(t *testing.T, be compattest.Backend, o *compattest.Options) *compattest.Env {
	t.Helper()
	if o == nil {
		o = &compattest.Options{}
	}
	if o.Credential == nil && (o.Handler == nil || o.Handler.Access == nil) {
		o.Credential = efalia.Token
	}
	env := compattest.NewEnv(t, be, o)
	env.Mount(efalia.BasePath, efalia.New(env.Handler, &efalia.Options{Prefix: efalia.BasePath}))
	return env
}

// eachBackend runs f on every backend.
func eachBackend(t *testing.T, f func(t *testing.T, be compattest.Backend)) {
	for _, be := range compattest.Backends() {
		t.Run(be.Name, func(t *testing.T) { f(t, be) })
	}
}

// with appends the bearer credential to header pairs.
func with(hdr ...string) []string { return append(append([]string(nil), bearer...), hdr...) }

// decodeObject decodes a JSON object answer, keeping numbers as
// json.Number so that integers can be told from other numbers.
func decodeObject(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"), rec.Body.String())
	dec := json.NewDecoder(rec.Body)
	dec.UseNumber()
	var m map[string]any
	require.NoError(t, dec.Decode(&m))
	return m
}

// requireInt asserts v is a JSON integer and returns it.
func requireInt(t *testing.T, v any, what string) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	require.True(t, ok, "%s is %T, not a number", what, v)
	i, err := n.Int64()
	require.NoError(t, err, "%s is not an integer", what)
	return i
}

// requireMetadata checks a body against the document's AttachmentMetadata
// schema, every field present with its type (actor a WorkeyObject or
// null), and returns it decoded.
func requireMetadata(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	m := decodeObject(t, rec)
	assert.ElementsMatch(t, []string{"date", "actor", "fileName", "size", "id", "type", "url", "thumbnail"}, keys(m))
	date, ok := m["date"].(string)
	require.True(t, ok, "date is %T", m["date"])
	when, err := time.Parse(time.RFC3339Nano, date)
	require.NoError(t, err, "date %q is not an RFC 3339 date-time", date)
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, date)
	assert.WithinDuration(t, time.Now(), when, time.Hour)
	for _, k := range []string{"fileName", "id", "type", "url"} {
		assert.IsType(t, "", m[k], k)
	}
	assert.GreaterOrEqual(t, requireInt(t, m["size"], "size"), int64(0))
	assert.IsType(t, true, m["thumbnail"], "thumbnail")
	id, _ := m["id"].(string)
	u, err := uuid.Parse(id)
	require.NoError(t, err)
	assert.Equal(t, u.String(), id, "id in canonical form")
	if m["actor"] != nil {
		actor, ok := m["actor"].(map[string]any)
		require.True(t, ok, "actor is %T", m["actor"])
		assert.ElementsMatch(t, []string{"id", "name", "label", "description"}, keys(actor))
		assert.IsType(t, "", actor["name"])
		assert.Nil(t, actor["id"])
		assert.Nil(t, actor["label"])
		assert.Nil(t, actor["description"])
	}
	return m
}

// requireMessage checks a RestMessage answer: the status, every field of
// the schema present with its type, code equal to the status, and error
// as expected.
func requireMessage(t *testing.T, rec *httptest.ResponseRecorder, status int) map[string]any {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	m := decodeObject(t, rec)
	assert.ElementsMatch(t, []string{"code", "error", "message", "cause"}, keys(m))
	assert.Equal(t, int64(status), requireInt(t, m["code"], "code"))
	assert.Equal(t, status >= 400, m["error"])
	msg, ok := m["message"].(string)
	assert.True(t, ok && msg != "", "message is %#v", m["message"])
	assert.Nil(t, m["cause"])
	return m
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// upload sends a raw body through the dialect and returns its metadata.
func upload(t *testing.T, env *compattest.Env, name string, body []byte) map[string]any {
	t.Helper()
	rec := env.Do(http.MethodPost, efalia.BasePath+"/field-1?filename="+name, bytes.NewReader(body), with("Content-Type", "application/octet-stream")...)
	return requireMetadata(t, rec)
}
