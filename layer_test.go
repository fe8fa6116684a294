package attachment_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
)

// tinyDialect is a sixth dialect written in one file, as a host would
// write its own API shape over the Service: it uses only the exported
// layer API (WithProblemWriter, Authorize, ReadUpload, ReadBody,
// ServeContent, WriteError, SplitPath) and answers errors as
// {"oops": detail, "status": N}.
type tinyDialect struct{ h *attachment.Handler }

func newTinyDialect(native *attachment.Handler) *tinyDialect {
	return &tinyDialect{native.WithProblemWriter(func(w http.ResponseWriter, r *http.Request, p *attachment.Problem) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(p.Status)
		if r.Method != http.MethodHead {
			_ = json.NewEncoder(w).Encode(map[string]any{"oops": p.Detail, "status": p.Status})
		}
	})}
}

func (d *tinyDialect) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, rel := attachment.SplitPath(r, "/tiny")
	id, rest, _ := strings.Cut(strings.TrimPrefix(rel, "/"), "/")
	switch {
	case rel == "/files" && r.Method == http.MethodPost:
		c, svc, _, err := d.h.Authorize(r, attachment.OpUpload, "")
		if err != nil {
			d.h.WriteError(w, r, err)
			return
		}
		atts, err := d.h.ReadUpload(w, r, svc, c, &attachment.UploadRequest{
			FileFields: []string{"doc"},
			MaxFiles:   1,
			Fields: func(f url.Values, final bool, o *attachment.UploadOptions) error {
				if g := f["group"]; len(g) > 0 {
					o.Labels = map[string]string{"group": g[0]}
				} else if final {
					return &attachment.Error{Kind: attachment.ErrInvalid, Detail: "group is required"}
				}
				return nil
			},
		})
		if err != nil {
			d.h.WriteError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(atts)
	case id == "files" && rest != "" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		_, _, a, err := d.h.Authorize(r, attachment.OpDownload, rest)
		if err != nil {
			d.h.WriteError(w, r, err)
			return
		}
		d.h.ServeContent(w, r, a, &attachment.ServeOptions{Inline: r.URL.Query().Has("view")})
	case id == "names" && rest != "" && r.Method == http.MethodPut:
		_, svc, _, err := d.h.Authorize(r, attachment.OpUpdate, rest)
		if err != nil {
			d.h.WriteError(w, r, err)
			return
		}
		b, err := d.h.ReadBody(w, r, 64)
		if err != nil {
			d.h.WriteError(w, r, err)
			return
		}
		name := string(b)
		a, err := svc.Update(r.Context(), rest, attachment.Change{Filename: &name})
		if err != nil {
			d.h.WriteError(w, r, err)
			return
		}
		_ = json.NewEncoder(w).Encode(a)
	default:
		d.h.WriteError(w, r, &attachment.Error{Kind: attachment.ErrNotFound, Detail: "no such route"})
	}
}

// tinyAccess wants "Bearer ok", hides attachments labelled hidden=yes
// and refuses uploads labelled group=forbidden.
func tinyAccess() attachment.Access {
	return attachment.AccessFuncs{
		IdentifyFunc: func(r *http.Request) (attachment.Caller, error) {
			if r.Header.Get("Authorization") != "Bearer ok" {
				return attachment.Caller{}, attachment.ErrUnauthorized
			}
			return attachment.Caller{Name: "ann"}, nil
		},
		AllowFunc: func(r *http.Request, c attachment.Caller, op attachment.Operation, a *attachment.Attachment) error {
			switch {
			case a == nil:
			case a.Labels["hidden"] == "yes":
				return attachment.ErrNotFound
			case op == attachment.OpUpload && a.Labels["group"] == "forbidden":
				return attachment.ErrForbidden
			}
			return nil
		},
	}
}

func httptestRequest(method, target string) *http.Request {
	return httptest.NewRequest(method, target, nil)
}

// tinyAnswer decodes the tiny dialect's error body and checks it.
func tinyAnswer(t *testing.T, status int, body []byte, hdr http.Header) string {
	t.Helper()
	var got struct {
		Oops   string `json:"oops"`
		Status int    `json:"status"`
	}
	require.NoError(t, json.Unmarshal(body, &got), string(body))
	require.Equal(t, status, got.Status, string(body))
	require.Equal(t, "application/json", hdr.Get("Content-Type"))
	return got.Oops
}

