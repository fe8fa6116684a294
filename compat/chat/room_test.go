package chat_test

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/compat/chat"
	"github.com/attachkit/attachment/internal/compattest"
)

// TestRoomAndMessageIDs: the room comes from a roomId field or query
// parameter; roomId and textMessageId are JSON numbers when they are
// canonical integers JavaScript holds exactly, strings otherwise, null
// when unknown; both are stored as labels.
func TestRoomAndMessageIDs(t *testing.T) {
	for _, be := range compattest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			e := newEnv(t, be, nil)
			for _, c := range []struct {
				name, path, query string
				form              *browserForm
				room, message     string // the labels
				roomJSON, msgJSON any
			}{
				{"no room", "1234567", "", newBrowserForm(), "", "1234567", nil, float64(1234567)},
				{"room as a form field", "1234567", "", newBrowserForm().field("roomId", "6"), "6", "1234567", float64(6), float64(1234567)},
				{"room as a field after the files", "9", "", nil, "6", "9", float64(6), float64(9)},
				{"room in the query", "9", "?roomId=6", newBrowserForm(), "6", "9", float64(6), float64(9)},
				{"room in both, the same", "9", "?roomId=6", newBrowserForm().field("roomId", "6"), "6", "9", float64(6), float64(9)},
				{"names, not numbers", "msg-9", "?roomId=general", newBrowserForm(), "general", "msg-9", "general", "msg-9"},
				{"a leading zero stays a string", "007", "", newBrowserForm().field("roomId", "06"), "06", "007", "06", "007"},
				{"zero is a number", "0", "", newBrowserForm().field("roomId", "0"), "0", "0", float64(0), float64(0)},
				{"2^53-1 is a number", "9007199254740991", "", newBrowserForm(), "", "9007199254740991", nil, float64(9007199254740991)},
				{"2^53 is a string", "9007199254740992", "", newBrowserForm(), "", "9007199254740992", nil, "9007199254740992"},
				{"negative is a string", "-5", "", newBrowserForm(), "", "-5", nil, "-5"},
				{"escaped in the path", "a%20b%2Fc", "", newBrowserForm(), "", "a b/c", nil, "a b/c"},
				{"UTF-8", "%E2%9C%93", "?roomId=%C3%A9t%C3%A9", newBrowserForm(), "été", "✓", "été", "✓"},
			} {
				t.Run(c.name, func(t *testing.T) {
					f := c.form
					if f == nil {
						f = newBrowserForm().file("files", "a.txt", "", []byte("a")).field("roomId", "6")
					} else {
						f.file("files", "a.txt", "", []byte("a"))
					}
					body, ct := f.body()
					rec := e.Do(http.MethodPost, "/api/v1/messages/"+c.path+"/attachments"+c.query, body, fetchHeaders(ct)...)
					got := e.uploadAnswer(rec)
					require.Len(t, got, 1)
					m := fields(t, rec.Body.Bytes())["attachments"].([]any)[0].(map[string]any)
					assert.Equal(t, c.roomJSON, m["roomId"])
					assert.Equal(t, c.msgJSON, m["textMessageId"])
					// The labels, as the native API and the Service see them.
					a, err := e.Service.Get(t.Context(), got[0].AttachmentID)
					require.NoError(t, err)
					want := map[string]string{chat.LabelTextMessageID: c.message}
					if c.room != "" {
						want[chat.LabelRoomID] = c.room
					}
					assert.Equal(t, want, a.Labels)
					// The metadata route answers the same.
					rec = e.Do(http.MethodGet, "/api/v1/attachments/"+got[0].AttachmentID, nil, "Cookie", sessionCookie)
					require.Equal(t, http.StatusOK, rec.Code)
					m = fields(t, rec.Body.Bytes())
					assert.Equal(t, c.roomJSON, m["roomId"])
					assert.Equal(t, c.msgJSON, m["textMessageId"])
				})
			}
		})
	}
}

