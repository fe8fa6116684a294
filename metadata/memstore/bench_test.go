package memstore_test

import (
	"fmt"
	"testing"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/metadata/memstore"
	"github.com/attachkit/attachment/metadata/metadatatest"
)

func BenchmarkStore(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint("n=", n), func(b *testing.B) {
			metadatatest.Benchmark(b, n, func(*testing.B) metadata.Store { return memstore.New() })
		})
	}
}
