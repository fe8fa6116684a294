package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/url"
	"strconv"
	"testing"

	"github.com/attachkit/attachment"
)

// FuzzParseUpdate: any PUT body is a filename, nothing, or a client error
// of the dialect; never a panic, and a filename only from the parameter
// the body names.
func FuzzParseUpdate(f *testing.F) {
	for _, s := range []struct{ ct, body string }{
		{"application/x-www-form-urlencoded", "filename=Invoice_room_service__Plaza_Hotel_updated.pdf"},
		{"application/json", `{"filename":"a.pdf"}`},
		{"application/json", `{"filename":null}`},
		{"", `{}`},
		{"text/plain", "x"},
		{"application/json", `{"filename":"\u00e9"}`},
		{"application/x-www-form-urlencoded", "filename=a&filename=b"},
		{"application/merge-patch+json", `{"filename":"a"} x`},
	} {
		f.Add(s.ct, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		name, err := parseUpdate(ct, body)
		if err != nil {
			if name != nil {
				t.Fatalf("a name with an error: %q, %v", *name, err)
			}
			var e *attachment.Error
			if !errors.As(err, &e) || e.Detail == "" {
				t.Fatalf("not a client error: %#v", err)
			}
			return
		}
		// The name is what the body's own format says it is.
		var want *string
		if mt, _, _ := mime.ParseMediaType(ct); mt == "application/x-www-form-urlencoded" {
			if v, ok := mustQuery(t, body)["filename"]; ok {
				want = &v[0]
			}
		} else if len(bytes.TrimSpace(body)) > 0 {
			var v struct{ Filename *string }
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatalf("accepted a body encoding/json refuses: %q: %v", body, err)
			}
			want = v.Filename
		}
		if (name == nil) != (want == nil) || (name != nil && *name != *want) {
			t.Fatalf("filename %v, want %v, from %q %q", deref(name), deref(want), ct, body)
		}
	})
}

// FuzzParseListQuery: any query string of GET / is a valid listing or a
// client error: a limit in bounds, never both cursors.
func FuzzParseListQuery(f *testing.F) {
	for _, s := range []string{
		"conversation_id=xgQQXg3hrtjh7AvZ&limit=10",
		"limit=0", "limit=101", "limit=1&limit=1", "starting_after=a&ending_before=b",
		"starting_after=", "limit=%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		lq, err := parseListQuery(q)
		if err != nil {
			var e *attachment.Error
			if !errors.As(err, &e) {
				t.Fatalf("not a client error: %#v", err)
			}
			return
		}
		if lq.limit < 1 || lq.limit > MaxLimit {
			t.Fatalf("limit %d out of bounds from %q", lq.limit, raw)
		}
		if lq.after != "" && lq.before != "" {
			t.Fatalf("both cursors from %q", raw)
		}
		if v := q.Get("limit"); v != "" && strconv.Itoa(lq.limit) != v {
			if n, err := strconv.Atoi(v); err != nil || n != lq.limit {
				t.Fatalf("limit %d from %q", lq.limit, v)
			}
		}
	})
}

// FuzzUploadFields: the text fields of an upload become only the
// conversation_id and message_id labels, or a client error.
func FuzzUploadFields(f *testing.F) {
	f.Add("conversation_id=xgQQXg3hrtjh7AvZ&message_id=LoPsJaMcPBuFNjg1")
	f.Add("conversation_id=&purpose=x")
	f.Add("message_id=a&message_id=b")
	f.Fuzz(func(t *testing.T, raw string) {
		fields, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		var opts attachment.UploadOptions
		if err := uploadFields(fields, true, &opts); err != nil {
			var e *attachment.Error
			if !errors.As(err, &e) {
				t.Fatalf("not a client error: %#v", err)
			}
			return
		}
		for k, v := range opts.Labels {
			if (k != LabelConversation && k != LabelMessage) || v == "" || fields.Get(k) != v {
				t.Fatalf("label %q=%q from %q", k, v, raw)
			}
		}
	})
}

// mustQuery parses a form body parseUpdate accepted.
func mustQuery(t *testing.T, body []byte) url.Values {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatalf("accepted a malformed form %q: %v", body, err)
	}
	return v
}

// deref shows a *string.
func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return strconv.Quote(*s)
}
