package pgstore

import "strings"

// gramLen is the length, in characters, of the substrings that the index
// attachments_filename_grams holds (see the SQL function
// attachment_filename_grams in migrations/0001_init.sql, which must agree).
const gramLen = 5

// searchCondition is the WHERE condition of a search for the lowercased
// substring sub (non-empty) in filename_lower, as the filename indexes
// answer it; arg adds a parameter and returns its placeholder.
//
// A sub of gramLen characters or more: filename_lower must have each of
// sub's gramLen-character substrings that queryGrams picks, which the grams
// index answers in time that follows the matches, and then contain sub
// (matchCondition). LIKE is not used, so that the planner does not reach
// for the trigram index too, whose work on a long name grows with the
// table.
//
// A shorter sub: LIKE '%sub%', which the trigram index answers.
func searchCondition(sub string, arg func(any) string) string {
	if grams := queryGrams(sub); grams != nil {
		return "attachment_filename_grams(a.filename_lower) @> " + arg(grams) + "::text[] AND " + matchCondition(sub, arg)
	}
	return matchCondition(sub, arg)
}

// matchCondition is the WHERE condition that filename_lower contains the
// lowercased substring sub, to check on rows at hand: strpos, which has no
// wildcards, for a sub of gramLen characters or more; LIKE '%sub%' with
// sub's wildcards escaped, which the trigram index can answer, for a
// shorter one.
func matchCondition(sub string, arg func(any) string) string {
	if len([]rune(sub)) >= gramLen {
		return "strpos(a.filename_lower, " + arg(sub) + ") > 0"
	}
	return "a.filename_lower LIKE " + arg(containsPattern(sub))
}

// queryGrams returns substrings of gramLen characters of sub that together
// cover it: one at every gramLen-th character, and the last gramLen. A
// string that contains sub contains them all; they overlap as little as
// possible, so that the planner's estimate of how many records have them
// all (which takes each as independent of the others) is not far too low.
// It returns nil for a sub shorter than gramLen.
func queryGrams(sub string) []string {
	rs := []rune(sub)
	if len(rs) < gramLen {
		return nil
	}
	var out []string
	for i := 0; i+gramLen <= len(rs); i += gramLen {
		out = append(out, string(rs[i:i+gramLen]))
	}
	if len(rs)%gramLen != 0 {
		out = append(out, string(rs[len(rs)-gramLen:]))
	}
	return out
}

// containsPattern is the LIKE pattern that matches strings containing sub:
// %, _ and the escape character \ in sub are escaped, so that every
// character of sub matches only itself.
func containsPattern(sub string) string {
	var b strings.Builder
	b.Grow(len(sub) + 2)
	b.WriteByte('%')
	for _, c := range []byte(sub) { // the three are ASCII: bytes suffice
		if c == '%' || c == '_' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('%')
	return b.String()
}
