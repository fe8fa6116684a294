package documents

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/wire"
)

// BasePath is where the document mounts the API.
const BasePath = "/api/v1/attachments"

// DefaultMaxList is the most attachments GET /document/{documentId}
// returns when Options.MaxList is zero.
const DefaultMaxList = 1000

// Options tune a Handler. The zero value (or nil) is ready to use.
type Options struct {
	// Prefix is the path the Handler is mounted under, without a trailing
	// slash (BasePath, say). Empty means it is found from the request, as
	// when a router strips it (http.StripPrefix); see attachment.SplitPath.
	// URLs in answers begin with it.
	Prefix string
	// MaxList is the most attachments a document listing returns, oldest
	// first; one with more answers the first MaxList with the header
	// "X-Truncated: true". Zero means DefaultMaxList.
	MaxList int
}

// Handler serves the documents dialect. It implements http.Handler.
type Handler struct {
	h       *attachment.Handler
	prefix  string
	maxList int
}

// New returns a Handler that acts through h, the host's native Handler: its
// Service, access hook and limits. Its errors are written in the dialect's
// own body (h.WithProblemWriter); h itself is unchanged.
func New(h *attachment.Handler, o *Options) *Handler {
	var opts Options
	if o != nil {
		opts = *o
	}
	if opts.MaxList <= 0 {
		opts.MaxList = DefaultMaxList
	}
	return &Handler{
		h:       h.WithProblemWriter(writeProblem),
		prefix:  strings.TrimRight(opts.Prefix, "/"),
		maxList: opts.MaxList,
	}
}

// Token returns the credential the dialect's clients send: the token of an
// "Authorization: Bearer TOKEN" header (the scheme in any case). A request
// with more than one Authorization header has none. A host's access hook
// calls it to identify the caller.
func Token(r *http.Request) (string, bool) {
	vs := r.Header.Values("Authorization")
	if len(vs) != 1 {
		return "", false
	}
	scheme, tok, ok := strings.Cut(vs[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// routeKind names one of the dialect's routes.
type routeKind int

const (
	routeNone     routeKind = iota
	routeUpload             // /upload
	routeFile               // /file
	routeDocument           // /document/{documentId}
	routeItem               // /{id}
)

// route finds the route of rel, the escaped path below the mount point,
// and its path parameter, unescaped. A path with an empty segment, a
// trailing slash or a segment that does not unescape names no route.
func route(rel string) (routeKind, string) {
	rest, ok := strings.CutPrefix(rel, "/")
	if !ok || rest == "" {
		return routeNone, ""
	}
	segs := strings.Split(rest, "/")
	for i, s := range segs {
		v, err := url.PathUnescape(s)
		if err != nil || v == "" {
			return routeNone, ""
		}
		segs[i] = v
	}
	switch {
	case len(segs) == 1 && segs[0] == "upload":
		return routeUpload, ""
	case len(segs) == 1 && segs[0] == "file":
		return routeFile, ""
	case len(segs) == 2 && segs[0] == "document":
		return routeDocument, segs[1]
	case len(segs) == 1:
		return routeItem, segs[0]
	}
	return routeNone, ""
}

// methods are the methods each route answers.
var methods = map[routeKind][]string{
	routeUpload:   {http.MethodPost},
	routeFile:     {http.MethodGet, http.MethodHead},
	routeDocument: {http.MethodGet, http.MethodHead},
	routeItem:     {http.MethodDelete},
}

// ServeHTTP routes a request to one of the dialect's operations.
func (d *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	base, rel := attachment.SplitPath(r, d.prefix)
	kind, arg := route(rel)
	if kind == routeNone {
		writeProblem(w, r, &attachment.Problem{Status: http.StatusNotFound, Code: wire.CodeNotFound, Detail: "no such route"})
		return
	}
	allowed := methods[kind]
	if !slices.Contains(allowed, r.Method) {
		allow := strings.Join(allowed, ", ")
		w.Header().Set("Allow", allow)
		writeProblem(w, r, &attachment.Problem{Status: http.StatusMethodNotAllowed, Code: wire.CodeBadRequest,
			Detail: "method " + r.Method + " is not allowed here; allowed: " + allow})
		return
	}
	switch kind {
	case routeUpload:
		d.upload(w, r, base)
	case routeFile:
		d.file(w, r)
	case routeDocument:
		d.list(w, r, base, arg)
	case routeItem:
		d.delete(w, r, arg)
	}
}
