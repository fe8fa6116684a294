package protocol_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	_ "gocloud.dev/blob/fileblob" // compattest's file+sqlite backend opens a file:// bucket

	"github.com/attachkit/attachment/compat/protocol"
	"github.com/attachkit/attachment/internal/compattest"
)

// conversation is the conversation ID of the Protocol document's examples.
const conversation = "xgQQXg3hrtjh7AvZ"

// auth is the header pair a Protocol client sends.
var auth = []string{"Authorization", "Bearer " + compattest.Token}

// eachBackend runs f on every backend, with the dialect mounted at its
// BasePath beside the native API and the token required.
func eachBackend(t *testing.T, o *compattest.Options, f func(t *testing.T, e *compattest.Env)) {
	for _, be := range compattest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			f(t, newEnv(t, be, o))
		})
	}
}

// newEnv opens be with the dialect at protocol.BasePath.
func newEnv(t *testing.T, be compattest.Backend, o *compattest.Options) *compattest.Env {
	var opts compattest.Options
	if o != nil {
		opts = *o
	}
	opts.Credential = protocol.Token
	e := compattest.NewEnv(t, be, &opts)
	e.Mount(protocol.BasePath, protocol.New(e.Handler, &protocol.Options{Prefix: protocol.BasePath}))
	return e
}

// create uploads one file through the dialect as curl -F file=@name does,
// with the text fields given as name, value pairs first, and returns the
// model answered.
func create(t *testing.T, e *compattest.Env, prefix, name string, content []byte, fields ...string) map[string]any {
	t.Helper()
	var parts []compattest.Part
	for i := 0; i+1 < len(fields); i += 2 {
		parts = append(parts, compattest.Part{Field: fields[i], Content: []byte(fields[i+1])})
	}
	parts = append(parts, compattest.Part{Field: "file", Filename: name, ContentType: "application/octet-stream", Content: content})
	body, ct := compattest.Multipart(t, parts...)
	rec := e.Do(http.MethodPost, prefix, body, append([]string{"Content-Type", ct}, auth...)...)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	m := decode(t, rec)
	requireModel(t, prefix, m)
	return m
}

// decode decodes a JSON object answer, numbers as json.Number.
func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"), rec.Body.String())
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.UseNumber()
	var m map[string]any
	require.NoError(t, dec.Decode(&m), rec.Body.String())
	return m
}

// modelKeys are the properties of the Protocol attachment model.
var modelKeys = []string{"id", "message_id", "filename", "file_url", "file_type", "file_size", "created_at"}

// requireModel checks that m is an attachment model with the document's
// properties and types, its file_url on the dialect mounted at prefix.
func requireModel(t *testing.T, prefix string, m map[string]any) {
	t.Helper()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	require.ElementsMatch(t, modelKeys, keys)
	id, ok := m["id"].(string)
	require.True(t, ok, "id is a string: %#v", m["id"])
	require.NotEmpty(t, id)
	if m["message_id"] != nil {
		_, ok := m["message_id"].(string)
		require.True(t, ok, "message_id is a string or null: %#v", m["message_id"])
	}
	for _, k := range []string{"filename", "file_type"} {
		v, ok := m[k].(string)
		require.True(t, ok, "%s is a string: %#v", k, m[k])
		require.NotEmpty(t, v, k)
	}
	require.Equal(t, prefix+"/"+id+"/content", m["file_url"])
	for _, k := range []string{"file_size", "created_at"} {
		n, ok := m[k].(json.Number)
		require.True(t, ok, "%s is a number: %#v", k, m[k])
		_, err := n.Int64()
		require.NoError(t, err, "%s is an integer: %s", k, n)
	}
}

// requireError checks that rec is an error answer in the dialect's body
// with the status, type and code, and returns its message.
func requireError(t *testing.T, rec *httptest.ResponseRecorder, status int, typ, code string) string {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	m := decode(t, rec)
	require.Len(t, m, 1, rec.Body.String())
	inner, ok := m["error"].(map[string]any)
	require.True(t, ok, rec.Body.String())
	require.Len(t, inner, 3, rec.Body.String())
	require.Equal(t, typ, inner["type"], rec.Body.String())
	require.Equal(t, code, inner["code"], rec.Body.String())
	msg, _ := inner["message"].(string)
	require.NotEmpty(t, msg)
	return msg
}

// int64Of returns the integer JSON number v.
func int64Of(t *testing.T, v any) int64 {
	t.Helper()
	n, err := v.(json.Number).Int64()
	require.NoError(t, err)
	return n
}

// form is a form-encoded body type.
const form = "application/x-www-form-urlencoded"

// ids returns the IDs of a listing's data, in order.
func ids(t *testing.T, m map[string]any) []string {
	t.Helper()
	data, ok := m["data"].([]any)
	require.True(t, ok, "data is an array: %#v", m["data"])
	out := make([]string, len(data))
	for i, d := range data {
		out[i] = d.(map[string]any)["id"].(string)
	}
	return out
}

// reversed returns a reversed copy of s.
func reversed(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}
