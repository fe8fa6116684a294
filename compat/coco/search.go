package coco

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/attachkit/attachment"
)

// Search limits, Elasticsearch's defaults.
const (
	// DefaultSearchSize is the number of hits a search without size
	// returns.
	DefaultSearchSize = 10
	// MaxSearchWindow bounds from+size (Elasticsearch's
	// index.max_result_window): a larger window is a 400.
	MaxSearchWindow = 10000
	// TrackTotalHits is as far as a search counts its matches: with more,
	// hits.total is {"value": 10000, "relation": "gte"}
	// (Elasticsearch's track_total_hits default).
	TrackTotalHits = 10000
)

// indexName is the _index of every hit: the index Coco's server keeps
// attachments in.
const indexName = "coco_attachment"

// searchResponse is the body of GET /_search: an Elasticsearch search
// response.
type searchResponse struct {
	Took     int64      `json:"took"`
	TimedOut bool       `json:"timed_out"`
	Shards   shardsInfo `json:"_shards"`
	Hits     searchHits `json:"hits"`
}

// shardsInfo is the _shards object of a search response: one shard that
// answered.
type shardsInfo struct {
	Total      int `json:"total"`
	Successful int `json:"successful"`
	Skipped    int `json:"skipped"`
	Failed     int `json:"failed"`
}

// searchHits is the hits object of a search response.
type searchHits struct {
	Total    totalHits `json:"total"`
	MaxScore float64   `json:"max_score"`
	Hits     []hit     `json:"hits"`
}

// totalHits counts the matches: exactly ("eq"), or at least Value
// ("gte") past TrackTotalHits.
type totalHits struct {
	Value    int    `json:"value"`
	Relation string `json:"relation"`
}

// hit is one attachment of a search response.
type hit struct {
	Index  string  `json:"_index"`
	Type   string  `json:"_type"`
	ID     string  `json:"_id"`
	Score  float64 `json:"_score"`
	Source source  `json:"_source"`
}

// source is an attachment's record as Coco's server stores it.
type source struct {
	ID      string `json:"id"`
	Created string `json:"created"`
	Updated string `json:"updated"`
	// Session is null for an attachment of no session.
	Session *string `json:"session"`
	Name    string  `json:"name"`
	Icon    string  `json:"icon"`
	URL     string  `json:"url"`
	Size    int64   `json:"size"`
}

// search handles GET /_search: the caller's attachments of the session
// given as ?session= (or ?session_id=), or all of the caller's without
// one, oldest first, the window ?from= (0) and ?size= (10) of them.
// Every hit scores 1, as under Elasticsearch's match_all.
func (h *Handler) search(w http.ResponseWriter, r *http.Request, base string) {
	start := time.Now()
	_, svc, _, err := h.h.Authorize(r, attachment.OpList, "")
	if err != nil {
		h.h.WriteError(w, r, err)
		return
	}
	q := r.URL.Query()
	session, err := sessionOf(q, nil)
	if err != nil {
		h.h.WriteError(w, r, err)
		return
	}
	from, size, err := parseWindow(q)
	if err != nil {
		h.h.WriteError(w, r, err)
		return
	}
	opts := &attachment.ListOptions{Ascending: true, Limit: attachment.MaxListLimit}
	if session != "" {
		opts.Labels = map[string]string{SessionLabel: session}
	}
	res := &searchResponse{
		Shards: shardsInfo{Total: 1, Successful: 1},
		Hits:   searchHits{Total: totalHits{Relation: "eq"}, Hits: []hit{}},
	}
	count := 0
walk:
	for {
		page, err := svc.List(r.Context(), opts)
		if err != nil {
			h.h.WriteError(w, r, err)
			return
		}
		for _, a := range page.Attachments {
			if count == h.trackTotal {
				res.Hits.Total.Relation = "gte"
				break walk
			}
			if count >= from && len(res.Hits.Hits) < size {
				res.Hits.Hits = append(res.Hits.Hits, hitOf(base, a))
			}
			count++
		}
		if !page.HasMore {
			break
		}
		opts.Cursor = page.NextCursor
	}
	res.Hits.Total.Value = count
	if len(res.Hits.Hits) > 0 {
		res.Hits.MaxScore = 1
	}
	res.Took = time.Since(start).Milliseconds()
	writeJSON(w, r, http.StatusOK, res)
}

// hitOf returns the search hit of a, whose download URL is under base.
func hitOf(base string, a *attachment.Attachment) hit {
	src := source{
		ID:      a.ID,
		Created: formatTime(a.CreatedAt),
		Updated: formatTime(a.UpdatedAt),
		Name:    a.Filename,
		Icon:    iconOf(a),
		URL:     base + "/" + url.PathEscape(a.ID),
		Size:    a.Size,
	}
	if s, ok := a.Labels[SessionLabel]; ok {
		src.Session = &s
	}
	return hit{Index: indexName, Type: "_doc", ID: a.ID, Score: 1, Source: src}
}

// parseWindow reads a search's from and size query parameters: whole
// numbers, at least 0, with from+size at most MaxSearchWindow.
func parseWindow(q url.Values) (from, size int, err error) {
	from, size = 0, DefaultSearchSize
	for _, p := range []struct {
		name string
		dst  *int
	}{{"from", &from}, {"size", &size}} {
		v, ok := q[p.name]
		if !ok {
			continue
		}
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 0 || n > MaxSearchWindow || len(v) > 1 {
			return 0, 0, invalid(p.name + " must be one whole number from 0 to " + strconv.Itoa(MaxSearchWindow))
		}
		*p.dst = n
	}
	if from+size > MaxSearchWindow {
		return 0, 0, invalid("from + size must be at most " + strconv.Itoa(MaxSearchWindow))
	}
	return from, size, nil
}
