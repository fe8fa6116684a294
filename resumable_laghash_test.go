package attachment_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
)

// Appends of several pipe chunks each may save hash states behind their
// bytes (storage.AppendOptions.LagHash, on a file bucket): the next
// append, on this Service or on another after a restart, hashes what they
// lack, and the commit checks the declared digests against every byte.
func TestResumableLaggingHashCommits(t *testing.T) {
	for _, be := range resumableBackends() {
		t.Run(be.name, func(t *testing.T) {
			m := newMaintEnv(t, be, nil)
			data := pdfBytes(t, 3<<20+4321)
			sum, sumMD5 := sha256.Sum256(data), md5.Sum(data)
			info := create(t, m.svc, "big.pdf", int64(len(data)), func(nu *attachment.NewUpload) {
				nu.File.SHA256, nu.File.MD5 = sum[:], sumMD5[:]
			})
			part := appendAll(t, m.svc, info.ID, "alice", data[:1<<20+700_001], 0, 1<<20+1)
			require.Nil(t, part.Attachment)
			require.NoError(t, m.svc.Close())

			svc2 := m.clock.service(t, m.st.contentStore(), m.st.meta, nil)
			m.svc = svc2
			done := appendAll(t, svc2, info.ID, "alice", data, part.Offset, 1<<20, 1<<20)
			require.NotNil(t, done.Attachment)
			assert.Equal(t, hex.EncodeToString(sum[:]), done.Attachment.SHA256)
			m.requireIntact(done.Attachment, data)

			// A declared digest that does not match is still refused.
			wrong := md5.Sum(data[1:])
			bad := create(t, svc2, "big.pdf", int64(len(data)), func(nu *attachment.NewUpload) { nu.File.MD5 = wrong[:] })
			appendAll(t, svc2, bad.ID, "alice", data[:2<<20], 0, 1<<20+3)
			_, err := svc2.AppendUpload(t.Context(), bad.ID, "alice", &attachment.AppendRequest{
				Offset: 2 << 20, Body: bytes.NewReader(data[2<<20:]), SetLength: -1,
			})
			require.ErrorIs(t, err, attachment.ErrChecksumMismatch)
		})
	}
}
