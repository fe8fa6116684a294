// Package openapitest checks HTTP exchanges with the attachment Handler
// against the repository's OpenAPI document (attachment.OpenAPI()), for
// tests.
//
// Wrap (or New) puts a Validator in front of a handler. For every request
// it finds the documented operation (kin-openapi's gorillamux router),
// validates the request (path, query and header parameters, and the body:
// JSON, forms and multipart/form-data uploads are decoded and checked
// against their schemas), serves it, and validates what the handler wrote:
// the status must be one the operation documents, declared headers must be
// present and match, the Content-Type must be one the response lists, and
// JSON and problem+json bodies must match their schemas. Every mismatch is
// reported with t.Errorf, naming method, path and status.
//
// A request the document calls invalid must be refused: the handler must
// answer it with a 4xx status (which is then validated as any answer is).
// A request for a path or method the document does not have must be
// answered 404 or 405 with a valid problem.
package openapitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/attachkit/attachment"
)

// Limits on what a Validator buffers. A request body longer than
// MaxRequestBody is passed to the handler unvalidated (its parameters are
// still checked); a JSON response body longer than MaxResponseBody is
// reported as not validated. Binary bodies (downloads, thumbnails) are
// never buffered: their status, headers and content type are checked.
const (
	MaxRequestBody  = 32 << 20
	MaxResponseBody = 32 << 20
)

// Wrap returns a handler that serves h and checks every request it gets and
// every response h writes against the repository's OpenAPI document
// (attachment.OpenAPI()), with kin-openapi's openapi3filter, reporting each
// mismatch with t.Errorf (method, path, status, the validator's error).
// prefix is where h is mounted ("" or "/files" etc.).
func Wrap(t testing.TB, h http.Handler, prefix string) http.Handler {
	return New(t, h, prefix)
}

// Validator is the handler Wrap returns, with a record of what it saw.
// It is safe for concurrent use.
type Validator struct {
	t      testing.TB
	next   http.Handler
	prefix string
	doc    *openapi3.T
	router routers.Router

	mu       sync.Mutex
	count    int
	rejected int
	seen     map[string]int
}

// New is Wrap, returning the Validator itself, so that a test can ask what
// it saw (Count, Seen, Unseen).
func New(t testing.TB, h http.Handler, prefix string) *Validator {
	t.Helper()
	doc, err := LoadDocument()
	if err != nil {
		t.Fatalf("openapitest: %v", err)
	}
	// Route on paths relative to the mount: the prefix is stripped from
	// each request, and the document's relative server URL is left out.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("openapitest: router: %v", err)
	}
	return &Validator{
		t:      t,
		next:   h,
		prefix: strings.TrimRight(prefix, "/"),
		doc:    doc,
		router: router,
		seen:   map[string]int{},
	}
}

// LoadDocument loads attachment.OpenAPI() and validates it as an OpenAPI
// document.
func LoadDocument() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(attachment.OpenAPI())
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the OpenAPI document is not valid: %w", err)
	}
	return doc, nil
}

// Count returns how many exchanges the Validator has checked.
func (v *Validator) Count() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.count
}

// Rejected returns how many requests did not match the document (and were,
// as they must be, answered with a 4xx status).
func (v *Validator) Rejected() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.rejected
}

// Seen returns how often each documented response was seen, keyed
// "METHOD /path STATUS" with the document's path template, as in
// "GET /{id} 206". Requests for paths or methods the document does not
// have are keyed "METHOD ? STATUS".
func (v *Validator) Seen() map[string]int {
	v.mu.Lock()
	defer v.mu.Unlock()
	m := make(map[string]int, len(v.seen))
	for k, n := range v.seen {
		m[k] = n
	}
	return m
}

// Unseen returns the documented responses ("METHOD /path STATUS") the
// Validator has not seen, sorted.
func (v *Validator) Unseen() []string {
	seen := v.Seen()
	var out []string
	for _, k := range Responses(v.doc) {
		if seen[k] == 0 {
			out = append(out, k)
		}
	}
	return out
}

// Operations lists the document's operations as "METHOD /path", sorted.
func Operations(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// Responses lists the document's responses as "METHOD /path STATUS",
// sorted.
func Responses(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for status := range op.Responses.Map() {
				out = append(out, method+" "+path+" "+status)
			}
		}
	}
	slices.Sort(out)
	return out
}