func TestLayerAPI(t *testing.T) {
	for _, be := range []backend{backends()[1], backends()[3]} {
		t.Run(be.name, func(t *testing.T) {
			e := newEnv(t, be, nil)
			native := attachment.NewHandler(e.svc, &attachment.HandlerOptions{Access: tinyAccess()})
			mux := http.NewServeMux()
			mux.Handle("/tiny/", newTinyDialect(native))
			do := func(method, target string, body []byte, hdr ...string) (int, http.Header, []byte) {
				t.Helper()
				var rd io.Reader
				if body != nil {
					rd = bytes.NewReader(body)
				}
				req := httptest.NewRequest(method, target, rd)
				for i := 0; i+1 < len(hdr); i += 2 {
					req.Header.Set(hdr[i], hdr[i+1])
				}
				rec := newRecorder()
				mux.ServeHTTP(rec, req)
				return rec.Code, rec.Header(), rec.Body.Bytes()
			}
			auth := []string{"Authorization", "Bearer ok"}

			// A field sent after the file still labels it, and an image's
			// dimensions are in the upload's answer.
			img := pngBytes(t, 40, 30)
			body, ct := multipartBody(t, part{field: "doc", filename: "a.png", content: img}, part{field: "group", content: []byte("g1")})
			status, _, out := do("POST", "/tiny/files", body.Bytes(), append(auth, "Content-Type", ct)...)
			require.Equal(t, http.StatusCreated, status, string(out))
			var atts []attachment.Attachment
			require.NoError(t, json.Unmarshal(out, &atts))
			require.Len(t, atts, 1)
			assert.Equal(t, map[string]string{"group": "g1"}, atts[0].Labels)
			assert.Equal(t, "ann", atts[0].CreatedBy)
			assert.Equal(t, 40, atts[0].Width)
			assert.Equal(t, 30, atts[0].Height)
			assert.True(t, e.svc.Thumbnailable(&atts[0]))
			page, err := e.svc.List(t.Context(), &attachment.ListOptions{Labels: map[string]string{"group": "g1"}})
			require.NoError(t, err)
			require.Len(t, page.Attachments, 1, "the native listing finds the label set by a late field")
			id := atts[0].ID

			// A late field that makes the hook refuse the upload: 403 in the
			// dialect's body, nothing stored.
			before := e.count()
			body, ct = multipartBody(t, part{field: "doc", filename: "b.txt", content: []byte("hello")}, part{field: "group", content: []byte("forbidden")})
			status, hdr, out := do("POST", "/tiny/files", body.Bytes(), append(auth, "Content-Type", ct)...)
			require.Equal(t, http.StatusForbidden, status)
			tinyAnswer(t, http.StatusForbidden, out, hdr)
			assert.Equal(t, before, e.count())
			var content []string
			for _, k := range e.keys() {
				if strings.HasPrefix(k, "content/") {
					content = append(content, k)
				}
			}
			assert.Len(t, content, 1, "the refused upload's content is removed")

			// A second file, over this dialect's MaxFiles: nothing stored.
			body, ct = multipartBody(t, part{field: "doc", filename: "c.txt", content: []byte("c")}, part{field: "doc", filename: "d.txt", content: []byte("d")})
			status, hdr, out = do("POST", "/tiny/files", body.Bytes(), append(auth, "Content-Type", ct)...)
			require.Equal(t, http.StatusBadRequest, status)
			tinyAnswer(t, http.StatusBadRequest, out, hdr)
			assert.Equal(t, before, e.count())

			// A required field that never comes: refused before the commit.
			body, ct = multipartBody(t, part{field: "doc", filename: "e.txt", content: []byte("e")})
			status, hdr, out = do("POST", "/tiny/files", body.Bytes(), append(auth, "Content-Type", ct)...)
			require.Equal(t, http.StatusBadRequest, status)
			assert.Equal(t, "group is required", tinyAnswer(t, http.StatusBadRequest, out, hdr))
			assert.Equal(t, before, e.count())

			// A raw body, which this dialect does not take.
			status, hdr, out = do("POST", "/tiny/files", []byte("raw"), append(auth, "Content-Type", "text/plain")...)
			require.Equal(t, http.StatusBadRequest, status)
			tinyAnswer(t, http.StatusBadRequest, out, hdr)

			// No credential: 401 in the dialect's body.
			status, hdr, out = do("GET", "/tiny/files/"+id, nil)
			require.Equal(t, http.StatusUnauthorized, status)
			tinyAnswer(t, http.StatusUnauthorized, out, hdr)

			// Content, inline only for a safe type.
			status, hdr, out = do("GET", "/tiny/files/"+id+"?view=1", nil, auth...)
			require.Equal(t, http.StatusOK, status)
			assert.Equal(t, img, out)
			assert.Equal(t, "image/png", hdr.Get("Content-Type"))
			assert.Equal(t, `inline; filename="a.png"`, hdr.Get("Content-Disposition"))
			assert.Equal(t, "nosniff", hdr.Get("X-Content-Type-Options"))
			html, err := e.svc.Upload(t.Context(), nil, attachment.File{Name: "x.html", Content: strings.NewReader("<html><script>alert(1)</script></html>")})
			require.NoError(t, err)
			status, hdr, _ = do("GET", "/tiny/files/"+html[0].ID+"?view=1", nil, auth...)
			require.Equal(t, http.StatusOK, status)
			assert.Equal(t, `attachment; filename="x.html"`, hdr.Get("Content-Disposition"))
			assert.False(t, e.svc.Thumbnailable(html[0]))

			// A range that cannot be satisfied: 416 in the dialect's body.
			status, hdr, out = do("GET", "/tiny/files/"+id, nil, append(auth, "Range", "bytes=99999-")...)
			require.Equal(t, http.StatusRequestedRangeNotSatisfiable, status)
			tinyAnswer(t, http.StatusRequestedRangeNotSatisfiable, out, hdr)
			assert.Equal(t, "bytes */"+strconv.Itoa(len(img)), hdr.Get("Content-Range"))

			// A hidden attachment answers exactly as a missing one.
			hidden, err := e.svc.Upload(t.Context(), &attachment.UploadOptions{Labels: map[string]string{"hidden": "yes"}}, attachment.File{Name: "h.txt", Content: strings.NewReader("h")})
			require.NoError(t, err)
			other := uuid.Must(uuid.NewV7()).String()
			_, _, missing := do("GET", "/tiny/files/"+other, nil, auth...)
			status, _, hid := do("GET", "/tiny/files/"+hidden[0].ID, nil, auth...)
			require.Equal(t, http.StatusNotFound, status)
			assert.Equal(t, strings.ReplaceAll(string(missing), other, "ID"), strings.ReplaceAll(string(hid), hidden[0].ID, "ID"))

			// ReadBody's limit: 413 in the dialect's body, nothing renamed.
			status, hdr, out = do("PUT", "/tiny/names/"+id, bytes.Repeat([]byte("n"), 65), auth...)
			require.Equal(t, http.StatusRequestEntityTooLarge, status)
			tinyAnswer(t, http.StatusRequestEntityTooLarge, out, hdr)
			got, err := e.svc.Get(t.Context(), id)
			require.NoError(t, err)
			assert.Equal(t, "a.png", got.Filename)
			status, _, out = do("PUT", "/tiny/names/"+id, []byte("b.png"), auth...)
			require.Equal(t, http.StatusOK, status, string(out))
			got, err = e.svc.Get(t.Context(), id)
			require.NoError(t, err)
			assert.Equal(t, "b.png", got.Filename)
		})
	}
}

