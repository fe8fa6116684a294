package metadatatest

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

func filterTests() []test {
	return []test{
		{"Owner", testFilterOwner},
		{"Labels", testFilterLabels},
		{"FilenameContains", testFilterFilename},
		{"FilenameContainsNonASCII", testFilterFilenameNonASCII},
		{"FilenameContainsSQLWildcardsAreLiteral", testFilterFilenameWildcards},
		{"FilenameContainsStaysInTenant", testFilterFilenameTenants},
		{"ContentTypePrefix", testFilterContentType},
		{"Combined", testFilterCombined},
	}
}

// named makes a record in tenant t1 per filename and returns them by name.
func named(t *testing.T, s metadata.Store, filenames ...string) map[string]string {
	t.Helper()
	out := make(map[string]string, len(filenames))
	var recs []*metadata.Record
	for _, f := range filenames {
		r := newRecord(t, "t1", func(r *metadata.Record) { r.Filename = f })
		out[f] = r.ID
		recs = append(recs, r)
	}
	mustCreate(t, s, recs...)
	return out
}

// requireMatches checks that q lists exactly the records named by want, in
// descending ID order.
func requireMatches(t *testing.T, s metadata.Store, q metadata.Query, byName map[string]string, want ...string) {
	t.Helper()
	var wantIDs []string
	for _, n := range want {
		id, ok := byName[n]
		require.True(t, ok, "no record named %q", n)
		wantIDs = append(wantIDs, id)
	}
	slices.Sort(wantIDs)
	slices.Reverse(wantIDs)
	got := list(t, s, q)
	if wantIDs == nil {
		wantIDs = []string{}
	}
	if got == nil {
		got = []string{}
	}
	names := make(map[string]string, len(byName))
	for n, id := range byName {
		names[id] = n
	}
	gotNames := make([]string, len(got))
	for i, id := range got {
		gotNames[i] = names[id]
	}
	require.Equal(t, wantIDs, got, "query %+v listed %q, want %q", q, gotNames, want)
}

func testFilterOwner(t *testing.T, s metadata.Store) {
	a1 := newRecord(t, "t1", func(r *metadata.Record) { r.Owner = "chat:a" })
	b := newRecord(t, "t1", func(r *metadata.Record) { r.Owner = "chat:b" })
	a2 := newRecord(t, "t1", func(r *metadata.Record) { r.Owner = "chat:a" })
	prefix := newRecord(t, "t1", func(r *metadata.Record) { r.Owner = "chat:aa" })
	none := newRecord(t, "t1", func(r *metadata.Record) { r.Owner = "" })
	mustCreate(t, s, a1, b, a2, prefix, none)
	require.Equal(t, []string{a2.ID, a1.ID}, list(t, s, metadata.Query{Tenant: "t1", Owner: "chat:a"}))
	require.Equal(t, []string{a1.ID, a2.ID}, list(t, s, metadata.Query{Tenant: "t1", Owner: "chat:a", Ascending: true}))
	require.Equal(t, []string{b.ID}, list(t, s, metadata.Query{Tenant: "t1", Owner: "chat:b"}))
	require.Empty(t, list(t, s, metadata.Query{Tenant: "t1", Owner: "CHAT:A"}), "owner is matched exactly")
	require.Len(t, list(t, s, metadata.Query{Tenant: "t1"}), 5, "an empty Owner does not filter")
}

