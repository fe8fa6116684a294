package pgstore

import "strconv"

// The lengths, in characters, of the substrings ("grams") that the
// filename indexes hold: attachments_tenant_grams5 for searches of gramLen
// characters or more, attachments_tenant_grams3 for shorter ones of
// minSearch or more (see the SQL function attachment_tenant_grams in
// migrations/0003_search_tenant.sql, which must agree).
const (
	gramLen      = 5
	shortGramLen = 3
)

// maxQueryGrams is the most grams of a search that its condition names: a
// search of up to 40 characters has no more, and a longer one names
// maxQueryGrams of them spread along it, so that the work of looking them
// up in the index does not grow with the length of the search. The grams
// only narrow the candidates, which strpos then checks: the choice changes
// the cost, never the result.
const maxQueryGrams = 8

// searchCondition is the WHERE condition of a search for the lowercased
// substring sub (minSearch characters or more) in tenant's filename_lower,
// as the filename indexes answer it; arg adds a parameter and returns its
// placeholder.
//
// filename_lower must have each of sub's grams that queryGrams picks,
// which the index of that gram length answers in time that follows the
// matches (of tenant only: each key names its tenant), and then contain
// sub (matchCondition). LIKE is not used, so that the planner does not
// reach for another index.
func searchCondition(sub, tenant string, arg func(any) string) string {
	n := gramLen
	if len([]rune(sub)) < gramLen {
		n = shortGramLen
	}
	grams := queryGrams(sub, n)
	keys := make([]string, len(grams))
	for i, g := range grams {
		keys[i] = g + tenant
	}
	return "attachment_tenant_grams(a.tenant, a.filename_lower, " + strconv.Itoa(n) + ") @> " + arg(keys) +
		"::text[] AND " + matchCondition(sub, arg)
}

// matchCondition is the WHERE condition that filename_lower contains the
// lowercased substring sub, to check on rows at hand: strpos, which has no
// wildcards.
func matchCondition(sub string, arg func(any) string) string {
	return "strpos(a.filename_lower, " + arg(sub) + ") > 0"
}

// queryGrams returns at most maxQueryGrams substrings of n characters of
// sub. A string that contains sub contains them all. Up to maxQueryGrams,
// they cover sub: one at every n-th character, and the last n; they
// overlap as little as possible, so that the planner's estimate of how
// many records have them all (which takes each as independent of the
// others) is not far too low. A longer sub has maxQueryGrams of those,
// spread from the first to the last. It returns nil for a sub shorter
// than n.
func queryGrams(sub string, n int) []string {
	rs := []rune(sub)
	if len(rs) < n {
		return nil
	}
	var out []string
	for i := 0; i+n <= len(rs); i += n {
		out = append(out, string(rs[i:i+n]))
	}
	if len(rs)%n != 0 {
		out = append(out, string(rs[len(rs)-n:]))
	}
	if len(out) <= maxQueryGrams {
		return out
	}
	spread := make([]string, maxQueryGrams)
	for i := range spread {
		spread[i] = out[i*(len(out)-1)/(maxQueryGrams-1)]
	}
	return spread
}
