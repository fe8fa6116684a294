package chat

import (
	"net/http"

	"github.com/attachkit/attachment"
)

// BasePath is the path the chat API's documents put its routes under.
const BasePath = "/api/v1"

// CookieName is the name of the session cookie that carries a client's
// credential.
const CookieName = "session"

// The labels an upload through this dialect stores.
const (
	// LabelTextMessageID holds the messageId of the upload's path.
	LabelTextMessageID = "textMessageId"
	// LabelRoomID holds the room's ID, from Options.RoomID or the
	// request's roomId field or query parameter.
	LabelRoomID = "roomId"
)

// FilesField is the multipart form field that carries an upload's files.
const FilesField = "files"

// Options configure a Handler.
type Options struct {
	// Prefix is the path the Handler is mounted under, such as BasePath.
	// Requests that arrive with it have it removed; "" means the mount
	// path is found from the request as when the host strips it with
	// http.StripPrefix (see attachment.SplitPath). Download URLs in
	// answers start with it.
	Prefix string
	// RoomID, when set, tells the room a message belongs to. It is called
	// for each upload once the caller is allowed to upload and before the
	// body is read, with the messageId of the path (unescaped); its answer
	// is stored as the label "roomId" ("" stores none: the room is not
	// known), and a roomId the client sends is then ignored. An error
	// refuses the upload: an *attachment.Error (for example Kind
	// attachment.ErrNotFound, Detail "message not found") is answered with
	// its status and detail; any other error is a 500 whose text is only
	// logged. Nil takes the room from the request's roomId form field or
	// query parameter.
	RoomID func(r *http.Request, messageID string) (string, error)
}

// Handler serves the chat dialect. It is an http.Handler.
type Handler struct {
	h      *attachment.Handler
	prefix string
	roomID func(r *http.Request, messageID string) (string, error)
}

// New returns the chat dialect over the host's native Handler h: the same
// Service, access hook and limits, with every error answered in the chat
// error body. A nil o means the zero Options.
//
// Requests are authorized by h's access hook, which should identify
// callers by Token (the session cookie). A browser sends that cookie with
// requests other sites make it send, so h must have been made with
// HandlerOptions.CrossOrigin set (http.NewCrossOriginProtection()): then
// an upload or a delete that another site starts is refused with 403.
func New(h *attachment.Handler, o *Options) *Handler {
	var opts Options
	if o != nil {
		opts = *o
	}
	d := &Handler{prefix: opts.Prefix, roomID: opts.RoomID}
	d.h = h.WithProblemWriter(writeProblem)
	return d
}

// Token returns the value of the request's session cookie, the credential
// of this API's clients, and whether there is a non-empty one.
func Token(r *http.Request) (string, bool) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" {
		return "", false
	}
	return c.Value, true
}

// ServeHTTP routes a request of the chat API.
func (d *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	base, rel := attachment.SplitPath(r, d.prefix)
	rt, err := parseRoute(rel)
	if err != nil {
		d.h.WriteError(w, r, err)
		return
	}
	if !rt.allows(r.Method) {
		w.Header().Set("Allow", rt.allow())
		writeError(w, r, http.StatusMethodNotAllowed,
			"method "+r.Method+" is not allowed here; allowed: "+rt.allow())
		return
	}
	switch {
	case rt.kind == routeUpload:
		d.upload(w, r, base, rt.messageID)
	case rt.kind == routeDownload:
		d.download(w, r, rt.id)
	case r.Method == http.MethodDelete:
		d.delete(w, r, rt.id)
	default:
		d.metadata(w, r, base, rt.id)
	}
}

// ErrorBody is the body of every error answer.
type ErrorBody struct {
	// ErrorText says what failed, for a person.
	ErrorText string `json:"errorText"`
	// HTTPStatusCode repeats the answer's status.
	HTTPStatusCode int `json:"httpStatusCode"`
}

// unauthorizedText is the errorText of every 401 answer.
const unauthorizedText = "not signed in, or the session has expired: sign in again to get a new session cookie"

// writeProblem is the dialect's attachment.ProblemWriter.
func writeProblem(w http.ResponseWriter, r *http.Request, p *attachment.Problem) {
	text := p.Detail
	if text == "" {
		text = p.Title
	}
	if p.Status == http.StatusUnauthorized {
		text = unauthorizedText
	}
	writeError(w, r, p.Status, text)
}

// writeError writes an error answer with status and text.
func writeError(w http.ResponseWriter, r *http.Request, status int, text string) {
	writeJSON(w, r, status, ErrorBody{ErrorText: text, HTTPStatusCode: status})
}

// writeJSON writes v as the JSON body of an answer with status; a HEAD
// request gets the headers alone.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	if err := attachment.WriteJSON(w, r, status, v); err != nil {
		// Only the package's own types are encoded here.
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}