func testFilterLabels(t *testing.T, s metadata.Store) {
	mk := func(labels map[string]string) *metadata.Record {
		return newRecord(t, "t1", func(r *metadata.Record) { r.Labels = labels })
	}
	ws1 := mk(map[string]string{"workspace": "1"})
	ws1draft := mk(map[string]string{"workspace": "1", "status": "draft", "lang": "de"})
	ws1final := mk(map[string]string{"workspace": "1", "status": "final", "lang": "de"})
	ws2draft := mk(map[string]string{"workspace": "2", "status": "draft"})
	empty := mk(map[string]string{"workspace": "", "status": "draft"})
	plain := mk(nil)
	mustCreate(t, s, ws1, ws1draft, ws1final, ws2draft, empty, plain)
	other := newRecord(t, "t2", func(r *metadata.Record) { r.Labels = map[string]string{"workspace": "1"} })
	mustCreate(t, s, other)

	q := func(labels map[string]string) metadata.Query { return metadata.Query{Tenant: "t1", Labels: labels} }
	require.Equal(t, []string{ws1final.ID, ws1draft.ID, ws1.ID}, list(t, s, q(map[string]string{"workspace": "1"})))
	require.Equal(t, []string{ws1draft.ID}, list(t, s, q(map[string]string{"workspace": "1", "status": "draft"})))
	require.Equal(t, []string{ws1draft.ID}, list(t, s, q(map[string]string{"status": "draft", "lang": "de", "workspace": "1"})))
	require.Equal(t, []string{empty.ID, ws2draft.ID, ws1draft.ID}, list(t, s, q(map[string]string{"status": "draft"})))
	require.Equal(t, []string{empty.ID}, list(t, s, q(map[string]string{"workspace": ""})), "an empty value is a value")
	require.Empty(t, list(t, s, q(map[string]string{"workspace": "2", "lang": "de"})), "every pair must match")
	require.Empty(t, list(t, s, q(map[string]string{"missing": "1"})))
	require.Empty(t, list(t, s, q(map[string]string{"workspace": "1", "missing": "1"})))
	require.Empty(t, list(t, s, q(map[string]string{"Workspace": "1"})), "keys are matched exactly")
	require.Len(t, list(t, s, q(map[string]string{})), 6, "empty Labels does not filter")
	require.Equal(t, []string{ws1draft.ID, ws1.ID}, walk(t, s, metadata.Query{
		Tenant: "t1", Labels: map[string]string{"workspace": "1"}, After: ws1final.ID, Limit: 1,
	}))
}

func testFilterFilename(t *testing.T, s metadata.Store) {
	n := named(t, s, "Invoice_Room_Service.PDF", "invoice-2.pdf", "notes.txt", "INVOICE", "voice.mp3")
	q := func(sub string) metadata.Query { return metadata.Query{Tenant: "t1", FilenameContains: sub} }
	requireMatches(t, s, q("invoice"), n, "Invoice_Room_Service.PDF", "invoice-2.pdf", "INVOICE")
	requireMatches(t, s, q("INVOICE"), n, "Invoice_Room_Service.PDF", "invoice-2.pdf", "INVOICE")
	requireMatches(t, s, q("VoIcE"), n, "Invoice_Room_Service.PDF", "invoice-2.pdf", "INVOICE", "voice.mp3")
	requireMatches(t, s, q(".pdf"), n, "Invoice_Room_Service.PDF", "invoice-2.pdf")
	requireMatches(t, s, q("room service"), n)
	requireMatches(t, s, q("notes.txt"), n, "notes.txt")
	requireMatches(t, s, q("notes.txt.bak"), n)
	requireMatches(t, s, q(""), n, "Invoice_Room_Service.PDF", "invoice-2.pdf", "notes.txt", "INVOICE", "voice.mp3")
}

func testFilterFilenameNonASCII(t *testing.T, s metadata.Store) {
	n := named(t, s, "ÄRGER.txt", "ärger-2.txt", "Ärger 3.txt", "arger.txt", "Straße.pdf", "ΣΊΣΥΦΟΣ.doc", "日本語ファイル.png")
	q := func(sub string) metadata.Query { return metadata.Query{Tenant: "t1", FilenameContains: sub} }
	all := []string{"ÄRGER.txt", "ärger-2.txt", "Ärger 3.txt"}
	requireMatches(t, s, q("ärger"), n, all...)
	requireMatches(t, s, q("ÄRGER"), n, all...)
	requireMatches(t, s, q("äRgEr"), n, all...)
	requireMatches(t, s, q("rger"), n, append(all, "arger.txt")...)
	requireMatches(t, s, q("STRASSE"), n) // ToLower, not case folding
	requireMatches(t, s, q("STRAßE"), n, "Straße.pdf")
	requireMatches(t, s, q("σίσυφοσ"), n, "ΣΊΣΥΦΟΣ.doc") // strings.ToLower maps Σ to σ
	requireMatches(t, s, q("σίσυφος"), n)                // and leaves the final ς alone
	requireMatches(t, s, q("ΣΊΣΥΦΟΣ"), n, "ΣΊΣΥΦΟΣ.doc")
	requireMatches(t, s, q("ファイル"), n, "日本語ファイル.png")
}

