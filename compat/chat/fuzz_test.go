package chat_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment/compat/chat"
	"github.com/attachkit/attachment/internal/compattest"
)

// FuzzUpload sends uploads with any messageId (in the path), roomId (a form
// field) and file name: each is stored with exactly those IDs as labels,
// answered with them, or refused with 400 in the chat body and nothing
// stored.
func FuzzUpload(f *testing.F) {
	f.Add("1234567", "6", "Document.pdf")
	f.Add("msg 9/x", "général", "a\"b.txt")
	f.Add("\x01", "", "a.txt")
	f.Add("007", "\n", "")
	f.Add("1", "6", "../../x")
	f.Add(" ", "9007199254740993", "\xff.txt")
	shared := newEnv(f, compattest.Backends()[0], nil)
	f.Fuzz(func(t *testing.T, messageID, roomID, name string) {
		// The stores are shared; the checks report to this input's t.
		ce := *shared.Env
		ce.T = t
		e := &env{&ce}
		if len(name) > 300 || len(roomID) > 300 || len(messageID) > 300 {
			return
		}
		switch messageID {
		case "", ".", "..":
			// No path reaches these: the mux (and every browser) removes
			// dot segments and redirects "//".
			return
		}
		form := newBrowserForm()
		if roomID != "" {
			form.field("roomId", roomID)
		}
		form.file("files", name, "", []byte("fuzz"))
		before := e.Snapshot()
		rec := e.upload(url.PathEscape(messageID), form)
		if rec.Code != http.StatusOK {
			requireChatError(t, rec, http.StatusBadRequest)
			e.RequireNothingStored(before)
			return
		}
		got := e.uploadAnswer(rec)
		require.Len(t, got, 1)
		require.Equal(t, chat.ID(messageID), got[0].TextMessageID)
		require.Equal(t, chat.ID(roomID), got[0].RoomID)
		a, err := e.Service.Get(t.Context(), got[0].AttachmentID)
		require.NoError(t, err)
		require.Equal(t, messageID, a.Labels[chat.LabelTextMessageID])
		require.Equal(t, roomID, a.Labels[chat.LabelRoomID])
		require.Equal(t, a.Filename, got[0].FileName)
		require.NoError(t, e.Service.Delete(t.Context(), a.ID, nil))
	})
}
