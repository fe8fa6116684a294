package coco

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/attachkit/attachment"
)

// BasePath is where the Coco server serves attachments.
const BasePath = "/attachment"

// TokenHeader is the request header Coco's clients carry their API token
// in.
const TokenHeader = "X-API-TOKEN"

// Options are the choices of New.
type Options struct {
	// Prefix is the path the Handler is mounted at, such as BasePath,
	// without a trailing slash. The URLs in its answers start with it.
	// Empty means the prefix is found from the request, as when the
	// Handler is mounted behind http.StripPrefix (see
	// attachment.SplitPath).
	Prefix string
}

// Handler serves the Coco attachment routes. It is an http.Handler; New
// makes one.
type Handler struct {
	h      *attachment.Handler
	prefix string
	// trackTotal is how far searches count (TrackTotalHits; tests lower
	// it).
	trackTotal int
}

// New returns the Coco routes over h, the host's native Handler: its
// Service, options, limits and access hook. Errors are answered in
// Coco's error body; h itself is unchanged. o may be nil.
func New(h *attachment.Handler, o *Options) *Handler {
	var opts Options
	if o != nil {
		opts = *o
	}
	prefix := strings.TrimRight(opts.Prefix, "/")
	return &Handler{
		h:      h.WithProblemWriter(func(w http.ResponseWriter, r *http.Request, p *attachment.Problem) { writeProblem(w, r, prefix, p) }),
		prefix: prefix,

		trackTotal: TrackTotalHits,
	}
}

// Token returns the credential a Coco client sends: the value of the
// X-API-TOKEN header, and false when there is none.
func Token(r *http.Request) (string, bool) {
	v := r.Header.Get(TokenHeader)
	return v, v != ""
}

// route is what a request's path names.
type route int

const (
	routeNone       route = iota
	routeUpload           // /_upload
	routeSearch           // /_search
	routeStatus           // /_status
	routeItem             // /{id}
	routeItemStatus       // /{id}/status
)

// parseRoute reads the path under the mount point (escaped, as SplitPath
// returns it) into a route and, for the routes about one attachment, its
// ID. Names that start with "_" are the API's own: an ID never does.
func parseRoute(rel string) (route, string) {
	rest, ok := strings.CutPrefix(rel, "/")
	if !ok {
		return routeNone, ""
	}
	first, sub, two := strings.Cut(rest, "/")
	if !two {
		switch first {
		case "_upload":
			return routeUpload, ""
		case "_search":
			return routeSearch, ""
		case "_status":
			return routeStatus, ""
		}
	}
	id, err := url.PathUnescape(first)
	if err != nil || id == "" || strings.HasPrefix(id, "_") || strings.Contains(id, "/") {
		return routeNone, ""
	}
	switch {
	case !two:
		return routeItem, id
	case sub == "status":
		return routeItemStatus, id
	}
	return routeNone, ""
}

// allowed returns the methods of a route, for 405 answers.
func allowed(rt route) string {
	switch rt {
	case routeUpload, routeStatus:
		return "POST"
	case routeItem:
		return "GET, HEAD, DELETE"
	default:
		return "GET"
	}
}

// ServeHTTP routes a request under the prefix.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.h.BoundBody(w, r)
	base, rel := attachment.SplitPath(r, h.prefix)
	rt, id := parseRoute(rel)
	m := r.Method
	switch {
	case rt == routeNone:
		writeError(w, r, http.StatusNotFound, "not_found", "no such route: "+r.Method+" "+r.URL.Path)
	case rt == routeUpload && m == http.MethodPost:
		h.upload(w, r)
	case rt == routeSearch && m == http.MethodGet:
		h.search(w, r, base)
	case rt == routeStatus && m == http.MethodPost:
		h.statusMany(w, r)
	case rt == routeItem && (m == http.MethodGet || m == http.MethodHead):
		h.content(w, r, id)
	case rt == routeItem && m == http.MethodDelete:
		h.delete(w, r, id)
	case rt == routeItemStatus && m == http.MethodGet:
		h.status(w, r, id)
	default:
		w.Header().Set("Allow", allowed(rt))
		writeError(w, r, http.StatusMethodNotAllowed, "method_not_allowed",
			"method "+m+" is not allowed here; allowed: "+allowed(rt))
	}
}
