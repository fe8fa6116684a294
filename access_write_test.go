package attachment_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
)

// ownerRule is a hook for one rule on what records hold: bob may only
// use owner doc:bob, never the label class=secret and never a name ending
// in .exe; an owner of doc:hidden is hidden from him. It records the
// calls it sees.
type ownerRule struct {
	mu    sync.Mutex
	calls []ruleCall
}

type ruleCall struct {
	op        attachment.Operation
	a, before *attachment.Attachment
	second    bool
}

func (o *ownerRule) access() attachment.Access {
	return attachment.AccessFuncs{
		IdentifyFunc: func(r *http.Request) (attachment.Caller, error) {
			return attachment.Caller{Name: r.Header.Get("X-User")}, nil
		},
		AllowFunc: func(r *http.Request, c attachment.Caller, op attachment.Operation, a *attachment.Attachment) error {
			before, second := attachment.Before(r)
			o.mu.Lock()
			o.calls = append(o.calls, ruleCall{op, a, before, second})
			o.mu.Unlock()
			if c.Name != "bob" || a == nil {
				return nil
			}
			switch {
			case a.Owner == "doc:hidden":
				return attachment.ErrNotFound
			case a.Owner != "doc:bob", a.Labels["class"] == "secret", strings.HasSuffix(a.Filename, ".exe"):
				return errors.New("not bob's (secret detail)")
			}
			return nil
		},
	}
}

// TestAccessSeesUploads checks that the access hook is asked about the
// records an upload would store, with what the body sets, and that a
// refused upload stores nothing.
func TestAccessSeesUploads(t *testing.T) {
	bob := []string{"X-User", "bob"}
	cases := []struct {
		name string
		send func(e *env) *httptest.ResponseRecorder
	}{
		{"multipart owner field", func(e *env) *httptest.ResponseRecorder {
			body, ct := multipartBody(t, part{field: "owner", content: []byte("doc:alice")},
				part{filename: "a.txt", content: []byte("hello")})
			return e.do("POST", e.prefix+"/", body, append(bob, "Content-Type", ct)...)
		}},
		{"multipart label field", func(e *env) *httptest.ResponseRecorder {
			body, ct := multipartBody(t, part{field: "owner", content: []byte("doc:bob")},
				part{field: "label.class", content: []byte("secret")},
				part{filename: "a.txt", content: []byte("hello")})
			return e.do("POST", e.prefix+"/", body, append(bob, "Content-Type", ct)...)
		}},
		{"multipart second file refused", func(e *env) *httptest.ResponseRecorder {
			body, ct := multipartBody(t, part{field: "owner", content: []byte("doc:bob")},
				part{filename: "a.txt", content: []byte("hello")},
				part{filename: "b.exe", content: []byte("MZ")})
			return e.do("POST", e.prefix+"/", body, append(bob, "Content-Type", ct)...)
		}},
		{"raw owner query", func(e *env) *httptest.ResponseRecorder {
			return e.do("POST", e.prefix+"/?filename=a.txt&owner=doc:alice", strings.NewReader("hello"), bob...)
		}},
		{"raw label query", func(e *env) *httptest.ResponseRecorder {
			return e.do("POST", e.prefix+"/?filename=a.txt&owner=doc:bob&label.class=secret", strings.NewReader("hello"), bob...)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rule := &ownerRule{}
			e := newEnv(t, backends()[0], &envOpts{handler: &attachment.HandlerOptions{Access: rule.access()}})
			p := requireProblem(t, tc.send(e), http.StatusForbidden, "forbidden")
			assert.NotContains(t, p.Detail, "secret")
			e.requireNothingStored()
		})
	}

	t.Run("allowed, and what the hook saw", func(t *testing.T) {
		rule := &ownerRule{}
		e := newEnv(t, backends()[0], &envOpts{handler: &attachment.HandlerOptions{Access: rule.access()}})
		rec := e.do("POST", e.prefix+"/?filename=a.txt&owner=doc:bob&label.k=v", strings.NewReader("hello"), bob...)
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		require.Len(t, rule.calls, 2)
		assert.Equal(t, ruleCall{op: attachment.OpUpload}, rule.calls[0], "first, before the body")
		c := rule.calls[1]
		assert.True(t, c.second)
		assert.Nil(t, c.before)
		assert.Equal(t, attachment.OpUpload, c.op)
		assert.Equal(t, "doc:bob", c.a.Owner)
		assert.Equal(t, map[string]string{"k": "v"}, c.a.Labels)
		assert.Equal(t, "a.txt", c.a.Filename)
		assert.Equal(t, int64(5), c.a.Size)
		assert.Equal(t, "bob", c.a.CreatedBy)
		assert.Contains(t, c.a.ContentType, "text/plain")
		assert.NotEmpty(t, c.a.ID)
		assert.Equal(t, 1, e.count())
	})

	t.Run("hidden by the hook", func(t *testing.T) {
		rule := &ownerRule{}
		e := newEnv(t, backends()[0], &envOpts{handler: &attachment.HandlerOptions{Access: rule.access()}})
		rec := e.do("POST", e.prefix+"/?filename=a.txt&owner=doc:hidden", strings.NewReader("hello"), bob...)
		requireProblem(t, rec, http.StatusNotFound, "not_found")
		e.requireNothingStored()
	})
}

