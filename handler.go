package attachment

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/attachkit/attachment/wire"
)

// Defaults for HandlerOptions fields left zero.
const (
	DefaultMaxRequestSize = 1 << 30 // 1 GiB
	DefaultMaxParts       = 128
	DefaultMaxRanges      = 64

	DefaultMaxStatusWaits    = 1000
	DefaultUploadIdleTimeout = 30 * time.Second
)

// HandlerOptions configures a Handler: how it is mounted, who may do what,
// signed URLs, and the limits only HTTP requests have (the Service's own
// limits are in Options). The zero value, or a nil *HandlerOptions, means
// the documented defaults, and the numeric fields follow the rule of
// Options: zero means the default, Off (-1) means no limit, and any other
// negative value is invalid (see Validate).
type HandlerOptions struct {
	// Prefix is the path the handler is mounted under, such as
	// "/attachments". When requests arrive with it (mux.Handle without
	// http.StripPrefix, chi's Mount, echo and gin groups), the handler
	// strips it itself. When a host strips it with http.StripPrefix, the
	// handler finds it from the request and Prefix may be left empty.
	// Either way every URL the API returns includes it.
	Prefix string
	// Access is the host's access hook. Nil lets every caller do
	// everything in the default tenant "".
	Access Access
	// MaxRequestSize is the most bytes the Handler reads of one upload
	// request body: all its files and the multipart framing. A body whose
	// Content-Length is over it is answered 413 too_large before any of it
	// is read (and without a 100 Continue); a longer body without a length
	// is cut off there, answered 413 too_large, and nothing is stored. Zero
	// means DefaultMaxRequestSize (1 GiB), or the Service's
	// Options.MaxFileSize plus 1 MiB when that is more, or no limit when
	// MaxFileSize is Off. Off means no limit.
	MaxRequestSize int64
	// MaxParts bounds the parts (files and text fields) of one multipart
	// upload; more are answered 400 bad_request. Zero means
	// DefaultMaxParts (128); Off means no limit.
	MaxParts int
	// MaxRanges is the most ranges the Handler serves from one Range
	// header (a download or a thumbnail); a request asking for more is
	// answered 416 bad_request (the detail says why), which a client can
	// follow with fewer ranges or none. net/http's own rules apply below
	// it (ranges that overlap so much that they add up to more than the
	// content are ignored: the whole content is served). Zero means
	// DefaultMaxRanges (64); Off means no limit (net/http's rules only).
	MaxRanges int
	// MaxStatusWaits bounds the status requests with ?wait= that wait at
	// once (each holds a request and looks at the store every
	// Options.Processing.PollInterval); one more is answered 503
	// unavailable with a Retry-After header. A status request without
	// ?wait= is never refused. Zero means DefaultMaxStatusWaits (1000);
	// Off means no limit.
	MaxStatusWaits int
	// UploadIdleTimeout is the longest a request body may stall, for
	// every body the Handler reads: an upload's, and the JSON or form
	// bodies of PATCH and PUT /{id}, POST /{id}/refs and POST /_status.
	// The Handler cuts a request when no data of its body has come for
	// that long (and when less than 1 KiB has come in that time, so a
	// client cannot hold a request by trickling a byte at a time; a body
	// smaller than that must all come within it), answers it 408
	// bad_request, closes the connection and changes nothing: an upload
	// stores nothing, a record is left as it was. A body that a route
	// does not read (DELETE, a GET with a body) is bounded too when the
	// request comes through ServeHTTP: the answer is sent once it has
	// stalled that long, and the connection closed. It uses read deadlines
	// on the connection (http.ResponseController); where the
	// ResponseWriter has none (an httptest.ResponseRecorder, a
	// middleware's writer without an Unwrap method) bodies are not
	// limited. Zero means DefaultUploadIdleTimeout (30 s); Off means no
	// limit.
	UploadIdleTimeout time.Duration
	// Logger receives the handler's logs (server errors, with their
	// detail, which clients never see). Nil means the Service's logger.
	Logger *slog.Logger
	// Signer enables signed URLs (POST /{id}/signed-url, and GET and HEAD
	// of /{id} and /{id}/thumbnail with a signature in the query string)
	// with the host's keys and lifetimes. Nil, the default, disables them:
	// there is no built-in key; the route is a 404 and a signed query
	// string is refused with 403, never honoured.
	Signer *Signer
	// CrossOrigin, when set, refuses browsers' cross-origin requests that
	// can change something (every method but GET, HEAD and OPTIONS), as
	// its Check judges them: by Sec-Fetch-Site, or else by Origin against
	// Host. They are answered 403 forbidden (problem+json) before the
	// access hook runs, by ServeHTTP and the exported operations alike;
	// its deny handler is not used. Requests not sent by a browser (with
	// neither header) pass, and so do origins added with AddTrustedOrigin.
	// Nil, the default, checks nothing.
	//
	// A host whose Access hook authenticates with cookies must set it
	// (http.NewCrossOriginProtection()): a multipart upload, a POST of
	// /{id}/refs or /{id}/signed-url from a form or fetch on another site
	// is a "simple" request, which the browser sends with the user's
	// cookies and without asking first (see docs/security.md). Hosts that
	// authenticate with a header (a bearer token) need not.
	CrossOrigin *http.CrossOriginProtection
	// Uploads, when set, serves resumable uploads: ServeHTTP hands it
	// every request for {prefix}/uploads, {prefix}/uploads/ and
	// {prefix}/uploads/{id} before its own routing (the package
	// resumable's tus layer is one). Nil, the default, leaves those paths
	// 404 as every path the API does not define.
	Uploads Layer
}

