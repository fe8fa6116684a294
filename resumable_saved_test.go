package attachment_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
)

// An instance starts an append from the session as it last saved it:
// when another instance changed the session since (an append that moved
// no byte, a termination), it is not fooled: it reads the session again,
// goes on from the stored state, or finds the upload gone.
func TestResumableSavedSessionIsOnlyAGuess(t *testing.T) {
	for _, be := range resumableBackends() {
		t.Run(be.name, func(t *testing.T) {
			m := newMaintEnv(t, be, nil)
			a := m.svc
			b := m.clock.service(t, m.st.contentStore(), m.st.meta, nil)
			data := pdfBytes(t, 30_000)
			info := create(t, a, "a.pdf", int64(len(data)), nil)
			appendAt := func(svc *attachment.Service, from, to int) (*attachment.UploadInfo, error) {
				return svc.AppendUpload(t.Context(), info.ID, "alice", &attachment.AppendRequest{
					Offset: int64(from), Body: bytes.NewReader(data[from:to]), SetLength: -1,
				})
			}
			_, err := appendAt(a, 0, 10_000) // a keeps the session it saved
			require.NoError(t, err)
			_, err = appendAt(b, 10_000, 10_000) // b moves its version, not its offset
			require.NoError(t, err)
			got, err := appendAt(a, 10_000, 20_000) // a's saved session is stale
			require.NoError(t, err)
			assert.Equal(t, int64(20_000), got.Offset)
			_, err = appendAt(b, 20_000, 25_000) // b moves it on
			require.NoError(t, err)
			_, err = appendAt(a, 20_000, 25_000)
			var oe *attachment.OffsetError
			require.ErrorAs(t, err, &oe, "a does not take its stale offset for the stored one")
			assert.Equal(t, int64(25_000), oe.Expected)
			done, err := appendAt(a, 25_000, 30_000)
			require.NoError(t, err)
			require.NotNil(t, done.Attachment)
			m.requireIntact(done.Attachment, data)

			// A termination elsewhere is seen.
			info = create(t, a, "b.pdf", int64(len(data)), nil)
			_, err = appendAt(a, 0, 10_000)
			require.NoError(t, err)
			require.NoError(t, b.TerminateUpload(t.Context(), info.ID, "alice"))
			_, err = appendAt(a, 10_000, 20_000)
			require.ErrorIs(t, err, attachment.ErrNotFound)
		})
	}
}