// TestUploadDimensionsPastTheHead: a JPEG whose frame header comes after
// a large comment block (as a large EXIF or ICC block puts it) still has
// its dimensions in the upload's answer, read back from the stored
// content.
func TestUploadDimensionsPastTheHead(t *testing.T) {
	e := newEnv(t, backends()[1], nil)
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 33, 17)), nil))
	src := buf.Bytes()
	com := []byte{0xFF, 0xFE, 0x20, 0x02} // COM segment of 0x2002 bytes, length included
	com = append(com, bytes.Repeat([]byte("c"), 0x2000)...)
	withCom := append(append(append([]byte{}, src[:2]...), com...), src[2:]...)
	require.Greater(t, bytes.Index(withCom, []byte{0xFF, 0xC0}), 4096, "the frame header must lie past the first bytes")
	atts, err := e.svc.Upload(t.Context(), nil, attachment.File{Name: "big-exif.jpg", Content: bytes.NewReader(withCom)})
	require.NoError(t, err)
	assert.Equal(t, "image/jpeg", atts[0].ContentType)
	assert.Equal(t, 33, atts[0].Width)
	assert.Equal(t, 17, atts[0].Height)

	// Not an image: no dimensions, and no error.
	atts, err = e.svc.Upload(t.Context(), nil, attachment.File{Name: "a.txt", Content: strings.NewReader("text")})
	require.NoError(t, err)
	assert.Zero(t, atts[0].Width)
	// An image type whose header is broken: no dimensions, still stored.
	broken := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte("x"), 100)...)
	atts, err = e.svc.Upload(t.Context(), nil, attachment.File{Name: "broken.png", Content: bytes.NewReader(broken)})
	require.NoError(t, err)
	assert.Zero(t, atts[0].Width)
}