// Layer serves requests that a Handler hands over to it
// (HandlerOptions.Uploads), with the Handler's exported API (Authorize,
// WriteError, ReadStream, ...) for the access flow, bodies and errors.
type Layer interface {
	// ServeLayer answers r, a request for a path the Handler hands over.
	ServeLayer(h *Handler, w http.ResponseWriter, r *http.Request)
}

// Validate reports an error wrapping ErrInvalidOptions, naming the field,
// for each field of o outside its documented range; NewHandler panics with
// that error. A nil o is valid.
func (o *HandlerOptions) Validate() error {
	if o == nil {
		return nil
	}
	c := *o
	return c.fill(DefaultMaxRequestSize)
}

// fill applies the rule of Options to o's limits, with defRequest as
// MaxRequestSize's default.
func (o *HandlerOptions) fill(defRequest int64) error {
	var k checker
	set(&k, "HandlerOptions.MaxRequestSize", &o.MaxRequestSize, defRequest, 1, "no limit")
	set(&k, "HandlerOptions.MaxParts", &o.MaxParts, DefaultMaxParts, 1, "no limit")
	set(&k, "HandlerOptions.MaxRanges", &o.MaxRanges, DefaultMaxRanges, 1, "no limit")
	set(&k, "HandlerOptions.MaxStatusWaits", &o.MaxStatusWaits, DefaultMaxStatusWaits, 1, "no limit")
	set(&k, "HandlerOptions.UploadIdleTimeout", &o.UploadIdleTimeout, DefaultUploadIdleTimeout, 1, "no limit")
	return k.err()
}

// defaultMaxRequestSize is HandlerOptions.MaxRequestSize when it is zero,
// for a Service whose largest file is maxFile bytes (Off: no limit): the
// default, or room for one largest file and its framing.
func defaultMaxRequestSize(maxFile int64) int64 {
	const framing = 1 << 20
	switch {
	case maxFile == Off || maxFile > math.MaxInt64-framing:
		return Off
	default:
		return max(DefaultMaxRequestSize, maxFile+framing)
	}
}

// Handler serves the attachment HTTP API (see docs/api.md) for a Service.
// Mount it under any prefix; its operations are also exported one by one
// for hosts that route with their own router.
type Handler struct {
	svc    *Service
	prefix string
	access Access
	opts   HandlerOptions
	log    *slog.Logger
	signer *Signer
	// waits counts the status requests waiting now (MaxStatusWaits); a
	// view made by WithProblemWriter shares it.
	waits *atomic.Int64
	// writeProblem, when set, writes error answers (WithProblemWriter).
	writeProblem ProblemWriter
}

var _ http.Handler = (*Handler)(nil)

// NewHandler returns a Handler serving svc. A nil opts means defaults.
// Options outside their range are a programming error: NewHandler panics
// with the error of opts.Validate, which a host that reads its limits from
// configuration can call first.
func NewHandler(svc *Service, opts *HandlerOptions) *Handler {
	var o HandlerOptions
	if opts != nil {
		o = *opts
	}
	if err := o.fill(defaultMaxRequestSize(svc.core.opts.MaxFileSize)); err != nil {
		panic(err)
	}
	if o.Access == nil {
		o.Access = AccessFuncs{}
	}
	if o.Logger == nil {
		o.Logger = svc.core.log
	}
	return &Handler{
		svc:    svc,
		prefix: strings.TrimRight(o.Prefix, "/"),
		access: o.Access,
		opts:   o,
		log:    o.Logger,
		signer: o.Signer,
		waits:  new(atomic.Int64),
	}
}

// Options returns the options in force, defaults filled in (MaxRequestSize
// as computed from the Service's MaxFileSize; Off kept as -1). It returns
// a copy: changing it changes nothing in the Handler.
func (h *Handler) Options() HandlerOptions { return h.opts }

