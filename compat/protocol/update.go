package protocol

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/attachkit/attachment"
)

// parseUpdate reads the body of PUT /{id}, of the media type contentType:
// application/x-www-form-urlencoded (what curl -d sends) or JSON
// (application/json, a +json type, or no Content-Type at all), with one
// optional parameter, filename. It returns the new filename, nil when the
// body has none (an empty body, an empty form or object, a JSON null).
// Any other parameter, a repeated one and a malformed body are 400s; any
// other media type is a 415.
func parseUpdate(contentType string, body []byte) (*string, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	mt := ""
	if contentType != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(contentType); err != nil {
			return nil, invalid("malformed Content-Type header")
		}
	}
	switch {
	case mt == "application/x-www-form-urlencoded":
		return parseUpdateForm(body)
	case mt == "" || mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return parseUpdateJSON(body)
	}
	return nil, &attachment.Error{Kind: attachment.ErrUnsupportedType,
		Detail: "the body must be a form (application/x-www-form-urlencoded) or JSON (application/json)"}
}

// parseUpdateForm reads a form body.
func parseUpdateForm(body []byte) (*string, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, invalid("malformed form body")
	}
	var name *string
	for k, vs := range form {
		if k != "filename" {
			return nil, unknownParameter(k)
		}
		if len(vs) > 1 {
			return nil, invalid("filename is given more than once")
		}
		name = &vs[0]
	}
	return name, nil
}

// parseUpdateJSON reads a JSON object body.
func parseUpdateJSON(body []byte) (*string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, invalid("the body must be a JSON object")
	}
	if dec.More() {
		return nil, invalid("the body has data after the JSON object")
	}
	var name *string
	for k, raw := range obj {
		if k != "filename" {
			return nil, unknownParameter(k)
		}
		if err := json.Unmarshal(raw, &name); err != nil {
			return nil, invalid("filename must be a string")
		}
	}
	return name, nil
}

// unknownParameter refuses a parameter the route does not take.
func unknownParameter(name string) error {
	if len(name) > 64 {
		name = name[:64]
		for !utf8.ValidString(name) {
			name = name[:len(name)-1]
		}
		name += "..."
	}
	return invalid("unknown parameter: " + name)
}
