package attachment_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
)

// headerAccess names the caller from X-Tenant and X-User, refuses requests
// without X-User, and lets only the uploader delete.
func headerAccess() attachment.Access {
	return attachment.AccessFuncs{
		IdentifyFunc: func(r *http.Request) (attachment.Caller, error) {
			user := r.Header.Get("X-User")
			if user == "" {
				return attachment.Caller{}, errors.New("who are you? (secret detail)")
			}
			return attachment.Caller{Tenant: r.Header.Get("X-Tenant"), Name: user}, nil
		},
		AllowFunc: func(r *http.Request, c attachment.Caller, op attachment.Operation, a *attachment.Attachment) error {
			if op == attachment.OpDelete && a.CreatedBy != c.Name {
				return errors.New("not yours (secret detail)")
			}
			return nil
		},
	}
}

func TestAccessTenancy(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			e := newEnv(t, be, &envOpts{handler: &attachment.HandlerOptions{Access: headerAccess()}})
			alice := []string{"X-Tenant", "t1", "X-User", "alice"}
			mallory := []string{"X-Tenant", "t2", "X-User", "mallory"}

			a := e.mustUpload("secret.txt", []byte("t1 only"), alice...)
			assert.Equal(t, "alice", a.CreatedBy)

			// No caller: 401, without the hook's own text.
			p := requireProblem(t, e.uploadRaw("x.txt", []byte("x")), http.StatusUnauthorized, "unauthorized")
			assert.NotContains(t, p.Detail, "secret")
			requireProblem(t, e.do("GET", a.URL, nil), http.StatusUnauthorized, "unauthorized")

			// Another tenant: every route is a 404, exactly as for a missing ID.
			missing := e.prefix + "/0193b1a2-0000-7000-8000-000000000000"
			routes := []struct{ method, path, body string }{
				{"GET", a.URL, ""},
				{"HEAD", a.URL, ""},
				{"GET", a.URL + "/metadata", ""},
				{"PATCH", a.URL, `{"filename":"pwned.txt"}`},
				{"PUT", a.URL, `{"filename":"pwned.txt"}`},
				{"DELETE", a.URL, ""},
				{"DELETE", a.URL + "?force=true", ""},
				{"POST", a.URL + "/refs", `{"ref":"x"}`},
				{"DELETE", a.URL + "/refs/x", ""},
			}
			for _, rt := range routes {
				foreign := e.do(rt.method, rt.path, strings.NewReader(rt.body), mallory...)
				absent := e.do(rt.method, strings.Replace(rt.path, a.URL, missing, 1), strings.NewReader(rt.body), mallory...)
				assert.Equal(t, http.StatusNotFound, foreign.Code, rt.method+" "+rt.path)
				assert.Equal(t, absent.Code, foreign.Code, rt.method+" "+rt.path)
				assert.Equal(t, strings.ReplaceAll(absent.Body.String(), missing[len(e.prefix)+1:], "ID"),
					strings.ReplaceAll(foreign.Body.String(), a.ID, "ID"), "indistinguishable: "+rt.method+" "+rt.path)
			}
			lb, _ := e.listAs(mallory)
			assert.Empty(t, lb.Data)
			lb, _ = e.listAs(alice)
			require.Len(t, lb.Data, 1)
			assert.Equal(t, "secret.txt", lb.Data[0].Filename, "the foreign PATCH changed nothing")

			// Same tenant, other user: the hook refuses delete with 403.
			bob := []string{"X-Tenant", "t1", "X-User", "bob"}
			p = requireProblem(t, e.do("DELETE", a.URL, nil, bob...), http.StatusForbidden, "forbidden")
			assert.NotContains(t, p.Detail, "secret")
			assert.Equal(t, http.StatusOK, e.do("GET", a.URL, nil, bob...).Code)
			assert.Equal(t, http.StatusOK, e.do("DELETE", a.URL, nil, alice...).Code)
		})
	}
}

func (e *env) listAs(hdr []string) (listBody, *http.Response) {
	e.t.Helper()
	rec := e.do("GET", e.prefix+"/", nil, hdr...)
	require.Equal(e.t, http.StatusOK, rec.Code, rec.Body.String())
	var lb listBody
	require.NoError(e.t, json.Unmarshal(rec.Body.Bytes(), &lb))
	return lb, rec.Result()
}
