package chat

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/attachkit/attachment"
)

// routeKind names the chat API's routes.
type routeKind int

const (
	routeUpload   routeKind = iota // /messages/{messageId}/attachments
	routeRecord                    // /attachments/{id}
	routeDownload                  // /attachments/{id}/{fileName}
)

// route is a request's route with its path parameters, unescaped.
type route struct {
	kind      routeKind
	messageID string
	id        string
	fileName  string
}

// maxMessageID bounds a messageId (and a roomId), in bytes.
const maxMessageID = 256

// parseRoute finds the route of rel, the escaped path below the mount
// point. An unknown path is an error wrapping attachment.ErrNotFound, a
// malformed escape one wrapping attachment.ErrInvalid. The messageId is
// checked by the upload (checkID), once the caller is known.
func parseRoute(rel string) (route, error) {
	seg := strings.Split(strings.TrimPrefix(rel, "/"), "/")
	if !strings.HasPrefix(rel, "/") || slices.Contains(seg, "") {
		return route{}, noRoute
	}
	switch {
	case len(seg) == 3 && seg[0] == "messages" && seg[2] == "attachments":
		id, err := unescape(seg[1])
		if err != nil {
			return route{}, err
		}
		return route{kind: routeUpload, messageID: id}, nil
	case len(seg) == 2 && seg[0] == "attachments":
		id, err := unescape(seg[1])
		if err != nil {
			return route{}, err
		}
		return route{kind: routeRecord, id: id}, nil
	case len(seg) == 3 && seg[0] == "attachments":
		id, err := unescape(seg[1])
		if err != nil {
			return route{}, err
		}
		name, err := unescape(seg[2])
		if err != nil {
			return route{}, err
		}
		return route{kind: routeDownload, id: id, fileName: name}, nil
	}
	return route{}, noRoute
}

// noRoute answers a path the API does not have.
var noRoute = &attachment.Error{Kind: attachment.ErrNotFound, Detail: "no such route in the chat attachments API"}

// unescape decodes one escaped path segment.
func unescape(s string) (string, error) {
	v, err := url.PathUnescape(s)
	if err != nil {
		return "", &attachment.Error{Kind: attachment.ErrInvalid, Detail: "malformed percent-encoding in the path"}
	}
	return v, nil
}

// checkID validates a messageId or roomId: 1 to maxMessageID bytes of
// UTF-8, not all white space, without control characters.
func checkID(what, v string) error {
	bad := func(why string) error {
		return &attachment.Error{Kind: attachment.ErrInvalid, Detail: what + " " + why}
	}
	switch {
	case strings.TrimSpace(v) == "":
		return bad("must not be empty or blank")
	case len(v) > maxMessageID:
		return bad("is longer than 256 bytes")
	case !utf8.ValidString(v):
		return bad("is not valid UTF-8")
	case strings.ContainsFunc(v, unicode.IsControl):
		return bad("contains a control character")
	}
	return nil
}

// allows reports whether the route answers method.
func (rt route) allows(method string) bool {
	switch method {
	case http.MethodPost:
		return rt.kind == routeUpload
	case http.MethodGet, http.MethodHead:
		return rt.kind != routeUpload
	case http.MethodDelete:
		return rt.kind == routeRecord
	}
	return false
}

// allow is the route's Allow header.
func (rt route) allow() string {
	switch rt.kind {
	case routeUpload:
		return "POST"
	case routeRecord:
		return "GET, HEAD, DELETE"
	default:
		return "GET, HEAD"
	}
}