// ServeHTTP validates r, serves it with the wrapped handler while
// capturing the response, and validates the response.
func (v *Validator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	where := r.Method + " " + r.URL.RequestURI()

	// The request as the document sees it: the path without the prefix,
	// and the body buffered (when not too long) for the handler to read
	// again.
	vreq := r.Clone(ctx)
	ep := r.URL.EscapedPath()
	rel, ok := strings.CutPrefix(ep, v.prefix)
	if !ok || (rel != "" && rel[0] != '/') {
		v.t.Errorf("openapitest: %s: the path is not under the prefix %q", where, v.prefix)
		v.mu.Lock()
		v.count++
		v.mu.Unlock()
		v.next.ServeHTTP(w, r)
		return
	}
	if rel == "" {
		rel = "/"
	}
	path, err := url.PathUnescape(rel)
	if err != nil {
		path = rel
	}
	vreq.URL = &url.URL{Path: path, RawPath: rel, RawQuery: r.URL.RawQuery}
	// The handler gets a shallow copy of r whose body starts with what was
	// buffered; r itself stays as the server made it.
	hr := r.WithContext(ctx)
	bodyChecked := true
	switch {
	case r.Body == nil || r.Body == http.NoBody:
		vreq.Body = http.NoBody
	case r.ContentLength > MaxRequestBody:
		vreq.Body, bodyChecked = http.NoBody, false
	default:
		data, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBody+1))
		if err != nil {
			v.t.Errorf("openapitest: %s: reading the request body: %v", where, err)
		}
		bodyChecked = len(data) <= MaxRequestBody && err == nil
		orig := r.Body
		hr.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(data), orig), orig}
		vreq.Body = io.NopCloser(bytes.NewReader(data))
		if !bodyChecked {
			vreq.Body = http.NoBody
		}
	}

	route, params, routeErr := v.router.FindRoute(vreq)
	var (
		input  *openapi3filter.RequestValidationInput
		reqErr error
	)
	if routeErr == nil {
		input = &openapi3filter.RequestValidationInput{
			Request:    vreq,
			PathParams: params,
			Route:      route,
			Options: &openapi3filter.Options{
				ExcludeRequestBody:      !bodyChecked,
				AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
				SkipSettingDefaults:     true,
				SchemaValidationOptions: schemaOpts,
			},
		}
		reqErr = openapi3filter.ValidateRequest(ctx, input)
	}

	cw := &captureWriter{ResponseWriter: w, capture: r.Method != http.MethodHead}
	v.next.ServeHTTP(cw, hr)
	status, hdr, body, truncated := cw.result()

	key := r.Method + " ? " + strconv.Itoa(status)
	if routeErr == nil {
		key = r.Method + " " + route.Path + " " + strconv.Itoa(status)
	}
	where = fmt.Sprintf("%s %s -> %d", r.Method, r.URL.RequestURI(), status)
	v.mu.Lock()
	v.count++
	v.seen[key]++
	if reqErr != nil {
		v.rejected++
	}
	v.mu.Unlock()

	if routeErr != nil {
		v.checkUnrouted(where, r, routeErr, status, hdr, body)
		return
	}
	if reqErr != nil && (status < 400 || status > 499) {
		v.t.Errorf("openapitest: %s: the request does not match the document, yet the handler answered %d: %v", where, status, reqErr)
	}
	v.checkResponse(ctx, where, input, status, hdr, body, truncated)
}

// checkUnrouted checks the answer to a request for a path or method the
// document does not have: a 404 or 405 problem.
func (v *Validator) checkUnrouted(where string, r *http.Request, routeErr error, status int, hdr http.Header, body []byte) {
	switch {
	case status == http.StatusMethodNotAllowed && routeErr == routers.ErrMethodNotAllowed:
		if hdr.Get("Allow") == "" {
			v.t.Errorf("openapitest: %s: a 405 without an Allow header", where)
		}
	case status == http.StatusNotFound && routeErr == routers.ErrPathNotFound:
	default:
		v.t.Errorf("openapitest: %s: the document has no such operation (%v), yet the handler answered %d", where, routeErr, status)
		return
	}
	if r.Method == http.MethodHead {
		return
	}
	if ct := hdr.Get("Content-Type"); ct != "application/problem+json" {
		v.t.Errorf("openapitest: %s: Content-Type %q, want application/problem+json", where, ct)
		return
	}
	if err := validateJSON(body, v.doc.Components.Schemas["Problem"].Value); err != nil {
		v.t.Errorf("openapitest: %s: the problem does not match the Problem schema: %v\nbody: %s", where, err, excerpt(body))
	}
}

