package pgstore

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/metadatatest"
)

// planNode is a node of EXPLAIN (ANALYZE, FORMAT JSON), with the fields
// checked.
type planNode struct {
	NodeType    string     `json:"Node Type"`
	IndexName   string     `json:"Index Name"`
	Relation    string     `json:"Relation Name"`
	ActualLoops int        `json:"Actual Loops"`
	Plans       []planNode `json:"Plans"`
}

// steps returns the nodes of the plan that ran, depth first, as "Node
// Type", "Node Type on table" or "Node Type using index".
func (n planNode) steps() []string {
	if n.ActualLoops == 0 {
		return nil // never executed
	}
	s := n.NodeType
	if n.IndexName != "" {
		s += " using " + n.IndexName
	} else if n.Relation != "" {
		s += " on " + n.Relation
	}
	out := []string{s}
	for _, c := range n.Plans {
		out = append(out, c.steps()...)
	}
	return out
}

// explain runs query (planned as it is run, with mode) under EXPLAIN
// ANALYZE, and returns the steps of its plan that ran.
func explain(t *testing.T, s *Store, mode pgx.QueryExecMode, query string, args ...any) []string {
	t.Helper()
	var out []struct{ Plan planNode }
	var raw []byte
	err := s.pool.QueryRow(t.Context(), "EXPLAIN (ANALYZE, FORMAT JSON) "+query, append([]any{mode}, args...)...).Scan(&raw)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &out))
	require.Len(t, out, 1)
	return out[0].Plan.steps()
}

// planStore is a store on a fresh schema with two tenants of n records
// (metadatatest.Fill's), a few more with rare short names, and statistics,
// as autovacuum leaves a table after a load.
func planStore(t *testing.T, n int) (*Store, []string) {
	t.Helper()
	s := openFresh(t)
	ids := metadatatest.Fill(t, s, "t1", n, 100)
	metadatatest.Fill(t, s, "t2", n, 100)
	var odd []*metadata.Record
	for i, name := range []string{"zqx.txt", "QZXW-notes.txt", "Zq.txt"} {
		odd = append(odd, &metadata.Record{ID: fmt.Sprintf("%s-odd-%d", ids[len(ids)/2], i), Tenant: "t1", Filename: name})
	}
	require.NoError(t, s.Create(t.Context(), odd))
	_, err := s.pool.Exec(t.Context(), `VACUUM (ANALYZE) attachments, attachment_labels, attachment_jobs`)
	require.NoError(t, err)
	return s, ids
}

// Every List walks an index in ID order from the cursor, with no sort and
// no scan of the table. A filename search that finds no page within its
// walk then collects the older matches from a filename index and sorts
// those; one that does never runs that part. Checked on two tenants of
// 20,000 records, by the steps of the plan that ran.
func TestListQueryPlans(t *testing.T) {
	s, ids := planStore(t, 20_000)
	mid := ids[len(ids)/2]
	for _, tc := range []struct {
		name   string
		q      metadata.Query
		walk   string // the index walked in ID order
		search string // the filename index searched after the walk, if any
	}{
		{"tenant", metadata.Query{}, "attachments_pkey", ""},
		{"tenant asc", metadata.Query{Ascending: true}, "attachments_pkey", ""},
		{"tenant after asc", metadata.Query{After: mid, Ascending: true}, "attachments_pkey", ""},
		{"tenant after desc", metadata.Query{After: mid}, "attachments_pkey", ""},
		{"content type", metadata.Query{ContentTypePrefix: "application/"}, "attachments_pkey", ""},
		{"owner", metadata.Query{Owner: "owner:17", After: mid}, "attachments_tenant_owner_id", ""},
		{"owner labels", metadata.Query{Owner: "owner:17", Labels: map[string]string{"workspace": "1"}}, "attachments_tenant_owner_id", ""},
		{"labels", metadata.Query{Labels: map[string]string{"workspace": "0", "pinned": "yes"}, After: mid}, "attachment_labels_tenant_key_value", ""},
		{"common label", metadata.Query{Labels: map[string]string{"workspace": "2"}}, "attachment_labels_tenant_key_value", ""},
		{"rare label asc", metadata.Query{Labels: map[string]string{"pinned": "yes"}, Ascending: true}, "attachment_labels_tenant_key_value", ""},
		{"one character", metadata.Query{FilenameContains: "O"}, "attachments_pkey", ""},
		{"common name", metadata.Query{FilenameContains: "report"}, "attachments_pkey", ""},
		{"common short name", metadata.Query{FilenameContains: ".pdf"}, "attachments_pkey", ""},
		{"common name of an owner", metadata.Query{Owner: "owner:3", FilenameContains: "photo-"}, "attachments_tenant_owner_id", ""},
		{"rare name", metadata.Query{FilenameContains: "photo-0006667"}, "attachments_pkey", "attachments_tenant_grams5"},
		{"rare name asc", metadata.Query{FilenameContains: "PHOTO-0006667.JPG", Ascending: true}, "attachments_pkey", "attachments_tenant_grams5"},
		{"rare name after", metadata.Query{FilenameContains: "photo-0006667", After: ids[len(ids)-10]}, "attachments_pkey", "attachments_tenant_grams5"},
		{"rare short name", metadata.Query{FilenameContains: "qzx"}, "attachments_pkey", "attachments_tenant_grams3"},
		{"rare name with a label", metadata.Query{FilenameContains: "photo-0006667", Labels: map[string]string{"workspace": "3"}},
			"attachment_labels_tenant_key_value", "attachments_tenant_grams5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Tenant, q.Limit = "t1", 20
			query, args := listQuery(q, s.searchWalk)
			plan := explain(t, s, s.listMode(q), query, args...)
			joined := strings.Join(plan, "\n")
			require.NotContains(t, joined, "Seq Scan", "plan: %q", plan)
			walked := slices.IndexFunc(plan, func(s string) bool {
				return strings.HasPrefix(s, "Index") && strings.HasSuffix(s, " using "+tc.walk)
			})
			require.GreaterOrEqual(t, walked, 0, "%s is not walked; plan: %q", tc.walk, plan)
			if tc.search == "" {
				require.NotContains(t, joined, "Bitmap", "plan: %q", plan)
				if !strings.HasPrefix(query, "WITH") { // a search sorts the walk's page (at most a page)
					require.NotContains(t, plan, "Sort", "plan: %q", plan)
				}
			} else {
				require.Contains(t, plan, "Bitmap Index Scan using "+tc.search, "plan: %q", plan)
				require.Contains(t, plan, "Sort", "plan: %q", plan)
			}
			// The job states are read for the page only, by primary key.
			require.Contains(t, plan, "Index Scan using attachment_jobs_pkey", "plan: %q", plan)
		})
	}
}

