package attachment_test

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/metadata/metadatatest"
	"github.com/attachkit/attachment/metadata/sqlitestore"
	"github.com/attachkit/attachment/storage"
)

var maintainRecords = flag.String("maintain.records", "10000",
	"comma-separated record counts for BenchmarkMaintain")

// BenchmarkMaintain measures one Maintain (no sweep) over n attachments on
// file+sqlite: n content files and records (two tenants), every 100th
// with a thumbnail, and nothing to repair, which is the usual case. It
// reports the time per attachment checked. Repeat with:
//
//	go test . -run '^$' -bench BenchmarkMaintain -benchtime 3x -maintain.records 10000,100000
func BenchmarkMaintain(b *testing.B) {
	for _, f := range strings.Split(*maintainRecords, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		require.NoError(b, err)
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			// Opened by URL, as attachment.Open opens it.
			content, err := storage.Open(context.Background(), "file://"+filepath.Join(dir, "blobs")+"?create_dir=1&no_tmp_dir=1&metadata=skip")
			require.NoError(b, err)
			defer content.Close()
			bucket := content.Bucket()
			meta, err := sqlitestore.Open(context.Background(), filepath.Join(dir, "meta.db"), nil)
			require.NoError(b, err)
			defer meta.Close()
			var ids []string
			ids = append(ids, metadatatest.Fill(b, meta, "t1", n/2, 100)...)
			ids = append(ids, metadatatest.Fill(b, meta, "t2", n-n/2, 100)...)
			for i, id := range ids {
				require.NoError(b, bucket.WriteAll(b.Context(), storage.ContentKey(id), []byte("content"), nil))
				if i%100 == 0 {
					require.NoError(b, bucket.WriteAll(b.Context(), storage.DerivativeKey(id, "thumb-256"), []byte("thumb"), nil))
				}
			}
			svc, err := attachment.New(content, meta, &attachment.Options{Processing: attachment.ProcessingOptions{Workers: attachment.Off}, Maintenance: attachment.MaintenanceOptions{OrphanGrace: time.Nanosecond}})
			require.NoError(b, err)
			defer svc.Close()
			b.ResetTimer()
			for b.Loop() {
				rep, err := svc.Maintain(b.Context())
				require.NoError(b, err)
				require.Equal(b, attachment.MaintenanceReport{ContentChecked: n, RecordsChecked: n}, rep)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/attachment")
		})
	}
}
