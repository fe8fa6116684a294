package documents_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/compat/documents"
	"github.com/attachkit/attachment/internal/compattest"
)

// FuzzFileKey: GET /file answers 200 for the key of the one attachment
// stored (its ID) and nothing else; any other value of url is 404, or 400
// when it is empty.
func FuzzFileKey(f *testing.F) {
	env := compattest.NewEnv(f, compattest.Backends()[0], &compattest.Options{Credential: documents.Token})
	env.Mount(documents.BasePath, documents.New(env.Handler, &documents.Options{Prefix: documents.BasePath}))
	atts, err := env.Service.Upload(f.Context(), nil, attachment.File{Name: "a.pdf", Content: bytesReader(compattest.PDF)})
	require.NoError(f, err)
	id := atts[0].ID
	for _, s := range []string{id, "", "../", "..%2f", "content/" + id, "/" + id, id + "\x00", "storage-key-123"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		// Env.Do reports to the Env's testing.F, which a fuzz target must
		// not use.
		req := httptest.NewRequest(http.MethodGet, documents.BasePath+"/file?url="+url.QueryEscape(key), nil)
		req.Header.Set(bearer[0], bearer[1])
		rec := httptest.NewRecorder()
		env.Mux.ServeHTTP(rec, req)
		switch key {
		case id:
			require.Equal(t, http.StatusOK, rec.Code)
		case "":
			requireError(t, rec, http.StatusBadRequest, "bad_request")
		default:
			requireError(t, rec, http.StatusNotFound, "not_found")
		}
	})
}