// Claim and NextDue read the attachment_jobs_due index from its start, in
// the order they need: no scan of the jobs table (final jobs are not in
// the index) and no sort. Get reads the primary key.
func TestQueueAndGetPlans(t *testing.T) {
	s, ids := planStore(t, 5_000)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, query string
		args        []any
		index       string
	}{
		{"claim", claimJobs, []any{now, 10, now.Add(time.Minute)}, "attachment_jobs_due"},
		{"next due", nextDue, nil, "attachment_jobs_due"},
		{"get", getRecord, []any{ids[7], "t1"}, "attachments_"}, // the primary key, or the hash index of id
		{"finish", finishJob, []any{"completed", nil, "", now, ids[7], "analyze", 1}, "attachment_jobs_pkey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := explain(t, s, pgx.QueryExecModeCacheStatement, tc.query, tc.args...)
			joined := strings.Join(plan, "\n")
			require.NotContains(t, joined, "Seq Scan", "plan: %q", plan)
			require.NotContains(t, plan, "Sort", "plan: %q", plan)
			require.True(t, slices.ContainsFunc(plan, func(s string) bool {
				return strings.HasPrefix(s, "Index") && strings.Contains(s, " using "+tc.index)
			}), "%s is not read; plan: %q", tc.index, plan)
		})
	}
}

// Scan walks an index in ID order from its cursor, across tenants, with
// no sort and no scan of the table: attachments_scan for a whole scan,
// attachments_never_referenced for the sweep's.
func TestScanQueryPlans(t *testing.T) {
	s, ids := planStore(t, 20_000)
	_, err := s.pool.Exec(t.Context(), `UPDATE attachments SET ever_referenced = true WHERE tenant = 't2'`)
	require.NoError(t, err)
	_, err = s.pool.Exec(t.Context(), `VACUUM (ANALYZE) attachments`)
	require.NoError(t, err)
	mid := ids[len(ids)/2]
	for _, tc := range []struct {
		name string
		q    metadata.ScanQuery
		walk string
	}{
		{"all", metadata.ScanQuery{}, "attachments_scan"},
		{"all after", metadata.ScanQuery{After: mid}, "attachments_scan"},
		{"all after before", metadata.ScanQuery{After: ids[10], Before: mid}, "attachments_scan"},
		{"never referenced", metadata.ScanQuery{NeverReferenced: true}, "attachments_never_referenced"},
		{"never referenced before", metadata.ScanQuery{NeverReferenced: true, After: ids[10], Before: mid}, "attachments_never_referenced"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Limit = 500
			query, args := scanQuery(q)
			for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec} {
				plan := explain(t, s, mode, query, args...)
				require.Equal(t, []string{"Limit", "Index Scan using " + tc.walk}, plan, "plan in mode %v", mode)
			}
		})
	}
	// And a scan returns what it walked.
	recs, err := s.Scan(t.Context(), metadata.ScanQuery{NeverReferenced: true, After: ids[10], Limit: 5})
	require.NoError(t, err)
	require.Len(t, recs, 5)
	for _, r := range recs {
		require.Equal(t, "t1", r.Tenant)
		require.Greater(t, r.ID, ids[10])
	}
}
