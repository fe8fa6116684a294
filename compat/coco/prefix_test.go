package coco_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/compat/coco"
	"github.com/attachkit/attachment/internal/compattest"
)

// TestPrefix mounts the routes elsewhere, with Options.Prefix and behind
// http.StripPrefix: every route works there, and the URLs of search hits
// carry the mount point.
func TestPrefix(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		e := compattest.NewEnv(t, be, &compattest.Options{Credential: coco.Token})
		e.Mount("/coco/v1/attachment", coco.New(e.Handler, &coco.Options{Prefix: "/coco/v1/attachment/"}))
		e.Mux.Handle("/stripped/", http.StripPrefix("/stripped", coco.New(e.Handler, nil)))
		for _, base := range []string{"/coco/v1/attachment", "/stripped"} {
			t.Run(base, func(t *testing.T) {
				body, ct := compattest.Multipart(t, file("a.pdf", pdf(10)))
				rec := e.Do("POST", base+"/_upload?session=p", body, append([]string{"Content-Type", ct}, tok...)...)
				require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				m := object(t, rec.Body.Bytes(), "acknowledged", "attachments")
				id := m["attachments"].([]any)[0].(string)

				rec = e.Do("GET", base+"/_search?session=p", nil, tok...)
				require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
				assert.Contains(t, rec.Body.String(), `"url":"`+base+`/`+id+`"`)

				rec = e.Do("GET", base+"/"+id, nil, tok...)
				require.Equal(t, http.StatusOK, rec.Code)
				assert.Equal(t, pdf(10), rec.Body.Bytes())

				rec = e.Do("GET", base+"/"+id+"/status", nil, tok...)
				require.Equal(t, http.StatusOK, rec.Code)

				missing := "0198c0de-0000-7000-8000-000000000000"
				m = requireError(t, e.Do("GET", base+"/"+missing, nil, tok...), 404, "not_found")
				assert.Equal(t, missing, m["_id"])
				requireError(t, e.Do("PUT", base+"/"+id, nil, tok...), 405, "method_not_allowed")

				rec = e.Do("DELETE", base+"/"+id, nil, tok...)
				require.Equal(t, http.StatusOK, rec.Code)
			})
		}
	})
}