// ServeHTTP routes a request to one of the API's operations.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.BoundBody(w, r)
	_, rel := h.split(r)
	if h.opts.Uploads != nil && uploadsPath(rel) {
		h.opts.Uploads.ServeLayer(h, w, r)
		return
	}
	trimmed := strings.Trim(rel, "/")
	switch {
	case trimmed == "":
		switch r.Method {
		case http.MethodPost:
			h.Upload(w, r)
		case http.MethodGet, http.MethodHead:
			h.List(w, r)
		default:
			h.methodNotAllowed(w, r, "GET, HEAD, POST")
		}
		return
	case trimmed == "_status" && !strings.HasSuffix(rel, "/"):
		if h.allow(w, r, http.MethodPost) {
			h.StatusMany(w, r)
		}
		return
	case trimmed == "openapi.json" && !strings.HasSuffix(rel, "/"):
		// The API's description (openapi.go); no ID is "openapi.json".
		if h.allow(w, r, http.MethodGet, http.MethodHead) {
			h.serveOpenAPI(w, r)
		}
		return
	}
	segs := strings.Split(trimmed, "/")
	id, ok := unescapeSegment(segs[0])
	if !ok || strings.HasSuffix(rel, "/") || len(segs) > 3 {
		// "/{id}/" and the like name nothing.
		h.problem(w, r, http.StatusNotFound, wire.CodeNotFound, "no such route")
		return
	}
	var (
		methods []string
		serve   func()
	)
	switch {
	case len(segs) == 1:
		methods = []string{http.MethodGet, http.MethodHead, http.MethodPatch, http.MethodPut, http.MethodDelete}
		serve = func() {
			switch r.Method {
			case http.MethodGet, http.MethodHead:
				h.Download(w, r, id)
			case http.MethodPatch, http.MethodPut:
				h.Update(w, r, id)
			default:
				h.Delete(w, r, id)
			}
		}
	case len(segs) == 2 && segs[1] == "metadata":
		methods, serve = []string{http.MethodGet, http.MethodHead}, func() { h.Metadata(w, r, id) }
	case len(segs) == 2 && segs[1] == "thumbnail":
		methods, serve = []string{http.MethodGet, http.MethodHead}, func() { h.Thumbnail(w, r, id) }
	case len(segs) == 2 && segs[1] == "status":
		methods, serve = []string{http.MethodGet, http.MethodHead}, func() { h.Status(w, r, id) }
	case len(segs) == 2 && segs[1] == "refs":
		methods, serve = []string{http.MethodPost}, func() { h.AddRef(w, r, id) }
	case len(segs) == 2 && segs[1] == "signed-url" && h.signer != nil:
		methods, serve = []string{http.MethodPost}, func() { h.CreateSignedURL(w, r, id) }
	case len(segs) == 3 && segs[1] == "refs":
		ref, ok := unescapeSegment(segs[2])
		if ok {
			methods, serve = []string{http.MethodDelete}, func() { h.RemoveRef(w, r, id, ref) }
		}
	}
	if serve == nil {
		h.problem(w, r, http.StatusNotFound, wire.CodeNotFound, "no such route")
		return
	}
	if h.allow(w, r, methods...) {
		serve()
	}
}

// uploadsPath reports whether rel, a path below the prefix, is one that
// HandlerOptions.Uploads serves: /uploads, /uploads/ or /uploads/{id}.
func uploadsPath(rel string) bool {
	rest, ok := strings.CutPrefix(rel, "/uploads")
	return ok && (rest == "" || rest == "/" || (rest[0] == '/' && !strings.Contains(rest[1:], "/")))
}

// allow reports whether r's method is one of methods, and answers 405
// (with an Allow header) when it is not.
func (h *Handler) allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	h.methodNotAllowed(w, r, strings.Join(methods, ", "))
	return false
}

func unescapeSegment(s string) (string, bool) {
	v, err := url.PathUnescape(s)
	return v, err == nil && v != ""
}

// split returns the prefix of r's path that the handler is mounted under
// and the rest (SplitPath).
func (h *Handler) split(r *http.Request) (base, rel string) { return SplitPath(r, h.prefix) }

