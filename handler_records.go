package attachment

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/attachkit/attachment/wire"
)

// maxJSONBody bounds the JSON and form bodies of PATCH, PUT, refs and
// POST /_status.
const maxJSONBody = 1 << 20

// readSmallBody reads r's JSON or form body, of at most maxJSONBody
// bytes, with read, under the idle limit of readBody, and answers when it
// fails.
func (h *Handler) readSmallBody(w http.ResponseWriter, r *http.Request, read func(body io.Reader) error) bool {
	if err := h.readBody(w, http.MaxBytesReader(w, r.Body, maxJSONBody), read); err != nil {
		h.writeError(w, r, err)
		return false
	}
	return true
}

// Decorate sets a's URL and ThumbnailURL as the native API's answers
// carry them, for a layer that answers with records of its own: base is
// the mount prefix as SplitPath returns it.
func (h *Handler) Decorate(base string, a *Attachment) { h.decorate(base, a) }

// decorate sets the URLs of a, which the Handler serves under base.
func (h *Handler) decorate(base string, a *Attachment) {
	a.URL = base + "/" + url.PathEscape(a.ID)
	if hasThumbnail(a.ContentType) {
		a.ThumbnailURL = a.URL + "/thumbnail"
	}
}

// Metadata handles GET /{id}/metadata: the record as JSON.
func (h *Handler) Metadata(w http.ResponseWriter, r *http.Request, id string) {
	_, _, a, err := h.authorize(r, OpRead, id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.decorate(h.base(r), a)
	writeJSON(w, r, http.StatusOK, "application/json", a)
}

// updateRequest is the body of PATCH and PUT /{id}.
type updateRequest struct {
	Filename *string          `json:"filename"`
	Owner    *string          `json:"owner"`
	Labels   *json.RawMessage `json:"labels"`
}

// Update handles PATCH and PUT /{id}: JSON {"filename", "owner", "labels"}
// or the same as form fields (labels as label.KEY); absent fields stay as
// they are, labels replace the whole set.
func (h *Handler) Update(w http.ResponseWriter, r *http.Request, id string) {
	_, svc, _, err := h.authorize(r, OpUpdate, id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var ch Change
	if !h.readSmallBody(w, r, func(body io.Reader) (err error) {
		ch, err = readChange(r, body)
		return err
	}) {
		return
	}
	a, err := svc.Update(r.Context(), id, ch)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.decorate(h.base(r), a)
	writeJSON(w, r, http.StatusOK, "application/json", a)
}

// readChange reads an update from the JSON or form body of r, read from
// body.
func readChange(r *http.Request, body io.Reader) (Change, error) {
	var ch Change
	if isForm(r) {
		form, err := readForm(r, body)
		if err != nil {
			return ch, err
		}
		if v, ok := form["filename"]; ok {
			ch.Filename = &v[0]
		}
		if v, ok := form["owner"]; ok {
			ch.Owner = &v[0]
		}
		for k, v := range form {
			if key, ok := strings.CutPrefix(k, labelPrefix); ok {
				if ch.Labels == nil {
					ch.Labels = map[string]string{}
				}
				ch.Labels[key] = v[0]
			}
		}
		return ch, nil
	}
	var req updateRequest
	if err := decodeJSON(r, body, &req); err != nil {
		return ch, err
	}
	ch.Filename, ch.Owner = req.Filename, req.Owner
	if req.Labels != nil && string(*req.Labels) != "null" {
		labels := map[string]string{}
		if err := json.Unmarshal(*req.Labels, &labels); err != nil {
			return ch, badRequest("labels must be an object of strings")
		}
		ch.Labels = labels
	}
	return ch, nil
}

func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data"
}

// readForm parses the form body of r (urlencoded or multipart, the latter
// without files), read from body, into values, refusing repeated fields.
func readForm(r *http.Request, body io.Reader) (url.Values, error) {
	// Parsed on a copy of r that reads body, leaving r.Body as the server
	// made it (net/http looks at it once the handler answers).
	r = r.WithContext(r.Context())
	r.Body = io.NopCloser(body)
	// ParseMultipartForm of a urlencoded body answers ErrNotMultipart and
	// drops the error of reading it: a body cut short would be an empty
	// form. Each kind is parsed by its own method.
	var err error
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		err = r.ParseMultipartForm(maxJSONBody)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, badRequest("malformed form body")
	}
	if r.MultipartForm != nil {
		defer r.MultipartForm.RemoveAll()
		if len(r.MultipartForm.File) > 0 {
			return nil, badRequest("this form takes no files")
		}
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return nil, badRequest("form field " + k + " is given more than once")
		}
	}
	return r.PostForm, nil
}

// decodeJSON decodes one JSON object from body, the body of r, into v.
func decodeJSON(r *http.Request, body io.Reader, v any) error {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "" && mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return badRequest("the body must be JSON (application/json) or a form")
	}
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return badRequest("the body is empty; a JSON object is expected")
		}
		return badRequest("the body is not a valid JSON object of the expected shape")
	}
	if dec.More() {
		return badRequest("the body has data after the JSON object")
	}
	return nil
}

// deleteResponse is the body of a successful DELETE.
type deleteResponse struct {
	ID     string `json:"id"`
	Result string `json:"result"`
}

// Delete handles DELETE /{id}: 409 referenced for an attachment with
// references, unless ?force=true.
func (h *Handler) Delete(w http.ResponseWriter, r *http.Request, id string) {
	force := false
	if v := r.URL.Query().Get("force"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			h.problem(w, r, http.StatusBadRequest, wire.CodeBadRequest, "force must be true or false")
			return
		}
		force = b
	}
	_, svc, _, err := h.authorize(r, OpDelete, id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := svc.Delete(r.Context(), id, &DeleteOptions{Force: force}); err != nil {
		if errors.Is(err, ErrReferenced) {
			err = inputErr(ErrReferenced, "attachment %s is referenced; delete with ?force=true to delete it anyway", id)
		}
		h.writeError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, "application/json", deleteResponse{ID: id, Result: "deleted"})
}

// refRequest is the body of POST /{id}/refs.
type refRequest struct {
	Ref string `json:"ref"`
}

// AddRef handles POST /{id}/refs with {"ref": "..."} (or a form field ref).
func (h *Handler) AddRef(w http.ResponseWriter, r *http.Request, id string) {
	_, svc, _, err := h.authorize(r, OpRef, id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var req refRequest
	if !h.readSmallBody(w, r, func(body io.Reader) error {
		if !isForm(r) {
			return decodeJSON(r, body, &req)
		}
		form, err := readForm(r, body)
		req.Ref = form.Get("ref")
		return err
	}) {
		return
	}
	a, err := svc.AddRef(r.Context(), id, req.Ref)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.decorate(h.base(r), a)
	writeJSON(w, r, http.StatusOK, "application/json", a)
}

// RemoveRef handles DELETE /{id}/refs/{ref}, ref path-escaped.
func (h *Handler) RemoveRef(w http.ResponseWriter, r *http.Request, id, ref string) {
	_, svc, _, err := h.authorize(r, OpRef, id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	a, err := svc.RemoveRef(r.Context(), id, ref)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.decorate(h.base(r), a)
	writeJSON(w, r, http.StatusOK, "application/json", a)
}