// TestAccessSeesUpdates checks that the access hook is asked about a
// record as a PATCH or PUT would leave it, with the record as it is, and
// that a refused change changes nothing.
func TestAccessSeesUpdates(t *testing.T) {
	bob := []string{"X-User", "bob"}
	json := []string{"Content-Type", "application/json"}
	form := []string{"Content-Type", "application/x-www-form-urlencoded"}
	cases := []struct {
		name, method, ctype, body string
		status                    int
		code                      string
	}{
		{"PATCH owner", "PATCH", "json", `{"owner":"doc:alice"}`, http.StatusForbidden, "forbidden"},
		{"PATCH labels", "PATCH", "json", `{"labels":{"class":"secret"}}`, http.StatusForbidden, "forbidden"},
		{"PATCH filename", "PATCH", "json", `{"filename":"run.exe"}`, http.StatusForbidden, "forbidden"},
		{"PUT form owner", "PUT", "form", url.Values{"owner": {"doc:alice"}}.Encode(), http.StatusForbidden, "forbidden"},
		{"PUT form label", "PUT", "form", url.Values{"label.class": {"secret"}}.Encode(), http.StatusForbidden, "forbidden"},
		{"PUT multipart form owner", "PUT", "multipart", "doc:alice", http.StatusForbidden, "forbidden"},
		{"PATCH owner hidden", "PATCH", "json", `{"owner":"doc:hidden"}`, http.StatusNotFound, "not_found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rule := &ownerRule{}
			e := newEnv(t, backends()[0], &envOpts{handler: &attachment.HandlerOptions{Access: rule.access()}})
			rec := e.do("POST", e.prefix+"/?filename=a.txt&owner=doc:bob&label.k=v", strings.NewReader("hello"), bob...)
			require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
			var up struct{ Attachments []*attachment.Attachment }
			require.NoError(t, jsonUnmarshal(rec.Body.Bytes(), &up))
			id := up.Attachments[0].ID
			was, err := e.svc.Get(context.Background(), id)
			require.NoError(t, err)

			hdr := append(bob, json...)
			body := tc.body
			switch tc.ctype {
			case "form":
				hdr = append(bob, form...)
			case "multipart":
				b, ct := multipartBody(t, part{field: "owner", content: []byte(tc.body)})
				body = b.String()
				hdr = append(bob, "Content-Type", ct)
			}
			rule.calls = nil
			rec = e.do(tc.method, e.prefix+"/"+id, strings.NewReader(body), hdr...)
			p := requireProblem(t, rec, tc.status, tc.code)
			assert.NotContains(t, p.Detail, "secret")
			if tc.status == http.StatusNotFound {
				missing := e.do("GET", e.prefix+"/0193b1a2-0000-7000-8000-000000000000/metadata", nil, bob...)
				assert.Equal(t, strings.ReplaceAll(missing.Body.String(), "0193b1a2-0000-7000-8000-000000000000", id), rec.Body.String())
			}

			now, err := e.svc.Get(context.Background(), id)
			require.NoError(t, err)
			assert.Equal(t, was, now, "a refused change changes nothing")

			require.Len(t, rule.calls, 2)
			first, second := rule.calls[0], rule.calls[1]
			assert.False(t, first.second)
			assert.Equal(t, was, first.a, "first, the record as it is, before the body")
			assert.True(t, second.second)
			assert.Equal(t, attachment.OpUpdate, second.op)
			assert.Equal(t, was, second.before)
			assert.Equal(t, id, second.a.ID)
			assert.NotEqual(t, was, second.a, "then the record as the change would leave it")
		})
	}

	t.Run("allowed", func(t *testing.T) {
		rule := &ownerRule{}
		e := newEnv(t, backends()[0], &envOpts{handler: &attachment.HandlerOptions{Access: rule.access()}})
		rec := e.do("POST", e.prefix+"/?filename=a.txt&owner=doc:bob", strings.NewReader("hello"), bob...)
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
		var up struct{ Attachments []*attachment.Attachment }
		require.NoError(t, jsonUnmarshal(rec.Body.Bytes(), &up))
		id := up.Attachments[0].ID
		rec = e.do("PATCH", e.prefix+"/"+id, strings.NewReader(`{"filename":"b.txt","labels":{"k":"v"}}`), append(bob, json...)...)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		last := rule.calls[len(rule.calls)-1]
		assert.Equal(t, "b.txt", last.a.Filename)
		assert.Equal(t, map[string]string{"k": "v"}, last.a.Labels)
		assert.Equal(t, "a.txt", last.before.Filename)
	})
}