// checkResponse validates a response to a request of a documented
// operation.
func (v *Validator) checkResponse(ctx context.Context, where string, input *openapi3filter.RequestValidationInput, status int, hdr http.Header, body []byte, truncated bool) {
	op := input.Route.Operation
	ref := op.Responses.Status(status)
	if ref == nil || ref.Value == nil {
		v.t.Errorf("openapitest: %s: status %d is not documented for %s %s", where, status, input.Route.Method, input.Route.Path)
		return
	}
	resp := ref.Value
	ct := hdr.Get("Content-Type")
	hasBody := input.Request.Method != http.MethodHead && status != http.StatusNoContent && status != http.StatusNotModified
	switch {
	case len(resp.Content) == 0 && hasBody && len(body) > 0:
		v.t.Errorf("openapitest: %s: a body (%s) where the document has none", where, ct)
	case len(resp.Content) > 0 && hasBody && len(body) == 0 && ct == "" && resp.Extensions["x-optional-body"] == true:
		// The document says this answer may come without a body (OpenAPI
		// 3.0 cannot say so otherwise): a resumable creation's 201.
	case len(resp.Content) > 0 && hasBody && resp.Content.Get(ct) == nil:
		v.t.Errorf("openapitest: %s: Content-Type %q is not one the document lists (%v)", where, ct, slices.Sorted(mapKeys(resp.Content)))
	}
	isJSON := isJSONType(ct)
	if truncated && isJSON {
		v.t.Errorf("openapitest: %s: the JSON body is longer than %d bytes and was not validated", where, MaxResponseBody)
	}

	in := input
	if input.Request.Method == http.MethodHead {
		// openapi3filter skips HEAD responses altogether; check their
		// status and headers against the HEAD operation as for a GET.
		c := *input
		c.Request = input.Request.Clone(ctx)
		c.Request.Method = http.MethodGet
		in = &c
	}
	err := openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 hdr,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus:   true,
			ExcludeResponseBody:     !hasBody || !isJSON || truncated,
			SchemaValidationOptions: schemaOpts,
		},
	})
	if err != nil {
		v.t.Errorf("openapitest: %s: the response does not match the document: %v\nbody: %s", where, err, excerpt(body))
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// isJSONType reports whether a Content-Type is JSON (application/json, or
// a +json type such as application/problem+json).
func isJSONType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// validateJSON checks a JSON body against a schema.
func validateJSON(body []byte, schema *openapi3.Schema) error {
	h := http.Header{"Content-Type": {"application/json"}}
	val, err := openapi3filter.JSONBodyDecoder(bytes.NewReader(body), h, nil, nil)
	if err != nil {
		return err
	}
	return schema.VisitJSON(val, openapi3.DisableSchemaErrorDetails(), openapi3.VisitAsResponse())
}

// schemaOpts keep schema errors short: the path in the value and the
// reason, without the whole schema and value.
var schemaOpts = []openapi3.SchemaValidationOption{openapi3.DisableSchemaErrorDetails()}

// excerpt returns the start of a body, for messages.
func excerpt(b []byte) string {
	const n = 512
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// captureWriter passes a response through to the client and keeps its
// status, its headers as they were when it was written, and (when capture
// is set) the first MaxResponseBody bytes of a JSON body.
type captureWriter struct {
	http.ResponseWriter
	capture bool

	mu        sync.Mutex
	status    int
	header    http.Header
	body      bytes.Buffer
	truncated bool
}

func (c *captureWriter) WriteHeader(status int) {
	c.mu.Lock()
	if c.status == 0 && status >= 200 {
		c.status = status
		c.header = c.ResponseWriter.Header().Clone()
	}
	c.mu.Unlock()
	c.ResponseWriter.WriteHeader(status)
}

func (c *captureWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.status == 0 {
		c.status = http.StatusOK
		c.header = c.ResponseWriter.Header().Clone()
	}
	if c.capture && isJSONType(c.header.Get("Content-Type")) {
		room := MaxResponseBody - c.body.Len()
		if len(p) > room {
			c.truncated = true
			c.body.Write(p[:room])
		} else {
			c.body.Write(p)
		}
	}
	c.mu.Unlock()
	return c.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (c *captureWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// Flush passes a flush on, when the underlying writer can.
func (c *captureWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// result returns what was written. A handler that wrote nothing answered
// 200 with no body, as net/http has it.
func (c *captureWriter) result() (status int, header http.Header, body []byte, truncated bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status == 0 {
		return http.StatusOK, c.ResponseWriter.Header().Clone(), nil, false
	}
	return c.status, c.header, c.body.Bytes(), c.truncated
}
