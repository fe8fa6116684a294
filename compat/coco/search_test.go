package coco_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/compat/coco"
	"github.com/attachkit/attachment/internal/compattest"
)

// searchResult is the part of a _search answer the tests read.
type searchResult struct {
	Hits struct {
		Total struct {
			Value    int    `json:"value"`
			Relation string `json:"relation"`
		} `json:"total"`
		MaxScore *float64 `json:"max_score"`
		Hits     []struct {
			ID     string `json:"_id"`
			Source struct {
				Session *string `json:"session"`
				Name    string  `json:"name"`
				Icon    string  `json:"icon"`
				URL     string  `json:"url"`
			} `json:"_source"`
		} `json:"hits"`
	} `json:"hits"`
}

// search runs GET /_search?q and decodes the answer, which must be a 200.
func (e *env) search(t *testing.T, q string) *searchResult {
	t.Helper()
	rec := e.Do("GET", "/attachment/_search?"+q, nil, tok...)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var res searchResult
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &res))
	require.NotNil(t, res.Hits.MaxScore, "max_score is a number, never null")
	require.NotNil(t, res.Hits.Hits, "hits is an array, never null")
	return &res
}

// ids returns the _id of each hit.
func (r *searchResult) ids() []string {
	out := []string{}
	for _, h := range r.Hits.Hits {
		out = append(out, h.ID)
	}
	return out
}

// TestSearchWindow pages a session's attachments with from and size,
// oldest first, 10 by default, the total counting them all.
func TestSearchWindow(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		e := newEnv(t, be, nil)
		var parts []compattest.Part
		for i := range 25 {
			parts = append(parts, file("f"+strconv.Itoa(i)+".pdf", pdf(i)))
		}
		ids := e.upload(t, "?session=s", parts...)
		e.upload(t, "?session=t", file("other.pdf", pdf(1)))
		for _, tc := range []struct {
			q    string
			want []string
		}{
			{"session=s", ids[:10]},
			{"session=s&from=20", ids[20:]},
			{"session=s&from=10&size=5", ids[10:15]},
			{"session_id=s&size=25", ids},
			{"session=s&size=0", []string{}},
			{"session=s&from=30", []string{}},
		} {
			res := e.search(t, tc.q)
			assert.Equal(t, tc.want, res.ids(), tc.q)
			assert.Equal(t, 25, res.Hits.Total.Value, tc.q)
			assert.Equal(t, "eq", res.Hits.Total.Relation, tc.q)
			assert.Equal(t, float64(min(len(tc.want), 1)), *res.Hits.MaxScore, tc.q)
		}
		res := e.search(t, "session=nobody")
		assert.Equal(t, 0, res.Hits.Total.Value)
		assert.Empty(t, res.Hits.Hits)
		assert.Equal(t, 0.0, *res.Hits.MaxScore)
	})
}

// TestSearchNoSession lists all of the caller's attachments, those of no
// session with a null session.
func TestSearchNoSession(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		e := newEnv(t, be, nil)
		a := e.upload(t, "?session=s", file("a.pdf", pdf(1)))[0]
		b := e.upload(t, "", file("b.pdf", pdf(1)))[0]
		res := e.search(t, "")
		assert.Equal(t, []string{a, b}, res.ids())
		require.NotNil(t, res.Hits.Hits[0].Source.Session)
		assert.Equal(t, "s", *res.Hits.Hits[0].Source.Session)
		assert.Nil(t, res.Hits.Hits[1].Source.Session)
		rec := e.Do("GET", "/attachment/_search", nil, tok...)
		assert.Contains(t, rec.Body.String(), `"session":null`)
	})
}

// TestSearchTrackTotal counts matches only up to the Handler's limit,
// then says so with the relation "gte".
func TestSearchTrackTotal(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		e := newEnv(t, be, nil)
		e.coco.SetTrackTotalHits(5)
		var parts []compattest.Part
		for i := range 6 {
			parts = append(parts, file("f"+strconv.Itoa(i)+".pdf", pdf(1)))
		}
		e.upload(t, "?session=six", parts...)
		e.upload(t, "?session=five", parts[:5]...)
		res := e.search(t, "session=six")
		assert.Equal(t, 5, res.Hits.Total.Value)
		assert.Equal(t, "gte", res.Hits.Total.Relation)
		res = e.search(t, "session=five")
		assert.Equal(t, 5, res.Hits.Total.Value)
		assert.Equal(t, "eq", res.Hits.Total.Relation)
		assert.Equal(t, coco.TrackTotalHits, coco.MaxSearchWindow, "at the defaults, every window is counted")
	})
}

// TestSearchIcon: the icon names a specific detected type, else the
// name's extension, else a family, else "file".
func TestSearchIcon(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		e := newEnv(t, be, nil)
		png := compattest.PNG(t, 2, 2)
		cases := []struct {
			name    string
			content []byte
			icon    string
		}{
			{"paper.PDF", pdf(1), "pdf"},
			{"photo", png, "png"},
			{"misnamed.pdf", png, "png"},
			{"main.go", []byte("package main\n"), "go"},
			{"README", []byte("plain words\n"), "txt"},
			{"blob", []byte{0, 1, 2, 3, 0xff, 0xfe, 0, 0}, "file"},
			{"odd.t@r", []byte{0, 1, 2, 3, 0xff, 0xfe, 0, 0}, "file"},
		}
		var parts []compattest.Part
		for _, c := range cases {
			parts = append(parts, file(c.name, c.content))
		}
		e.upload(t, "?session=icons", parts...)
		res := e.search(t, "session=icons")
		require.Len(t, res.Hits.Hits, len(cases))
		for i, c := range cases {
			assert.Equal(t, c.name, res.Hits.Hits[i].Source.Name)
			assert.Equal(t, c.icon, res.Hits.Hits[i].Source.Icon, c.name)
		}
	})
}

// TestFilenameHeader: a name that is not printable ASCII is sent in
// RFC 8187's encoding; so is one that would read as encoded.
func TestFilenameHeader(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		e := newEnv(t, be, nil)
		for name, want := range map[string]string{
			"résumé (1).pdf":   "UTF-8''r%C3%A9sum%C3%A9%20%281%29.pdf",
			"plain name;x.pdf": "plain name;x.pdf",
			"utf-8''x.pdf":     "UTF-8''utf-8%27%27x.pdf",
		} {
			id := e.upload(t, "", file(name, pdf(1)))[0]
			rec := e.Do("HEAD", "/attachment/"+id, nil, tok...)
			require.Equal(t, http.StatusOK, rec.Code)
			assert.Equal(t, want, rec.Header().Get("Filename"))
		}
	})
}