func TestWithProblemWriterLeavesTheHandler(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	h := attachment.NewHandler(e.svc, nil)
	called := false
	v := h.WithProblemWriter(func(w http.ResponseWriter, r *http.Request, p *attachment.Problem) {
		called = true
		w.WriteHeader(p.Status)
	})
	rec := newRecorder()
	h.WriteError(rec, httptestRequest("GET", "/x"), attachment.ErrNotFound)
	assert.False(t, called)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	rec = newRecorder()
	v.WriteError(rec, httptestRequest("GET", "/x"), errors.New("boom"))
	assert.True(t, called)
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
}

// CursorAfter continues a listing after any of its items, as NextCursor
// does after a page's last, in both orders.
func TestCursorAfter(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	var ids []string
	for i := range 5 {
		atts, err := e.svc.Upload(t.Context(), nil, attachment.File{Name: strconv.Itoa(i) + ".txt", Content: strings.NewReader("x")})
		require.NoError(t, err)
		ids = append(ids, atts[0].ID)
	}
	for _, asc := range []bool{true, false} {
		page, err := e.svc.List(t.Context(), &attachment.ListOptions{Limit: 2, Ascending: asc})
		require.NoError(t, err)
		c, err := attachment.CursorAfter(page.Attachments[1].ID)
		require.NoError(t, err)
		assert.Equal(t, page.NextCursor, c)
		next, err := e.svc.List(t.Context(), &attachment.ListOptions{Limit: 2, Ascending: asc, Cursor: c})
		require.NoError(t, err)
		want := ids[2:4]
		if !asc {
			want = []string{ids[2], ids[1]}
		}
		got := []string{next.Attachments[0].ID, next.Attachments[1].ID}
		assert.Equal(t, want, got, "ascending %v", asc)
	}
	for _, bad := range []string{"", "x", "../etc", strings.ReplaceAll(ids[0], "-", "")} {
		_, err := attachment.CursorAfter(bad)
		assert.ErrorIs(t, err, attachment.ErrInvalid, bad)
	}
}

// Identify and Allowed are Authorize in two halves, for a request about
// many attachments: a hidden attachment errs as a missing one.
func TestIdentifyAllowed(t *testing.T) {
	e := newEnv(t, backends()[0], nil)
	h := attachment.NewHandler(e.svc, &attachment.HandlerOptions{Access: tinyAccess()})
	_, _, err := h.Identify(httptestRequest("POST", "/_status"))
	require.ErrorIs(t, err, attachment.ErrUnauthorized)

	r := httptestRequest("POST", "/_status")
	r.Header.Set("Authorization", "Bearer ok")
	c, svc, err := h.Identify(r)
	require.NoError(t, err)
	assert.Equal(t, "ann", c.Name)
	shown, err := svc.Upload(t.Context(), nil, attachment.File{Name: "a.txt", Content: strings.NewReader("a")})
	require.NoError(t, err)
	// Uploaded around the hook, which would refuse to make what it hides.
	hidden, err := e.svc.Upload(t.Context(), &attachment.UploadOptions{Labels: map[string]string{"hidden": "yes"}}, attachment.File{Name: "h.txt", Content: strings.NewReader("h")})
	require.NoError(t, err)
	assert.NoError(t, h.Allowed(r, c, attachment.OpStatus, shown[0]))
	err = h.Allowed(r, c, attachment.OpStatus, hidden[0])
	require.ErrorIs(t, err, attachment.ErrNotFound)
	assert.Contains(t, err.Error(), hidden[0].ID, "as a missing ID's error names it")
}
