package attachment_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// hidingAccess is headerAccess's tenancy plus two ways for the host to
// hide an attachment: X-Hide-Identify makes Identify answer ErrNotFound
// (a caller the host hides everything from), and X-Hide makes Allow
// answer ErrNotFound for every attachment.
func hidingAccess() attachment.Access {
	return attachment.AccessFuncs{
		IdentifyFunc: func(r *http.Request) (attachment.Caller, error) {
			if r.Header.Get("X-Hide-Identify") != "" {
				return attachment.Caller{}, fmt.Errorf("suspended (secret detail): %w", attachment.ErrNotFound)
			}
			return attachment.Caller{Tenant: r.Header.Get("X-Tenant"), Name: r.Header.Get("X-User")}, nil
		},
		AllowFunc: func(r *http.Request, c attachment.Caller, op attachment.Operation, a *attachment.Attachment) error {
			if a != nil && r.Header.Get("X-Hide") != "" {
				return fmt.Errorf("hidden (secret detail): %w", attachment.ErrNotFound)
			}
			return nil
		},
	}
}

// TestAccessHiddenIsMissing checks that an attachment of another tenant,
// or one the access hook hides (from Allow or from Identify), answers
// every route about one attachment exactly as it answers once the
// attachment is gone: status, headers and body, byte for byte.
func TestAccessHiddenIsMissing(t *testing.T) {
	signer, err := attachment.NewSigner(attachment.SignerOptions{Keys: []attachment.SigningKey{{ID: "k", Secret: bytes.Repeat([]byte("s"), 32)}}})
	require.NoError(t, err)
	e := newEnv(t, backends()[0], &envOpts{handler: &attachment.HandlerOptions{Access: hidingAccess(), Signer: signer}})
	owner := []string{"X-Tenant", "t1", "X-User", "alice"}
	a := e.mustUpload("secret.txt", []byte("t1 only"), owner...)
	_, err = e.svc.ForTenant("t1").AddRef(context.Background(), a.ID, "keep")
	require.NoError(t, err)

	routes := []struct{ method, path, body string }{
		{"GET", a.URL, ""},
		{"HEAD", a.URL, ""},
		{"GET", a.URL + "?disposition=inline", ""},
		{"GET", a.URL + "/metadata", ""},
		{"HEAD", a.URL + "/metadata", ""},
		{"PATCH", a.URL, `{"filename":"pwned.txt","owner":"x"}`},
		{"PUT", a.URL, `{"filename":"pwned.txt"}`},
		{"PATCH", a.URL, `not json`},
		{"DELETE", a.URL, ""},
		{"DELETE", a.URL + "?force=true", ""},
		{"GET", a.URL + "/thumbnail", ""},
		{"HEAD", a.URL + "/thumbnail?size=64", ""},
		{"GET", a.URL + "/status", ""},
		{"GET", a.URL + "/status?wait=0s", ""},
		{"HEAD", a.URL + "/status", ""},
		{"POST", a.URL + "/refs", `{"ref":"x"}`},
		{"DELETE", a.URL + "/refs/keep", ""},
		{"POST", a.URL + "/signed-url", ""},
		{"POST", a.URL + "/signed-url?ttl=60&disposition=inline", ""},
		{"POST", e.prefix + "/_status", `{"attachments":["` + a.ID + `"]}`},
	}
	hidden := []struct {
		name string
		hdr  []string
	}{
		{"other tenant", []string{"X-Tenant", "t2", "X-User", "mallory"}},
		{"hidden by Allow", []string{"X-Tenant", "t1", "X-User", "bob", "X-Hide", "1"}},
		{"hidden by Identify", []string{"X-Tenant", "t1", "X-User", "bob", "X-Hide-Identify", "1"}},
	}
	type answer struct {
		Status int
		Header http.Header
		Body   string
	}
	send := func(method, path, body string, hdr []string) answer {
		rec := e.do(method, path, strings.NewReader(body), hdr...)
		return answer{rec.Code, rec.Header(), rec.Body.String()}
	}

	got := map[string]answer{}
	for _, rt := range routes {
		for _, h := range hidden {
			got[rt.method+" "+rt.path+" "+h.name] = send(rt.method, rt.path, rt.body, h.hdr)
		}
		// The owner sees it: the answers above are not those of every
		// request.
		if rt.method == "GET" || rt.method == "HEAD" {
			visible := send(rt.method, rt.path, "", owner)
			assert.Less(t, visible.Status, 300, "visible: %s %s", rt.method, rt.path)
		}
	}
	// Nothing the hidden callers sent changed anything.
	cur, err := e.svc.ForTenant("t1").Get(context.Background(), a.ID)
	require.NoError(t, err)
	assert.Equal(t, "secret.txt", cur.Filename)
	assert.Equal(t, []string{"keep"}, cur.Refs)

	require.NoError(t, e.svc.ForTenant("t1").Delete(context.Background(), a.ID, &attachment.DeleteOptions{Force: true}))
	for _, rt := range routes {
		missing := send(rt.method, rt.path, rt.body, owner)
		if rt.path != e.prefix+"/_status" {
			require.Equal(t, http.StatusNotFound, missing.Status, "%s %s: %s", rt.method, rt.path, missing.Body)
		}
		for _, h := range hidden {
			assert.Equal(t, missing, got[rt.method+" "+rt.path+" "+h.name], "%s %s, %s: not the answer for a missing ID", rt.method, rt.path, h.name)
		}
	}
}
