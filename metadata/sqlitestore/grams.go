package sqlitestore

import (
	"context"
	"database/sql"
	"strings"
	"unicode/utf8"
)

// gramLen is the length, in characters, of the substrings of names that
// attachment_grams indexes (see 0003_search.sql and 0005_search_tenant.sql).
const gramLen = 5

// maxPlanGrams is the most grams of a search that planning it looks at
// (see rarestGram): a search of up to 20 characters has no more, and a
// longer one is planned from maxPlanGrams of its grams spread along it, so
// that the work of planning does not grow with the length of the search.
// Any gram of the search will do to narrow the candidates, which the
// search itself then checks: the choice changes the cost, never the
// result.
const maxPlanGrams = 16

// The statements that keep attachment_names and attachment_grams in step
// with attachments.
const (
	insertName = `INSERT INTO attachment_names (id) VALUES (?)`
	insertGram = `INSERT OR IGNORE INTO attachment_grams (tenant, gram, seq) VALUES (?, ?, ?)`
	deleteGram = `DELETE FROM attachment_grams WHERE tenant = ? AND gram = ? AND seq = ?`
)

// grams returns the distinct substrings of name that are gramLen
// characters long, in order. A name with invalid UTF-8 is cut at the same
// places as range cuts it (each invalid byte a character), so every valid
// substring of gramLen characters is among them.
func grams(name string) []string {
	var starts [gramLen + 1]int // byte offsets of the last gramLen+1 characters
	var out []string
	seen := make(map[string]bool)
	n := 0
	for i := range name {
		starts[n%(gramLen+1)] = i
		n++
		if n > gramLen {
			g := name[starts[(n-gramLen-1)%(gramLen+1)]:i]
			if !seen[g] {
				seen[g] = true
				out = append(out, g)
			}
		}
	}
	if n >= gramLen {
		g := name[starts[(n-gramLen)%(gramLen+1)]:]
		if !seen[g] {
			out = append(out, g)
		}
	}
	return out
}

// searchGrams returns the grams of a (lowercased) search text, or ok false
// when the index cannot answer it: text shorter than gramLen characters
// has none, and text that is not valid UTF-8 or holds a NUL is left to the
// walk, which compares bytes.
func searchGrams(text string) (gs []string, ok bool) {
	if utf8.RuneCountInString(text) < gramLen || !utf8.ValidString(text) || strings.ContainsRune(text, 0) {
		return nil, false
	}
	return grams(text), true
}

// spread returns at most n (2 or more) of gs: all of them if they are no
// more, else n spread evenly from the first to the last.
func spread(gs []string, n int) []string {
	if len(gs) <= n {
		return gs
	}
	out := make([]string, n)
	for i := range out {
		out[i] = gs[i*(len(gs)-1)/(n-1)]
	}
	return out
}

// addName numbers a new attachment in attachment_names and indexes the
// grams of its lowercased name under its tenant and that number.
func addName(ctx context.Context, ins, gram *sql.Stmt, tenant, id, nameLower string) error {
	res, err := ins.ExecContext(ctx, id)
	if err != nil {
		return err
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return err
	}
	return addGrams(ctx, gram, tenant, seq, nameLower)
}

func addGrams(ctx context.Context, gram *sql.Stmt, tenant string, seq int64, nameLower string) error {
	for _, g := range grams(nameLower) {
		if _, err := gram.ExecContext(ctx, tenant, g, seq); err != nil {
			return err
		}
	}
	return nil
}

// renameGrams moves the attachment numbered seq, of tenant, from the grams
// of its old lowercased name to those of its new one.
func renameGrams(ctx context.Context, tx *sql.Tx, tenant string, seq int64, oldLower, newLower string) error {
	if oldLower == newLower {
		return nil
	}
	if err := dropGrams(ctx, tx, tenant, seq, oldLower); err != nil {
		return err
	}
	ins, err := tx.PrepareContext(ctx, insertGram)
	if err != nil {
		return err
	}
	defer ins.Close()
	return addGrams(ctx, ins, tenant, seq, newLower)
}

// dropGrams removes the attachment numbered seq, of tenant, from the grams
// of its lowercased name.
func dropGrams(ctx context.Context, tx *sql.Tx, tenant string, seq int64, nameLower string) error {
	gs := grams(nameLower)
	if len(gs) == 0 {
		return nil
	}
	del, err := tx.PrepareContext(ctx, deleteGram)
	if err != nil {
		return err
	}
	defer del.Close()
	for _, g := range gs {
		if _, err := del.ExecContext(ctx, tenant, g, seq); err != nil {
			return err
		}
	}
	return nil
}

// nameSeq returns the number of the attachment id in attachment_names.
func nameSeq(ctx context.Context, tx *sql.Tx, id string) (int64, error) {
	var seq int64
	err := tx.QueryRowContext(ctx, `SELECT seq FROM attachment_names WHERE id = ?`, id).Scan(&seq)
	return seq, err
}