// TestCommitCheckService checks the commit checks of a Service view used
// from Go: a refused upload stores nothing, ForTenant keeps the checks,
// and a refused update changes nothing.
func TestCommitCheckService(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	refuse := errors.New("refused")
	var seen []string
	svc := e.svc.WithCommitCheck(func(_ context.Context, op attachment.Operation, before, after *attachment.Attachment) error {
		seen = append(seen, string(op)+":"+after.Owner)
		if after.Owner != "doc:bob" {
			return refuse
		}
		return nil
	}).ForTenant("")
	ctx := context.Background()
	_, err := svc.Upload(ctx, &attachment.UploadOptions{Owner: "doc:bob"},
		attachment.File{Name: "a.txt", Content: strings.NewReader("a")})
	require.NoError(t, err)
	_, err = svc.Upload(ctx, &attachment.UploadOptions{Owner: "doc:alice"},
		attachment.File{Name: "b.txt", Content: strings.NewReader("b")},
		attachment.File{Name: "c.txt", Content: strings.NewReader("c")})
	require.ErrorIs(t, err, refuse)
	assert.Equal(t, 1, e.count())
	assert.Len(t, e.keys(), 1, "the refused upload's content is removed")

	list, err := e.svc.List(ctx, nil)
	require.NoError(t, err)
	id := list.Attachments[0].ID
	owner := "doc:alice"
	_, err = svc.Update(ctx, id, attachment.Change{Owner: &owner})
	require.ErrorIs(t, err, refuse)
	a, err := e.svc.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "doc:bob", a.Owner)
	// The view the check was not given to is not checked.
	_, err = e.svc.Update(ctx, id, attachment.Change{Owner: &owner})
	require.NoError(t, err)
	assert.Equal(t, []string{"upload:doc:bob", "upload:doc:alice", "update:doc:alice"}, seen)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
