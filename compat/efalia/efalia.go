// Package efalia serves the attachment routes of the Efalia Process API
// (Workey) over an attachment.Handler: upload to POST /{documentField},
// content as an attachment (GET /{uuid}) or inline (GET /{uuid}/inline),
// the AttachmentMetadata record (GET /{uuid}/metadata), a thumbnail
// (GET /{uuid}/thumbnail) and delete (DELETE /{uuid}), with errors as the
// API's RestMessage bodies.
//
// Every route goes through the host Handler's access flow (its Access
// hook), acts on the caller's tenant, and stores and reads the same
// records as the native API: an attachment uploaded here is one the native
// API lists, and the other way round. Token returns the credential an
// Efalia client sends, for the host's access hook to check.
package efalia

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/attachkit/attachment"
)

// BasePath is where the Efalia API serves attachments: the document's
// server URL (http://{hostname}/{workeyContext}/api/) with its default
// context, workey, and the attachment resource under it.
const BasePath = "/workey/api/attachment"

// Options are the choices of New.
type Options struct {
	// Prefix is the path the Handler is mounted at, such as BasePath. The
	// URLs in its answers start with it. Empty means the prefix is found
	// from the request, as when the Handler is mounted behind
	// http.StripPrefix (see attachment.SplitPath).
	Prefix string
}

// Handler serves the Efalia attachment routes. It is an http.Handler;
// New makes one.
type Handler struct {
	h      *attachment.Handler
	prefix string
}

// New returns the Efalia routes over h, the host's native Handler: its
// Service, options, limits and access hook. Errors are answered as
// RestMessage bodies; h itself is unchanged. o may be nil.
func New(h *attachment.Handler, o *Options) *Handler {
	var opts Options
	if o != nil {
		opts = *o
	}
	return &Handler{
		h:      h.WithProblemWriter(writeProblem),
		prefix: strings.TrimRight(opts.Prefix, "/"),
	}
}

// Allowed methods of the two route shapes.
const (
	allowItem = "GET, HEAD, POST, DELETE"
	allowSub  = "GET, HEAD"
)

// ServeHTTP routes a request under the prefix.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	base, rel := attachment.SplitPath(r, h.prefix)
	segs := strings.Split(strings.TrimPrefix(rel, "/"), "/")
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil {
			writeMessage(w, r, http.StatusNotFound, "no such route: malformed path escape")
			return
		}
		segs[i] = u
	}
	if segs[0] == "" {
		writeMessage(w, r, http.StatusNotFound, "no route here; upload with POST "+base+"/{documentField}")
		return
	}
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch len(segs) {
	case 1:
		switch {
		case r.Method == http.MethodPost:
			h.upload(w, r, base)
		case get:
			h.content(w, r, segs[0], false)
		case r.Method == http.MethodDelete:
			h.delete(w, r, segs[0])
		default:
			methodNotAllowed(w, r, allowItem)
		}
		return
	case 2:
		var serve func()
		switch segs[1] {
		case "inline":
			serve = func() { h.content(w, r, segs[0], true) }
		case "metadata":
			serve = func() { h.metadata(w, r, base, segs[0]) }
		case "thumbnail":
			serve = func() { h.h.Thumbnail(w, r, CanonicalID(segs[0])) }
		}
		if serve != nil {
			if !get {
				methodNotAllowed(w, r, allowSub)
				return
			}
			serve()
			return
		}
	}
	writeMessage(w, r, http.StatusNotFound, "no such route")
}

// methodNotAllowed answers 405 with the route's methods.
func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeMessage(w, r, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed here; allowed: "+allow)
}
