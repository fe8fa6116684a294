package protocol_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/compat/protocol"
	"github.com/attachkit/attachment/internal/compattest"
)

// upload is a multipart body of one small file part named file.
func upload(t *testing.T) (*bytes.Buffer, string) {
	return compattest.Multipart(t, compattest.Part{Field: "file", Filename: "a.txt", Content: []byte("hello")})
}

// TestCredentials: every route wants the bearer token, and answers a
// missing or wrong one 401 in the dialect's body without storing or
// changing anything.
func TestCredentials(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *compattest.Env) {
		m := create(t, e, protocol.BasePath, "keep.txt", []byte("keep"))
		id := m["id"].(string)
		before := e.Snapshot()
		for _, hdr := range [][]string{
			nil,
			{"Authorization", "Bearer wrong"},
			{"Authorization", "Basic " + compattest.Token},
			{"Authorization", "Bearer"},
			{"Authorization", compattest.Token},
		} {
			body, ct := upload(t)
			for _, req := range []struct {
				method, target, ct string
				body               *bytes.Buffer
			}{
				{http.MethodGet, protocol.BasePath, "", nil},
				{http.MethodPost, protocol.BasePath, ct, body},
				{http.MethodGet, protocol.BasePath + "/" + id, "", nil},
				{http.MethodPut, protocol.BasePath + "/" + id, form, bytes.NewBufferString("filename=changed.txt")},
				{http.MethodDelete, protocol.BasePath + "/" + id, "", nil},
				{http.MethodGet, protocol.BasePath + "/" + id + "/content", "", nil},
			} {
				h := append([]string{}, hdr...)
				if req.ct != "" {
					h = append(h, "Content-Type", req.ct)
				}
				var b *bytes.Buffer = req.body
				if b == nil {
					b = &bytes.Buffer{}
				}
				rec := e.Do(req.method, req.target, b, h...)
				requireError(t, rec, http.StatusUnauthorized, "authentication_error", "unauthorized")
			}
		}
		e.RequireNothingStored(before)
		a, err := e.Service.Get(t.Context(), id)
		require.NoError(t, err)
		assert.Equal(t, "keep.txt", a.Filename)
		// The scheme is case-insensitive.
		rec := e.Do(http.MethodGet, protocol.BasePath+"/"+id, nil, "Authorization", "bearer "+compattest.Token)
		assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	})
}

func TestToken(t *testing.T) {
	for _, c := range []struct {
		header, token string
		ok            bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER  abc ", "abc", true},
		{"Bearer ", "", false},
		{"Bearer", "", false},
		{"Basic abc", "", false},
		{"", "", false},
	} {
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		if c.header != "" {
			r.Header.Set("Authorization", c.header)
		}
		tok, ok := protocol.Token(r)
		assert.Equal(t, c.ok, ok, c.header)
		assert.Equal(t, c.token, tok, c.header)
	}
}

// TestUnknownIDs: an ID that names nothing is a 404 on every item route.
func TestUnknownIDs(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *compattest.Env) {
		before := e.Snapshot()
		for _, id := range []string{"01900000-0000-7000-8000-000000000000", "Nc6yKKMpcxiiFxp6", "a%2Fb"} {
			for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
				rec := e.Do(method, protocol.BasePath+"/"+id, strings.NewReader("filename=x.txt"), append([]string{"Content-Type", form}, auth...)...)
				requireError(t, rec, http.StatusNotFound, "invalid_request_error", "not_found")
			}
			rec := e.Do(http.MethodGet, protocol.BasePath+"/"+id+"/content", nil, auth...)
			requireError(t, rec, http.StatusNotFound, "invalid_request_error", "not_found")
			// HEAD: the status alone.
			rec = e.Do(http.MethodHead, protocol.BasePath+"/"+id, nil, auth...)
			assert.Equal(t, http.StatusNotFound, rec.Code)
			assert.Empty(t, rec.Body.Bytes())
		}
		e.RequireNothingStored(before)
	})
}

