package coco

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// FuzzParseRoute: a path names an attachment only by an ID that is not
// empty, holds no slash and does not start with "_", and that ID escaped
// again names the same route.
func FuzzParseRoute(f *testing.F) {
	for _, s := range []string{"", "/", "/_upload", "/_search", "/_status", "/abc", "/abc/status", "/abc/", "/a%2Fb",
		"/%zz", "/_x", "/a/b/c", "/r%C3%A9", "//status", "/_upload/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, rel string) {
		rt, id := parseRoute(rel)
		switch rt {
		case routeItem, routeItemStatus:
			if id == "" || strings.HasPrefix(id, "_") || strings.Contains(id, "/") {
				t.Fatalf("%q: route %d with ID %q", rel, rt, id)
			}
			again := "/" + url.PathEscape(id)
			if rt == routeItemStatus {
				again += "/status"
			}
			if rt2, id2 := parseRoute(again); rt2 != rt || id2 != id {
				t.Fatalf("%q: %d %q; escaped again %q: %d %q", rel, rt, id, again, rt2, id2)
			}
		default:
			if id != "" {
				t.Fatalf("%q: route %d with ID %q", rel, rt, id)
			}
		}
	})
}

// FuzzParseWindow: an accepted window is within the limits.
func FuzzParseWindow(f *testing.F) {
	for _, s := range []string{"", "from=1", "size=0", "from=9990&size=10", "from=-1", "size=1e3", "size=+5", "from=1&from=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		from, size, err := parseWindow(q)
		if err != nil {
			return
		}
		if from < 0 || size < 0 || from+size > MaxSearchWindow {
			t.Fatalf("%q: from %d size %d", raw, from, size)
		}
		if _, ok := q["size"]; !ok && size != DefaultSearchSize {
			t.Fatalf("%q: size %d without a size", raw, size)
		}
	})
}

// FuzzStatusRequest: an accepted body names at most MaxStatusIDs IDs,
// the ones its "attachments" array holds.
func FuzzStatusRequest(f *testing.F) {
	for _, s := range []string{`{"attachments":["a","b"]}`, `{}`, `{"attachments":null}`, `[]`, `{"attachments":[1]}`, ``, `{"attachments":["\u0000"]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ids, err := parseStatusRequest(body)
		if err != nil {
			return
		}
		if len(ids) > MaxStatusIDs {
			t.Fatalf("%d IDs accepted", len(ids))
		}
		var v struct{ Attachments []string }
		if err := json.Unmarshal(body, &v); err != nil || len(v.Attachments) != len(ids) {
			t.Fatalf("%q: accepted as %q, decodes as %q (%v)", body, ids, v.Attachments, err)
		}
	})
}

// FuzzSessionOf: an accepted session is one of the values sent, the same
// under every name and in both places, and "" only when none was sent.
func FuzzSessionOf(f *testing.F) {
	for _, s := range [][2]string{{"session=a", ""}, {"", "session_id=a"}, {"session=a", "session_id=b"}, {"session=", ""}, {"x=1", "session=a&session=a"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, rawQuery, rawFields string) {
		q, err1 := url.ParseQuery(rawQuery)
		fields, err2 := url.ParseQuery(rawFields)
		if err1 != nil || err2 != nil {
			return
		}
		s, err := sessionOf(q, fields)
		if err != nil {
			return
		}
		n := 0
		for _, vs := range []url.Values{q, fields} {
			for _, name := range sessionFields() {
				for _, v := range vs[name] {
					n++
					if v != s {
						t.Fatalf("%q %q: session %q beside %q", rawQuery, rawFields, s, v)
					}
				}
			}
		}
		if (n == 0) != (s == "") {
			t.Fatalf("%q %q: session %q from %d values", rawQuery, rawFields, s, n)
		}
	})
}

// FuzzFilenameHeader: the header is printable ASCII, and decodes back to
// the name.
func FuzzFilenameHeader(f *testing.F) {
	for _, s := range []string{"a.pdf", "résumé.pdf", "UTF-8''x", "a b;c'd", "日本語.txt", "%41"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		v := filenameHeader(name)
		for i := 0; i < len(v); i++ {
			if v[i] < 0x20 || v[i] > 0x7e {
				t.Fatalf("%q: header %q is not printable ASCII", name, v)
			}
		}
		got := v
		if enc, ok := strings.CutPrefix(v, utf8Prefix); ok {
			var err error
			if got, err = url.PathUnescape(enc); err != nil {
				t.Fatalf("%q: header %q does not decode: %v", name, v, err)
			}
		}
		if got != name {
			t.Fatalf("%q: header %q decodes as %q", name, v, got)
		}
	})
}
