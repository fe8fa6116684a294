package chat

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/wire"
)

// The attachmentState values this API reports. The document lists states
// of a client-driven upload (checksums computed on the client, progress);
// a record exists here only once its content is stored and verified, so
// every attachment is StateReady.
const (
	StateReady   = "ReadyForDownloadFromServerToClient"
	StateInitial = "Initial"
)

// Attachment is an attachment's metadata as the chat API answers it.
type Attachment struct {
	// AttachmentID is the attachment's ID: a UUID string, where the
	// document shows a number (see the package's docs).
	AttachmentID string `json:"attachmentId"`
	// AttachmentState is StateReady.
	AttachmentState string `json:"attachmentState"`
	// CreatedUTC and LastModifiedUTC are Unix times in milliseconds.
	CreatedUTC int64 `json:"createdUtc"`
	// FileChecksum is the SHA-256 of the content, in lower-case hex.
	FileChecksum string `json:"fileChecksum"`
	FileName     string `json:"fileName"`
	FileSize     int64  `json:"fileSize"`
	// HasThumbnail reports whether the native API's thumbnail route
	// serves a thumbnail of it (attachment.Service.Thumbnailable).
	HasThumbnail    bool  `json:"hasThumbnail"`
	LastModifiedUTC int64 `json:"lastModifiedUtc"`
	// RoomID and TextMessageID come from the labels "roomId" and
	// "textMessageId": null when the attachment has none.
	RoomID        ID `json:"roomId"`
	TextMessageID ID `json:"textMessageId"`
	// DownloadURL is the path of the content's download route, with the
	// mount prefix: a field the document does not have.
	DownloadURL string `json:"downloadUrl"`
}

// UploadAnswer is the body of a successful upload.
type UploadAnswer struct {
	// HTTPStatusCode is 200.
	HTTPStatusCode int `json:"httpStatusCode"`
	// Attachments are the stored files, in the order sent: a field the
	// document does not have, which gives clients the new IDs.
	Attachments []Attachment `json:"attachments"`
}

// OKAnswer is the body of a successful delete: {"httpStatusCode":200}.
type OKAnswer struct {
	HTTPStatusCode int `json:"httpStatusCode"`
}

// ID is a room's or a message's ID. In JSON it is a number when it is one
// written canonically (digits without a leading zero) and small enough for
// JavaScript to hold exactly (at most 2^53-1); any other ID is a string,
// and the empty ID is null. Unmarshaling accepts all three.
type ID string

// maxSafeInteger is JavaScript's Number.MAX_SAFE_INTEGER.
const maxSafeInteger = 1<<53 - 1

// MarshalJSON writes id as a number, a string or null.
func (id ID) MarshalJSON() ([]byte, error) {
	if id == "" {
		return []byte("null"), nil
	}
	if id.numeric() {
		return []byte(id), nil
	}
	return json.Marshal(string(id))
}

// numeric reports whether id is written as a JSON number.
func (id ID) numeric() bool {
	s := string(id)
	if s == "" || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return err == nil && n <= maxSafeInteger
}

// UnmarshalJSON reads a number, a string or null.
func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*id = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = ID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	if _, err := strconv.ParseUint(n.String(), 10, 64); err != nil {
		return errors.New("chat: an ID number must be a non-negative integer")
	}
	*id = ID(n.String())
	return nil
}

// record turns a into the dialect's metadata; base is the mount path.
func record(svc *attachment.Service, a *attachment.Attachment, base string) Attachment {
	state := StateInitial
	if a.State == wire.StateReady {
		state = StateReady
	}
	return Attachment{
		AttachmentID:    a.ID,
		AttachmentState: state,
		CreatedUTC:      a.CreatedAt.UnixMilli(),
		FileChecksum:    a.SHA256,
		FileName:        a.Filename,
		FileSize:        a.Size,
		HasThumbnail:    svc.Thumbnailable(a),
		LastModifiedUTC: a.UpdatedAt.UnixMilli(),
		RoomID:          ID(a.Labels[LabelRoomID]),
		TextMessageID:   ID(a.Labels[LabelTextMessageID]),
		DownloadURL:     downloadURL(base, a),
	}
}

// downloadURL is the path of a's download route under base.
func downloadURL(base string, a *attachment.Attachment) string {
	name := a.Filename
	if name == "" {
		name = "file"
	}
	return base + "/attachments/" + url.PathEscape(a.ID) + "/" + url.PathEscape(name)
}