// TestRoutes: an unknown route under the prefix is a 404 and a method a
// route does not take a 405 with Allow, both in the dialect's body.
func TestRoutes(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *compattest.Env) {
		id := create(t, e, protocol.BasePath, "a.txt", []byte("a"))["id"].(string)
		before := e.Snapshot()
		for _, c := range []struct{ method, path, allow string }{
			{http.MethodDelete, "", "GET, HEAD, POST"},
			{http.MethodPut, "/", "GET, HEAD, POST"},
			{http.MethodPatch, "/" + id, "GET, HEAD, PUT, DELETE"},
			{http.MethodPost, "/" + id, "GET, HEAD, PUT, DELETE"},
			{http.MethodPost, "/" + id + "/content", "GET, HEAD"},
			{http.MethodDelete, "/" + id + "/content", "GET, HEAD"},
		} {
			rec := e.Do(c.method, protocol.BasePath+c.path, nil, auth...)
			requireError(t, rec, http.StatusMethodNotAllowed, "invalid_request_error", "method_not_allowed")
			assert.Equal(t, c.allow, rec.Header().Get("Allow"))
		}
		for _, p := range []string{"/" + id + "/thumbnail", "/" + id + "/content/x", "/" + id + "/"} {
			rec := e.Do(http.MethodGet, protocol.BasePath+p, nil, auth...)
			requireError(t, rec, http.StatusNotFound, "invalid_request_error", "not_found")
		}
		rec := e.Do(http.MethodGet, protocol.BasePath+"/"+id+"/content?disposition=evil", nil, auth...)
		requireError(t, rec, http.StatusBadRequest, "invalid_request_error", "bad_request")
		e.RequireNothingStored(before)
	})
}

// TestCreateRefused: uploads that are refused with nothing stored.
func TestCreateRefused(t *testing.T) {
	eachBackend(t, &compattest.Options{Service: &attachment.Options{MaxFileSize: 64}}, func(t *testing.T, e *compattest.Env) {
		file := compattest.Part{Field: "file", Filename: "a.txt", Content: []byte("hello")}
		for _, c := range []struct {
			name   string
			parts  []compattest.Part
			status int
			code   string
			msg    string
		}{
			{"no file part", []compattest.Part{{Field: "conversation_id", Content: []byte(conversation)}}, 400, "bad_request", "no file part"},
			{"empty body", nil, 400, "bad_request", "no file part"},
			{"file under another name", []compattest.Part{{Field: "upload", Filename: "a.txt", Content: []byte("a")}}, 400, "bad_request", "no file part"},
			{"text file field", []compattest.Part{{Field: "file", Content: []byte("../a.pdf")}}, 400, "invalid_filename", "file=@"},
			{"text file field after a file", []compattest.Part{file, {Field: "file", Content: []byte("../a.pdf")}}, 400, "too_many_files", "one file"},
			{"unknown field", []compattest.Part{{Field: "conversationId", Content: []byte(conversation)}, file}, 400, "bad_request", "unknown parameter: conversationId"},
			{"unknown field after the file", []compattest.Part{file, {Field: "purpose", Content: []byte("x")}}, 400, "bad_request", "unknown parameter: purpose"},
			{"conversation_id twice", []compattest.Part{{Field: "conversation_id", Content: []byte("a")}, {Field: "conversation_id", Content: []byte("b")}, file}, 400, "bad_request", "more than once"},
			{"two files", []compattest.Part{file, {Field: "file", Filename: "b.txt", Content: []byte("b")}}, 400, "too_many_files", "one file"},
			{"too large", []compattest.Part{{Field: "file", Filename: "big.bin", Content: bytes.Repeat([]byte("x"), 65)}}, 413, "too_large", "larger than 64 bytes"},
			{"label too long", []compattest.Part{{Field: "message_id", Content: bytes.Repeat([]byte("m"), 5000)}, file}, 400, "bad_request", ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := e.Snapshot()
				body, ct := compattest.Multipart(t, c.parts...)
				rec := e.Do(http.MethodPost, protocol.BasePath, body, append([]string{"Content-Type", ct}, auth...)...)
				msg := requireError(t, rec, c.status, "invalid_request_error", c.code)
				assert.Contains(t, msg, c.msg)
				e.RequireNothingStored(before)
			})
		}
		for _, c := range []struct{ name, ct, body string }{
			{"JSON", "application/json", `{"file":"a.txt"}`},
			{"no boundary", "multipart/form-data", "--x\r\n"},
			{"malformed multipart", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nabc"},
			{"not form-data", "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: attachment\r\n\r\nabc\r\n--x--\r\n"},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := e.Snapshot()
				rec := e.Do(http.MethodPost, protocol.BasePath, strings.NewReader(c.body), append([]string{"Content-Type", c.ct}, auth...)...)
				requireError(t, rec, http.StatusBadRequest, "invalid_request_error", "bad_request")
				e.RequireNothingStored(before)
			})
		}
	})
}

