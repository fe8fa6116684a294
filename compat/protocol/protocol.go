// Package protocol serves the attachments API of the Protocol chat
// platform ("/v1/attachments") over an attachment Handler's Service: list
// (with has_more and a starting_after cursor), create (a multipart file
// part), retrieve, rename (PUT), delete, and a download route that the
// model's file_url points at.
//
// An attachment is one native record: the dialect's conversation_id and
// message_id are the labels of the same names, so an attachment uploaded
// here is listed by the native API with label.conversation_id=..., and a
// native upload appears on this API's single-item routes. Every error is
// answered as {"error": {"type", "code", "message"}}. docs/dialects.md
// (section Protocol) lists every choice where the Protocol document is
// silent.
package protocol

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/attachkit/attachment"
)

// BasePath is where the Protocol document serves attachments.
const BasePath = "/v1/attachments"

// The labels that hold the dialect's grouping fields.
const (
	// LabelConversation holds an attachment's conversation_id.
	LabelConversation = "conversation_id"
	// LabelMessage holds an attachment's message_id.
	LabelMessage = "message_id"
)

// Options tune a Handler.
type Options struct {
	// Prefix is the path the Handler is mounted under, without a trailing
	// slash (BasePath, usually). Empty means it is found from the request,
	// as when the Handler is mounted behind http.StripPrefix. The URLs in
	// answers (file_url, Location) begin with it.
	Prefix string
}

// Handler serves the Protocol attachments API. It implements http.Handler.
type Handler struct {
	h      *attachment.Handler
	prefix string
}

// New returns a Handler serving the Protocol API over h's Service, with h's
// access hook, limits and options. Its errors come out in the dialect's
// own body; h itself is not changed.
func New(h *attachment.Handler, o *Options) *Handler {
	d := &Handler{}
	if o != nil {
		d.prefix = strings.TrimRight(o.Prefix, "/")
	}
	d.h = h.WithProblemWriter(writeProblem)
	return d
}

// Token returns the credential a Protocol client sends: the token of an
// "Authorization: Bearer TOKEN" header (the scheme in any case).
func Token(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// ServeHTTP routes a request under the mount prefix:
//
//	GET, HEAD  /            list
//	POST       /            create (multipart: file, conversation_id, message_id)
//	GET, HEAD  /{id}        retrieve
//	PUT        /{id}        update the filename (form or JSON)
//	DELETE     /{id}        delete
//	GET, HEAD  /{id}/content  the content (file_url)
func (d *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	base, rel := attachment.SplitPath(r, d.prefix)
	if rel == "" || rel == "/" {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			d.list(w, r, base)
		case http.MethodPost:
			d.create(w, r, base)
		default:
			methodNotAllowed(w, r, "GET, HEAD, POST")
		}
		return
	}
	seg := strings.Split(strings.TrimPrefix(rel, "/"), "/")
	id, err := url.PathUnescape(seg[0])
	if err != nil || id == "" || len(seg) > 2 || (len(seg) == 2 && seg[1] != "content") {
		notFound(w, r)
		return
	}
	if len(seg) == 2 {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			d.content(w, r, id)
		default:
			methodNotAllowed(w, r, "GET, HEAD")
		}
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		d.retrieve(w, r, base, id)
	case http.MethodPut:
		d.update(w, r, base, id)
	case http.MethodDelete:
		d.delete(w, r, id)
	default:
		methodNotAllowed(w, r, "GET, HEAD, PUT, DELETE")
	}
}
