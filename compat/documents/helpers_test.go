package documents_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "gocloud.dev/blob/fileblob" // compattest's file+sqlite backend opens a file:// bucket

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/compat/documents"
	"github.com/attachkit/attachment/internal/compattest"
)

// The document's example IDs.
const (
	workspaceID = "660e8400-e29b-41d4-a716-446655440000"
	documentID  = "550e8400-e29b-41d4-a716-446655440000"
)

var bearer = []string{"Authorization", "Bearer " + compattest.Token}

// newEnv opens be with the dialect mounted at its base path and the token
// access hook.
func newEnv(t *testing.T, be compattest.Backend, svc *attachment.Options) *compattest.Env {
	t.Helper()
	env := compattest.NewEnv(t, be, &compattest.Options{Service: svc, Credential: documents.Token})
	env.Mount(documents.BasePath, documents.New(env.Handler, &documents.Options{Prefix: documents.BasePath}))
	return env
}

// forEachBackend runs test on every backend.
func forEachBackend(t *testing.T, test func(t *testing.T, be compattest.Backend)) {
	for _, be := range compattest.Backends() {
		t.Run(be.Name, func(t *testing.T) { test(t, be) })
	}
}

// upload posts parts to POST /upload with the token.
func upload(env *compattest.Env, parts ...compattest.Part) *httptest.ResponseRecorder {
	env.T.Helper()
	body, ct := compattest.Multipart(env.T, parts...)
	return env.Do(http.MethodPost, documents.BasePath+"/upload", body, append([]string{"Content-Type", ct}, bearer...)...)
}

func field(name, value string) compattest.Part {
	return compattest.Part{Field: name, Content: []byte(value)}
}

func pngFile(t testing.TB, w, h int) compattest.Part {
	return compattest.Part{Field: "file", Filename: "image.png", ContentType: "image/png", Content: compattest.PNG(t, w, h)}
}

func pdfFile() compattest.Part {
	return compattest.Part{Field: "file", Filename: "spec.pdf", ContentType: "application/pdf", Content: compattest.PDF}
}

// decode checks that rec is JSON and returns it as a map.
func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
	return m
}

// requireError checks an error answer: the status and the dialect's body
// with the code.
func requireError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	m := decode(t, rec)
	require.Equal(t, false, m["success"], rec.Body.String())
	e, ok := m["error"].(map[string]any)
	require.True(t, ok, "error object: %s", rec.Body.String())
	assert.Equal(t, code, e["code"])
	msg, _ := e["message"].(string)
	assert.NotEmpty(t, msg)
	assert.Len(t, m, 2, "success and error only: %s", rec.Body.String())
}

// requireItem checks that v is an AttachmentResponse with every field the
// document names, of the document's type, and returns it.
func requireItem(t *testing.T, v any) map[string]any {
	t.Helper()
	it, ok := v.(map[string]any)
	require.True(t, ok, "%v is not an object", v)
	for _, k := range []string{"id", "documentId", "fileName", "fileSize", "mimeType", "url", "width", "height", "createdAt"} {
		require.Contains(t, it, k)
	}
	assert.Len(t, it, 9, "no fields beyond the document's: %v", it)
	for _, k := range []string{"id", "fileName", "mimeType", "url", "createdAt"} {
		assert.IsType(t, "", it[k], k)
	}
	assert.IsType(t, float64(0), it["fileSize"])
	for _, k := range []string{"documentId"} {
		if it[k] != nil {
			assert.IsType(t, "", it[k], k)
		}
	}
	for _, k := range []string{"width", "height"} {
		if it[k] != nil {
			assert.IsType(t, float64(0), it[k], k)
		}
	}
	ts, err := time.Parse(time.RFC3339, it["createdAt"].(string))
	require.NoError(t, err)
	assert.Equal(t, time.UTC, ts.Location(), "createdAt is in UTC")
	assert.WithinDuration(t, time.Now(), ts, time.Minute)
	return it
}

// data checks a success answer and returns its data.
func data(t *testing.T, rec *httptest.ResponseRecorder, status int) any {
	t.Helper()
	require.Equal(t, status, rec.Code, rec.Body.String())
	m := decode(t, rec)
	require.Equal(t, true, m["success"])
	require.Contains(t, m, "data")
	assert.Len(t, m, 2, "success and data only: %s", rec.Body.String())
	return m["data"]
}

// nothingStored fails t unless the stores hold what they held at before
// (env.RequireNothingStored fails the test that made env, which a subtest
// must not do).
func nothingStored(t *testing.T, env *compattest.Env, before compattest.Snapshot) {
	t.Helper()
	require.Equal(t, before, env.Snapshot(), "records and objects stored by a failed request")
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