// TestUpdateRefused: bodies of PUT that are refused, with nothing changed.
func TestUpdateRefused(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *compattest.Env) {
		id := create(t, e, protocol.BasePath, "same.txt", []byte("a"))["id"].(string)
		for _, c := range []struct {
			name, ct, body string
			status         int
			code, msg      string
		}{
			{"malformed JSON", "application/json", `{"filename":`, 400, "bad_request", "JSON object"},
			{"JSON array", "application/json", `["x"]`, 400, "bad_request", "JSON object"},
			{"JSON null", "application/json", `null`, 400, "bad_request", "JSON object"},
			{"trailing data", "application/json", `{"filename":"x"} {}`, 400, "bad_request", "after the JSON object"},
			{"not a string", "application/json", `{"filename":42}`, 400, "bad_request", "string"},
			{"unknown JSON key", "application/json", `{"name":"x.txt"}`, 400, "bad_request", "unknown parameter: name"},
			{"unknown form key", form, "filename=x.txt&conversation_id=c", 400, "bad_request", "unknown parameter: conversation_id"},
			{"repeated", form, "filename=x.txt&filename=y.txt", 400, "bad_request", "more than once"},
			{"malformed form", form, "filename=%zz", 400, "bad_request", "malformed"},
			{"empty filename", form, "filename=", 400, "invalid_filename", "empty"},
			{"control characters only", "application/json", `{"filename":"\u0001\u0002"}`, 400, "invalid_filename", "empty"},
			{"text/plain", "text/plain", "x.txt", 415, "unsupported_type", "form"},
			{"bad Content-Type", "application/json; =", `{}`, 400, "bad_request", "Content-Type"},
			{"too large", form, "filename=" + strings.Repeat("x", 70<<10), 413, "too_large", ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				rec := e.Do(http.MethodPut, protocol.BasePath+"/"+id, strings.NewReader(c.body), append([]string{"Content-Type", c.ct}, auth...)...)
				msg := requireError(t, rec, c.status, "invalid_request_error", c.code)
				assert.Contains(t, msg, c.msg)
				a, err := e.Service.Get(t.Context(), id)
				require.NoError(t, err)
				assert.Equal(t, "same.txt", a.Filename)
			})
		}
	})
}