// Characters that are wildcards or quotes in SQL match only themselves.
func testFilterFilenameWildcards(t *testing.T, s metadata.Store) {
	n := named(t, s,
		"100%.txt", "1000.txt", "a_b.txt", "axb.txt", `back\slash.txt`, "backslash.txt",
		"o'brien.txt", "obrien.txt", `quote".txt`, "star*.txt", "q?.txt", "[x].txt", "x.txt")
	q := func(sub string) metadata.Query { return metadata.Query{Tenant: "t1", FilenameContains: sub} }
	requireMatches(t, s, q("%"), n, "100%.txt")
	requireMatches(t, s, q("0%"), n, "100%.txt")
	requireMatches(t, s, q("%.txt"), n, "100%.txt")
	requireMatches(t, s, q("_"), n, "a_b.txt")
	requireMatches(t, s, q("a_b"), n, "a_b.txt")
	requireMatches(t, s, q(`\`), n, `back\slash.txt`)
	requireMatches(t, s, q(`k\s`), n, `back\slash.txt`)
	requireMatches(t, s, q("'"), n, "o'brien.txt")
	requireMatches(t, s, q("o'b"), n, "o'brien.txt")
	requireMatches(t, s, q("''"), n)
	requireMatches(t, s, q(`"`), n, `quote".txt`)
	requireMatches(t, s, q("*"), n, "star*.txt")
	requireMatches(t, s, q("?"), n, "q?.txt")
	requireMatches(t, s, q("[x]"), n, "[x].txt")
	requireMatches(t, s, q("%_"), n)
}

func testFilterContentType(t *testing.T, s metadata.Store) {
	var recs []*metadata.Record
	n := map[string]string{}
	for _, ct := range []string{"image/png", "image/jpeg", "imagex/png", "image", "IMAGE/GIF", "text/plain; charset=utf-8", "text/html", "app%/x", "app_/x", "appl/x"} {
		r := newRecord(t, "t1", func(r *metadata.Record) { r.ContentType = ct })
		n[ct] = r.ID
		recs = append(recs, r)
	}
	mustCreate(t, s, recs...)
	q := func(p string) metadata.Query { return metadata.Query{Tenant: "t1", ContentTypePrefix: p} }
	requireMatches(t, s, q("image/"), n, "image/png", "image/jpeg")
	requireMatches(t, s, q("image"), n, "image/png", "image/jpeg", "imagex/png", "image")
	requireMatches(t, s, q("image/png"), n, "image/png")
	requireMatches(t, s, q("image/png2"), n)
	requireMatches(t, s, q("Image/"), n)
	requireMatches(t, s, q("png"), n) // a prefix, not a substring
	requireMatches(t, s, q("text/plain"), n, "text/plain; charset=utf-8")
	requireMatches(t, s, q("app%"), n, "app%/x")
	requireMatches(t, s, q("app_"), n, "app_/x")
	requireMatches(t, s, q("_"), n)
	requireMatches(t, s, q("%"), n)
}

func testFilterCombined(t *testing.T, s metadata.Store) {
	mk := func(owner, filename, ct string, labels map[string]string) *metadata.Record {
		return newRecord(t, "t1", func(r *metadata.Record) {
			r.Owner, r.Filename, r.ContentType, r.Labels = owner, filename, ct, labels
		})
	}
	ws := map[string]string{"workspace": "1"}
	misses := []*metadata.Record{
		mk("doc:2", "Holiday.JPG", "image/jpeg", ws),                          // owner
		mk("doc:1", "Work.JPG", "image/jpeg", ws),                             // filename
		mk("doc:1", "Holiday.JPG", "application/pdf", ws),                     // type
		mk("doc:1", "Holiday.JPG", "image/jpeg", nil),                         // labels
		mk("doc:1", "Holiday.JPG", "image/jpeg", map[string]string{"x": "1"}), // labels
	}
	first := mk("doc:1", "my holiday.jpg", "image/jpeg", map[string]string{"workspace": "1", "y": "2"})
	mustCreate(t, s, misses[:3]...)
	mustCreate(t, s, first)
	mustCreate(t, s, misses[3:]...)
	second := mk("doc:1", "HOLIDAY.JPG", "image/jpeg;q=1", ws)
	mustCreate(t, s, second)
	mustCreate(t, s, newRecord(t, "t2", func(r *metadata.Record) {
		r.Owner, r.Filename, r.ContentType, r.Labels = "doc:1", "Holiday.JPG", "image/jpeg", ws
	}))
	mustCreate(t, s, mk("doc:2", "Holiday.JPG", "image/jpeg", ws)) // owner, newest of all

	q := metadata.Query{
		Tenant: "t1", Owner: "doc:1", Labels: ws, FilenameContains: "holiday", ContentTypePrefix: "image/",
	}
	require.Equal(t, []string{second.ID, first.ID}, list(t, s, q))
	q.Ascending = true
	require.Equal(t, []string{first.ID, second.ID}, list(t, s, q))
	q.Limit = 1
	require.Equal(t, []string{first.ID, second.ID}, walk(t, s, q))
}
