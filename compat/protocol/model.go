package protocol

import (
	"net/url"

	"github.com/attachkit/attachment"
)

// model is the Protocol attachment object.
type model struct {
	ID string `json:"id"`
	// MessageID is the message_id label, null when there is none.
	MessageID *string `json:"message_id"`
	Filename  string  `json:"filename"`
	// FileURL is the dialect's download route for the attachment,
	// path-absolute under the mount prefix.
	FileURL  string `json:"file_url"`
	FileType string `json:"file_type"`
	FileSize int64  `json:"file_size"`
	// CreatedAt is in Unix seconds.
	CreatedAt int64 `json:"created_at"`
}

// listBody is the answer of GET /.
type listBody struct {
	HasMore bool     `json:"has_more"`
	Data    []*model `json:"data"`
}

// toModel renders a for a Protocol client of the dialect mounted at base.
func toModel(base string, a *attachment.Attachment) *model {
	m := &model{
		ID:        a.ID,
		Filename:  a.Filename,
		FileURL:   itemURL(base, a.ID) + "/content",
		FileType:  a.ContentType,
		FileSize:  a.Size,
		CreatedAt: a.CreatedAt.Unix(),
	}
	if v, ok := a.Labels[LabelMessage]; ok {
		m.MessageID = &v
	}
	return m
}

// itemURL is the path of the attachment's own route under base.
func itemURL(base, id string) string {
	return base + "/" + url.PathEscape(id)
}