// TestRoomIDCallback: with Options.RoomID the host names the room (the
// client's roomId is ignored), refuses unknown messages before the body is
// read, and its other errors are a 500 that does not show their text.
func TestRoomIDCallback(t *testing.T) {
	for _, be := range compattest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			var calls atomic.Int32
			e := newEnv(t, be, &envOptions{chat: &chat.Options{
				RoomID: func(r *http.Request, messageID string) (string, error) {
					calls.Add(1)
					switch messageID {
					case "1234567":
						return "6", nil
					case "a b":
						return "room of a b", nil
					case "orphan":
						return "", nil
					case "broken":
						return "", errors.New("database password is hunter2")
					}
					return "", &attachment.Error{Kind: attachment.ErrNotFound, Detail: "message " + messageID + " not found"}
				},
			}})
			file := func() *browserForm { return newBrowserForm().file("files", "a.txt", "", []byte("a")) }
			a := e.uploadOK("1234567", file().field("roomId", "99"))[0]
			assert.Equal(t, chat.ID("6"), a.RoomID)
			assert.Equal(t, chat.ID("1234567"), a.TextMessageID)
			a = e.uploadOK("a%20b", file())[0]
			assert.Equal(t, chat.ID("room of a b"), a.RoomID)
			a = e.uploadOK("orphan", file())[0]
			assert.Equal(t, chat.ID(""), a.RoomID)
			stored, err := e.Service.Get(t.Context(), a.AttachmentID)
			require.NoError(t, err)
			assert.NotContains(t, stored.Labels, chat.LabelRoomID)
			require.Equal(t, int32(3), calls.Load())

			before := e.Snapshot()
			// Refused before any of the body is read.
			body, ct := file().body()
			spy := &readSpy{r: body}
			text := requireChatError(t, e.Do(http.MethodPost, "/api/v1/messages/555/attachments", spy, fetchHeaders(ct)...), http.StatusNotFound)
			assert.Equal(t, "message 555 not found", text)
			assert.False(t, spy.read.Load(), "the body was read")
			text = requireChatError(t, e.upload("broken", file()), http.StatusInternalServerError)
			assert.NotContains(t, text, "hunter2")
			e.RequireNothingStored(before)
			// Not asked when the caller is not signed in.
			calls.Store(0)
			body, ct = file().body()
			requireChatError(t, e.Do(http.MethodPost, "/api/v1/messages/1234567/attachments", body, "Content-Type", ct), http.StatusUnauthorized)
			assert.Zero(t, calls.Load())
			e.RequireNothingStored(before)
		})
	}
}

// readSpy records whether its reader was read.
type readSpy struct {
	r    io.Reader
	read atomic.Bool
}

func (s *readSpy) Read(p []byte) (int, error) {
	s.read.Store(true)
	return s.r.Read(p)
}

// TestAccessHookSeesRoom: the host's Allow hook is asked about each file
// with its labels as they will be stored, so it can hold uploads to the
// rooms the caller is in (asked again with a roomId that comes after the
// files); a refusal stores nothing.
func TestAccessHookSeesRoom(t *testing.T) {
	for _, be := range compattest.Backends() {
		t.Run(be.Name, func(t *testing.T) {
			var seen atomic.Value
			access := attachment.AccessFuncs{
				IdentifyFunc: compattest.TokenAccess(chat.Token).Identify,
				AllowFunc: func(r *http.Request, c attachment.Caller, op attachment.Operation, a *attachment.Attachment) error {
					if op != attachment.OpUpload || a == nil {
						return nil
					}
					seen.Store(a.Labels)
					// A room the caller is not in. (A hook that required
					// a room would refuse a file before a roomId field
					// sent after it arrives: see the docs.)
					if room, ok := a.Labels[chat.LabelRoomID]; ok && room != "6" {
						return attachment.ErrForbidden
					}
					return nil
				},
			}
			e := newEnv(t, be, &envOptions{handler: &attachment.HandlerOptions{Access: access}})
			before := e.Snapshot()
			// The room comes after the file: the hook is asked again with it.
			f := newBrowserForm().file("files", "a.txt", "", []byte("a")).field("roomId", "7")
			requireChatError(t, e.upload("1", f), http.StatusForbidden)
			assert.Equal(t, map[string]string{"roomId": "7", "textMessageId": "1"}, seen.Load())
			e.RequireNothingStored(before)
			f = newBrowserForm().file("files", "a.txt", "", []byte("a")).field("roomId", "6")
			require.Len(t, e.uploadOK("1", f), 1)
		})
	}
}
