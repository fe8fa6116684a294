package pgstore

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

// A filename search does the same work, in pages of the table and its
// indexes read, whether another tenant has names that contain it or not:
// its time tells a tenant nothing of another's names. Checked on searches
// that go past the walk to the filename indexes, long (five-character
// grams) and short (three-character), in a tenant with no matching name
// while the other has 0 or 600. Before the indexes were keyed by tenant
// (0003), a search read and rechecked the other tenant's 600 matches.
func TestSearchWorkIgnoresOtherTenants(t *testing.T) {
	s := openFresh(t)
	var recs []*metadata.Record
	for i := range defaultSearchWalk + 100 {
		recs = append(recs, &metadata.Record{ID: fmt.Sprintf("a%07d", i), Tenant: "t1", Filename: fmt.Sprintf("scan-%05d.txt", i)})
	}
	for i := range 600 {
		recs = append(recs, &metadata.Record{ID: fmt.Sprintf("b%07d", i), Tenant: "t2", Filename: fmt.Sprintf("other-qzxvw-%05d.txt", i)})
	}
	require.NoError(t, s.Create(t.Context(), recs))
	_, err := s.pool.Exec(t.Context(), `VACUUM (ANALYZE) attachments, attachment_labels, attachment_jobs`)
	require.NoError(t, err)

	// pages returns the pages (buffers) that List's statement for sub in
	// t1 reads, and the plan steps that ran, the second time it runs.
	pages := func(sub string) (int, []string) {
		q := metadata.Query{Tenant: "t1", FilenameContains: sub, Limit: 20}
		query, args := listQuery(q, s.searchWalk)
		var n int
		var steps []string
		for range 2 {
			var raw []byte
			err := s.pool.QueryRow(t.Context(), "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "+query,
				append([]any{s.listMode(q)}, args...)...).Scan(&raw)
			require.NoError(t, err)
			var out []struct {
				Plan struct {
					planNode
					Hit  int `json:"Shared Hit Blocks"`
					Read int `json:"Shared Read Blocks"`
				}
			}
			require.NoError(t, json.Unmarshal(raw, &out))
			n, steps = out[0].Plan.Hit+out[0].Plan.Read, out[0].Plan.steps()
		}
		return n, steps
	}
	for _, pair := range [][2]string{{"qzxvy", "qzxvw"}, {"qzy", "qzx"}} {
		none, noneSteps := pages(pair[0])
		some, someSteps := pages(pair[1])
		require.Contains(t, someSteps, "Sort", "the search did not go past its walk; plan: %q", someSteps)
		require.Equal(t, none, some, "pages read by a search for %q (no name of t2) and %q (600 names of t2); plans: %q, %q",
			pair[0], pair[1], noneSteps, someSteps)
	}
}