// TestListRefused: list parameters that are refused.
func TestListRefused(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *compattest.Env) {
		id := create(t, e, protocol.BasePath, "a.txt", []byte("a"))["id"].(string)
		for _, c := range []struct{ query, msg string }{
			{"limit=0", "limit"},
			{"limit=101", "limit"},
			{"limit=ten", "limit"},
			{"limit=-1", "limit"},
			{"limit=1&limit=2", "limit"},
			{"conversation_id=a&conversation_id=b", "conversation_id"},
			{"starting_after=" + id + "&ending_before=" + id, "both"},
			{"starting_after=Nc6yKKMpcxiiFxp6", "starting_after: no such attachment"},
			{"ending_before=01900000-0000-7000-8000-000000000000", "ending_before: no such attachment"},
		} {
			rec := e.Do(http.MethodGet, protocol.BasePath+"?"+c.query, nil, auth...)
			msg := requireError(t, rec, http.StatusBadRequest, "invalid_request_error", "bad_request")
			assert.Contains(t, msg, c.msg, c.query)
		}
		// Repeating a parameter with the same value, and unknown ones, are
		// fine.
		rec := e.Do(http.MethodGet, protocol.BasePath+"?limit=5&limit=5&_=123", nil, auth...)
		assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	})
}

// TestAccessHook: the host's access hook decides on every route, and a
// refusal is a 403 permission_error (or, for an attachment it hides, a
// 404 as for a missing one).
func TestAccessHook(t *testing.T) {
	hidden := "hidden.txt"
	access := attachment.AccessFuncs{
		AllowFunc: func(r *http.Request, c attachment.Caller, op attachment.Operation, a *attachment.Attachment) error {
			switch {
			case op == attachment.OpDelete:
				return attachment.ErrForbidden
			case a != nil && a.Filename == hidden:
				return attachment.ErrNotFound
			case op == attachment.OpUpload && a != nil && a.Labels[protocol.LabelConversation] == "locked":
				// Asked again about the record as it will be stored.
				return &attachment.Error{Kind: attachment.ErrForbidden, Detail: "conversation locked"}
			}
			return nil
		},
	}
	for _, be := range compattest.Backends() {
		t.Run(be.Name, func(t *testing.T) { testAccessHook(t, be, access, hidden) })
	}
}

func testAccessHook(t *testing.T, be compattest.Backend, access attachment.Access, hidden string) {
	{
		// No Credential: the hook is ours (compattest's token hook would
		// replace it), and lets every caller in.
		e2 := compattest.NewEnv(t, be, &compattest.Options{Handler: &attachment.HandlerOptions{Access: access}})
		e2.Mount("/open", protocol.New(e2.Handler, &protocol.Options{Prefix: "/open"}))
		m := create(t, e2, "/open", "a.txt", []byte("a"))
		id := m["id"].(string)
		requireError(t, e2.Do(http.MethodDelete, "/open/"+id, nil), http.StatusForbidden, "permission_error", "forbidden")

		before := e2.Snapshot()
		body, ct := compattest.Multipart(t, compattest.Part{Field: "file", Filename: "b.txt", Content: []byte("b")},
			compattest.Part{Field: "conversation_id", Content: []byte("locked")})
		requireError(t, e2.Do(http.MethodPost, "/open", body, "Content-Type", ct), http.StatusForbidden, "permission_error", "forbidden")
		e2.RequireNothingStored(before)

		atts, err := e2.Service.Upload(t.Context(), nil, attachment.File{Name: hidden, Content: strings.NewReader("h")})
		require.NoError(t, err)
		for _, p := range []string{"/open/" + atts[0].ID, "/open/" + atts[0].ID + "/content"} {
			requireError(t, e2.Do(http.MethodGet, p, nil), http.StatusNotFound, "invalid_request_error", "not_found")
		}
	}
}

// TestOutage: a failure of the stores is a 5xx api_error whose message
// carries nothing of the server's internals.
func TestOutage(t *testing.T) {
	eachBackend(t, nil, func(t *testing.T, e *compattest.Env) {
		id := create(t, e, protocol.BasePath, "a.txt", []byte("a"))["id"].(string)
		require.NoError(t, e.Meta.Close())
		rec := e.Do(http.MethodGet, protocol.BasePath+"/"+id, nil, auth...)
		require.GreaterOrEqual(t, rec.Code, 500, rec.Body.String())
		m := decode(t, rec)
		inner := m["error"].(map[string]any)
		assert.Equal(t, "api_error", inner["type"])
		assert.NotContains(t, inner["message"], "sql")
	})
}
