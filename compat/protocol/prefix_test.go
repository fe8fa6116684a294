package protocol_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/compat/protocol"
	"github.com/attachkit/attachment/internal/compattest"
)

// TestPrefixes: mounted elsewhere, by Options.Prefix or behind
// http.StripPrefix, every URL in an answer carries the mount path, and
// works.
func TestPrefixes(t *testing.T) {
	for _, be := range compattest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be, nil)
			const byOption, stripped = "/chat/api/v1/attachments", "/behind/proxy"
			e.Mount(byOption, protocol.New(e.Handler, &protocol.Options{Prefix: byOption + "/"}))
			e.Mount(stripped, http.StripPrefix(stripped, protocol.New(e.Handler, nil)))
			for _, prefix := range []string{byOption, stripped, protocol.BasePath} {
				t.Run(prefix, func(t *testing.T) {
					body, ct := compattest.Multipart(t, compattest.Part{Field: "file", Filename: "a b.txt", Content: []byte("ab")})
					rec := e.Do(http.MethodPost, prefix, body, append([]string{"Content-Type", ct}, auth...)...)
					require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
					m := decode(t, rec)
					requireModel(t, prefix, m)
					id := m["id"].(string)
					assert.Equal(t, prefix+"/"+id, rec.Header().Get("Location"))
					assert.Equal(t, "ab", e.Do(http.MethodGet, m["file_url"].(string), nil, auth...).Body.String())

					for _, target := range []string{prefix + "/" + id, prefix + "?limit=1", prefix + "/?limit=1"} {
						rec := e.Do(http.MethodGet, target, nil, auth...)
						require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
						assert.Contains(t, rec.Body.String(), `"file_url":"`+prefix+"/"+id+`/content"`)
					}
					rec = e.Do(http.MethodPut, prefix+"/"+id, strings.NewReader(`{"filename":"c.txt"}`), append([]string{"Content-Type", "application/json"}, auth...)...)
					require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
					assert.Equal(t, prefix+"/"+id+"/content", decode(t, rec)["file_url"])
					// Errors too are in the dialect's body there.
					requireError(t, e.Do(http.MethodPatch, prefix+"/"+id, nil, auth...), http.StatusMethodNotAllowed, "invalid_request_error", "method_not_allowed")
				})
			}
		})
	}
}