// SplitPath splits r's escaped path into the path a handler is mounted
// under and the rest, as the Handler does for its own routes, for layers
// that route their own requests: when the path starts with prefix (a
// mount point without a trailing slash, such as "/attachment"), base is
// prefix; when a router stripped a prefix before the handler
// (http.StripPrefix), base is what was stripped, found from
// r.RequestURI; else base is prefix and rel the whole path. A layer puts
// base in front of the URLs it returns.
func SplitPath(r *http.Request, prefix string) (base, rel string) {
	prefix = strings.TrimRight(prefix, "/")
	ep := r.URL.EscapedPath()
	if prefix != "" && (ep == prefix || strings.HasPrefix(ep, prefix+"/")) {
		return prefix, ep[len(prefix):]
	}
	if r.RequestURI != "" {
		if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
			orig := u.EscapedPath()
			if orig != ep && strings.HasSuffix(orig, ep) {
				return strings.TrimRight(orig[:len(orig)-len(ep)], "/"), ep
			}
		}
	}
	return prefix, ep
}

// base returns the prefix for URLs in answers to r.
func (h *Handler) base(r *http.Request) string {
	b, _ := h.split(r)
	return b
}

func (h *Handler) methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	h.problem(w, r, http.StatusMethodNotAllowed, wire.CodeBadRequest, "method "+r.Method+" is not allowed here; allowed: "+allow)
}

// identify asks the access hook who the caller is and returns the service
// view of the caller's tenant, after the cross-origin check
// (HandlerOptions.CrossOrigin) when there is one. The view's uploads and
// updates are checked by the hook again before their commit (see
// commitCheck). id is the attachment the request is about, if any: a hook
// that hides it (ErrNotFound) gets the answer of a missing one.
func (h *Handler) identify(r *http.Request, id string) (Caller, *Service, error) {
	if h.opts.CrossOrigin != nil {
		if err := h.opts.CrossOrigin.Check(r); err != nil {
			return Caller{}, nil, &Error{Kind: ErrForbidden, Detail: "cross-origin request refused: " + err.Error()}
		}
	}
	c, err := h.access.Identify(r)
	if err != nil {
		return Caller{}, nil, accessError(err, ErrUnauthorized, id)
	}
	return c, h.svc.ForTenant(c.Tenant).WithCommitCheck(h.commitCheck(r, c)), nil
}

// authorize identifies the caller and checks op. For op on one attachment
// (id non-empty) it loads it in the caller's tenant first.
//
// A GET or HEAD for OpDownload or OpThumbnail that carries a signed-URL
// query string is judged by its signature alone (see authorizeSigned).
func (h *Handler) authorize(r *http.Request, op Operation, id string) (Caller, *Service, *Attachment, error) {
	if (op == OpDownload || op == OpThumbnail) && id != "" && signedRequest(r) {
		return h.authorizeSigned(r, id)
	}
	c, svc, err := h.identify(r, id)
	if err != nil {
		return Caller{}, nil, nil, err
	}
	var a *Attachment
	if id != "" {
		if a, err = svc.Get(r.Context(), id); err != nil {
			return Caller{}, nil, nil, err
		}
	}
	if err := h.access.Allow(r, c, op, a); err != nil {
		return Caller{}, nil, nil, accessError(err, ErrForbidden, id)
	}
	return c, svc, a, nil
}

// accessError turns an access hook's error into one the problem mapping
// knows, defaulting to def; the hook's own text is never sent to clients.
// An attachment the hook hides (ErrNotFound) is answered exactly as a
// missing one: with notFound(id), the one error every route gives for an
// ID that does not exist.
func accessError(err, def error, id string) error {
	for _, k := range []error{ErrNotFound, ErrUnauthorized, ErrForbidden} {
		if errors.Is(err, k) {
			def = k
			break
		}
	}
	if def == ErrNotFound && id != "" {
		return notFound(id)
	}
	return &Error{Kind: def, Detail: accessDetail(def)}
}

func accessDetail(k error) string {
	switch k {
	case ErrNotFound:
		return "attachment not found"
	case ErrUnauthorized:
		return "the request is not authenticated"
	default:
		return "the caller may not do this"
	}
}

// BoundBody puts HandlerOptions.UploadIdleTimeout on the body of a
// request whose route may leave it unread (DELETE, a signed URL, a GET
// with a body, any answer given before the body is read). net/http drains
// up to 256 KiB of an unread body before it sends the answer, with no
// limit of its own, so a client that declares a body and sends less would
// hold the answer, and the connection, for good; with the deadline the
// drain ends and the connection is closed. Routes that read their body
// move the deadline as bytes arrive (readBody). Where read deadlines are
// not supported (an httptest.ResponseRecorder) nothing changes.
// ServeHTTP calls it first; a layer that routes its own requests calls it
// first in its own ServeHTTP.
func (h *Handler) BoundBody(w http.ResponseWriter, r *http.Request) {
	if h.opts.UploadIdleTimeout <= 0 || r.Body == nil || r.Body == http.NoBody {
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(h.opts.UploadIdleTimeout))
}
