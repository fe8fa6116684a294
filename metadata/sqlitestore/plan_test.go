package sqlitestore

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

// Every List walks an index in id order from the cursor: no table scan, and
// no sort (a temp B-tree) whose cost grows with the tenant.
func TestListQueryPlans(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "meta.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })

	for _, tc := range []struct {
		name  string
		q     metadata.Query
		index string // the index the walk uses
	}{
		{"tenant", metadata.Query{Tenant: "t"}, "PRIMARY KEY (tenant=?)"},
		{"tenant after asc", metadata.Query{Tenant: "t", After: "x", Ascending: true}, "PRIMARY KEY (tenant=? AND id>?)"},
		{"tenant after desc", metadata.Query{Tenant: "t", After: "x"}, "PRIMARY KEY (tenant=? AND id<?)"},
		{"search", metadata.Query{Tenant: "t", FilenameContains: "x", ContentTypePrefix: "image/"}, "PRIMARY KEY (tenant=?)"},
		{"owner", metadata.Query{Tenant: "t", Owner: "o", After: "x"}, "attachments_tenant_owner_id (tenant=? AND owner=? AND id<?)"},
		{"owner labels", metadata.Query{Tenant: "t", Owner: "o", Labels: map[string]string{"a": "1"}}, "attachments_tenant_owner_id (tenant=? AND owner=?)"},
		{"labels", metadata.Query{Tenant: "t", Labels: map[string]string{"a": "1", "b": "2"}, After: "x"},
			"attachment_labels_tenant_key_value (tenant=? AND key=? AND value=? AND attachment_id<?)"},
		{"labels asc", metadata.Query{Tenant: "t", Labels: map[string]string{"a": "1"}, Ascending: true},
			"attachment_labels_tenant_key_value (tenant=? AND key=? AND value=?)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Limit = 20
			query, args := listQuery(tc.q, listPlan{})
			plan := queryPlan(t, s, query, args...)
			require.NotEmpty(t, plan)
			require.Contains(t, plan[0], tc.index, "plan: %q", plan)
			for _, step := range plan {
				require.NotContains(t, step, "TEMP B-TREE", "plan: %q", plan)
				require.True(t, strings.HasPrefix(step, "SEARCH "), "plan step %q is not an index search; plan: %q", step, plan)
			}
		})
	}
}

// A filename search that matches few names starts from the gram index,
// then looks up each name's record by key; only those (at most
// searchCandidates) are sorted.
func TestSearchQueryPlan(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "meta.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })

	for _, q := range []metadata.Query{
		{Tenant: "t", FilenameContains: "report"},
		{Tenant: "t", FilenameContains: "report", Owner: "o", After: "x", Labels: map[string]string{"a": "1"}},
		{Tenant: "t", FilenameContains: "report", Ascending: true},
	} {
		q.Limit = 20
		query, args := listQuery(q, listPlan{gram: "repor"})
		plan := queryPlan(t, s, query, args...)
		require.GreaterOrEqual(t, len(plan), 3, "plan: %q", plan)
		require.Contains(t, plan[0], "SEARCH g USING PRIMARY KEY (tenant=? AND gram=?)", "plan: %q", plan)
		require.Contains(t, plan[1], "SEARCH n USING INTEGER PRIMARY KEY (rowid=?)", "plan: %q", plan)
		require.Regexp(t, `^SEARCH a USING (PRIMARY KEY|INDEX sqlite_autoindex_attachments_1) \((tenant=\? AND id=\?|id=\? AND tenant=\?)\)$`, plan[2], "plan: %q", plan)
	}
}

// Claim and NextDue read the jobs_due index from its start, in the order
// they need: no scan of the jobs table (final jobs are not in the index)
// and no sort.
func TestQueueQueryPlans(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "meta.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })

	for _, tc := range []struct {
		name, query string
		args        []any
		index       string
	}{
		{"claim", claimSelect, []any{int64(1), 10}, "jobs_due (due_at<?)"},
		{"next due", nextDueSelect, nil, "jobs_due"},
		{"processing", `SELECT attachment_id, processor, state FROM jobs WHERE attachment_id IN (?, ?, ?)`,
			[]any{"a", "b", "c"}, "PRIMARY KEY (attachment_id=?)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := queryPlan(t, s, tc.query, tc.args...)
			require.Len(t, plan, 1, "plan: %q", plan)
			require.Contains(t, plan[0], tc.index, "plan: %q", plan)
			require.NotContains(t, plan[0], "TEMP B-TREE", "plan: %q", plan)
			require.True(t, strings.HasPrefix(plan[0], "SEARCH jobs USING "), "plan: %q", plan)
		})
	}
}

// queryPlan returns the detail column of EXPLAIN QUERY PLAN query.
func queryPlan(t *testing.T, s *Store, query string, args ...any) []string {
	t.Helper()
	rows, err := s.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	require.NoError(t, err)
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(t, rows.Err())
	return plan
}
