package pgstore

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

func TestQueryGrams(t *testing.T) {
	long := strings.Repeat("abcde", 200)
	for _, tc := range []struct {
		sub  string
		n    int
		want []string
	}{
		{"", 5, nil},
		{"abcd", 5, nil},
		{"äöüßé", 5, []string{"äöüßé"}},
		{"abcde", 5, []string{"abcde"}},
		{"abcdef", 5, []string{"abcde", "bcdef"}},
		{"abcdefghij", 5, []string{"abcde", "fghij"}},
		{"photo-0333334", 5, []string{"photo", "-0333", "33334"}},
		{"日本語ファイル", 5, []string{"日本語ファ", "語ファイル"}},
		{"ab", 3, nil},
		{"abc", 3, []string{"abc"}},
		{"abcd", 3, []string{"abc", "bcd"}},
		{"日本語フ", 3, []string{"日本語", "本語フ"}},
		// 40 characters: all 8; more: 8 spread along it.
		{long[:40], 5, slices.Repeat([]string{"abcde"}, 8)},
		{long[:39] + "x", 5, append(slices.Repeat([]string{"abcde"}, 7), "abcdx")},
		{long[:999] + "x", 5, append(slices.Repeat([]string{"abcde"}, 7), "abcdx")},
		{"x" + long[:999], 5, append([]string{"xabcd"}, slices.Repeat([]string{"eabcd"}, 7)...)},
	} {
		require.Equal(t, tc.want, queryGrams(tc.sub, tc.n), "%q", tc.sub)
	}
	require.Len(t, queryGrams(strings.Repeat("x", 41), 5), maxQueryGrams)
}

// List with a filename search returns what a brute-force filter in Go
// returns, page after page, whichever way the search goes: walks of one
// record to the default, so that every search falls back to the filename
// indexes at some page or never, and names of every length around the
// indexes' (from a small alphabet, so that they share substrings).
func TestSearchAgreesWithBruteForce(t *testing.T) {
	s := openFresh(t)
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("abAB-%_\\äÄ.x")
	var all []*metadata.Record
	for i := range 400 {
		name := make([]rune, rng.IntN(14))
		for j := range name {
			name[j] = alphabet[rng.IntN(len(alphabet))]
		}
		r := &metadata.Record{
			ID:          fmt.Sprintf("%08d", i*3),
			Tenant:      []string{"t1", "t1", "t1", "t2"}[i%4],
			Filename:    string(name),
			ContentType: []string{"image/png", "text/plain"}[rng.IntN(2)],
			Owner:       fmt.Sprint("o", rng.IntN(3)),
			Labels:      map[string]string{"k": fmt.Sprint(rng.IntN(2))},
		}
		if rng.IntN(3) == 0 {
			r.Labels["j"] = "1"
		}
		all = append(all, r)
	}
	require.NoError(t, s.Create(t.Context(), all[:200]))
	require.NoError(t, s.Create(t.Context(), all[200:]))

	matches := func(q metadata.Query, r *metadata.Record) bool {
		if r.Tenant != q.Tenant || (q.Owner != "" && r.Owner != q.Owner) ||
			!strings.Contains(strings.ToLower(r.Filename), strings.ToLower(q.FilenameContains)) ||
			!strings.HasPrefix(r.ContentType, q.ContentTypePrefix) {
			return false
		}
		for k, v := range q.Labels {
			if r.Labels[k] != v {
				return false
			}
		}
		return true
	}
	subs := []string{"a", "ab", "aB-", "ab-a", "ÄB-a", "ab-ab", "a%b_x", `\`, `%_\`, "ab-ab-", "äbäb.x", "xxxxxxx", "b-a.a-b", "a-"}
	queries := []metadata.Query{{}, {Ascending: true}, {Owner: "o1"}, {Labels: map[string]string{"k": "1"}},
		{Labels: map[string]string{"k": "0", "j": "1"}, Ascending: true}, {ContentTypePrefix: "image/"},
		{After: "00000601"}, {After: "00000601", Ascending: true}}
	for _, walk := range []int{1, 3, 10, defaultSearchWalk} {
		s.searchWalk = walk
		for _, sub := range subs {
			for _, base := range queries {
				for _, tl := range [][2]int{{0, 1}, {0, 4}, {0, 1000}, {1, 3}} {
					// Both tenants hold names of every kind (t2 fewer).
					limit := tl[1]
					q := base
					q.Tenant, q.FilenameContains, q.Limit = []string{"t1", "t2"}[tl[0]], sub, limit
					var want []string
					for _, r := range all {
						if matches(q, r) && (q.After == "" || (q.Ascending && r.ID > q.After) || (!q.Ascending && r.ID < q.After)) {
							want = append(want, r.ID)
						}
					}
					if !q.Ascending {
						slices.Reverse(want)
					}
					var got []string
					for page := 0; ; page++ {
						require.Less(t, page, 1000)
						recs, err := s.List(t.Context(), q)
						require.NoError(t, err, "walk %d, %+v", walk, q)
						require.LessOrEqual(t, len(recs), limit)
						if len(recs) == 0 {
							break
						}
						for _, r := range recs {
							got = append(got, r.ID)
						}
						q.After = recs[len(recs)-1].ID
					}
					require.Equal(t, want, got, "walk %d, %+v in %s", walk, base, q.Tenant)
				}
			}
		}
	}
}
