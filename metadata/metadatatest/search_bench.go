package metadatatest

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/metadata"
)

// The records that BenchmarkSearchCost stores: SearchCostNames in tenant
// "t1", named "scan-<40 characters of abcd>.txt", and SearchCostOthers in
// "t2", named "other-qzxvw-<i>.txt" but for the first, which is
// "other-qzxvu.txt". SearchCostRecords is their sum.
const (
	SearchCostNames   = 2600
	SearchCostOthers  = 600
	SearchCostRecords = SearchCostNames + SearchCostOthers
)

// BenchmarkSearchCost measures two costs of a filename search in tenant
// "t1" of the store open returns, filled as the constants above say:
//
//   - OtherTenant=N: a five-character search that no name of t1 contains,
//     and N names of t2 do (0, 1, 600). Its time should not depend on N: a
//     difference tells a tenant whether another has such a name.
//   - ShortOtherTenant=N: the same for a three-character search (0, 600).
//   - LongCrafted: a search of 1,000 characters of abcd whose every
//     five-character substring is in some 50 to 150 names of t1 (a de
//     Bruijn sequence: about 1,000 distinct substrings), which matches no
//     name; against Normal, a 12-character search that matches one name.
//     A store whose planning looks at every substring of the search pays
//     for its length.
func BenchmarkSearchCost(b *testing.B, open func(b *testing.B) metadata.Store) {
	s := open(b)
	b.Cleanup(func() { _ = s.Close() })
	ctx := b.Context()
	rng := rand.New(rand.NewPCG(12, 3))
	var names []string
	var batch []*metadata.Record
	for i := range SearchCostNames {
		var sb strings.Builder
		for range 40 {
			sb.WriteByte("abcd"[rng.IntN(4)])
		}
		names = append(names, sb.String())
		batch = append(batch, newRecord(b, "t1", func(r *metadata.Record) { r.Filename = "scan-" + sb.String() + ".txt" }))
		if i < SearchCostOthers {
			name := "other-qzxvw-" + sb.String()[:8] + ".txt"
			if i == 0 {
				name = "other-qzxvu.txt"
			}
			batch = append(batch, newRecord(b, "t2", func(r *metadata.Record) { r.Filename = name }))
		}
		if len(batch) >= 500 {
			require.NoError(b, s.Create(ctx, batch))
			batch = batch[:0]
		}
	}
	require.NoError(b, s.Create(ctx, batch))

	crafted := deBruijn("abcd", 5)[:1000]
	for _, bc := range []struct {
		name, text string
		want       int
	}{
		{"OtherTenant=0", "qzxvy", 0},
		{"OtherTenant=1", "qzxvu", 0},
		{"OtherTenant=600", "qzxvw", 0},
		{"ShortOtherTenant=0", "qzy", 0},
		{"ShortOtherTenant=600", "qzx", 0},
		{"Normal", names[SearchCostNames/3][10:22], 1},
		{"LongCrafted", crafted, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			q := metadata.Query{Tenant: "t1", FilenameContains: bc.text, Limit: 20}
			for b.Loop() {
				recs, err := s.List(ctx, q)
				if err != nil {
					b.Fatal(err)
				}
				if len(recs) < bc.want || (bc.want == 0 && len(recs) > 0) {
					b.Fatalf("listed %d records, want %d", len(recs), bc.want)
				}
			}
		})
	}
}

// deBruijn returns a de Bruijn sequence of order n over alphabet: a
// string of len(alphabet)^n characters, read cyclically, in which every
// string of n characters of alphabet occurs once (Fredricksen, Kessler and
// Maiorana's construction of the Lyndon words in order).
func deBruijn(alphabet string, n int) string {
	k := len(alphabet)
	a := make([]int, n+1)
	var out []byte
	var gen func(t, p int)
	gen = func(t, p int) {
		if t > n {
			if n%p == 0 {
				for _, c := range a[1 : p+1] {
					out = append(out, alphabet[c])
				}
			}
			return
		}
		a[t] = a[t-p]
		gen(t+1, p)
		for j := a[t-p] + 1; j < k; j++ {
			a[t] = j
			gen(t+1, t)
		}
	}
	gen(1, 1)
	return string(out)
}
