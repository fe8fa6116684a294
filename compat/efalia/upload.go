package efalia

import (
	"net/http"
	"unicode/utf8"

	"github.com/attachkit/attachment"
)

// fileField is the form field of a multipart upload's file
// (the document's AttachmentUpload schema).
const fileField = "file"

// upload serves POST /{documentField}: one file, as a raw body or as the
// file part of a multipart/form-data body. The documentField segment is
// required by the route and otherwise ignored, as the document says of
// Efalia's own server. It answers 200 with the AttachmentMetadata.
func (h *Handler) upload(w http.ResponseWriter, r *http.Request, base string) {
	c, svc, _, err := h.h.Authorize(r, attachment.OpUpload, "")
	if err != nil {
		h.h.WriteError(w, r, err)
		return
	}
	atts, err := h.h.ReadUpload(w, r, svc, c, &attachment.UploadRequest{
		FileFields: []string{fileField},
		MaxFiles:   1,
		Raw:        RawFile,
	})
	if err != nil {
		h.h.WriteError(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, Metadata(svc, atts[0], base))
}

// RawFile names a raw-body upload as the document says: the filename
// query parameter, else a filename header, else the filename of a
// Content-Disposition header; and gives the type the client claims: the
// contentType query parameter, else the Content-Type header. A filename
// header that is not UTF-8 is read as ISO-8859-1, the historical charset
// of HTTP header values. A request that names no file is refused
// (attachment.ErrInvalidFilename), as is a malformed Content-Disposition
// (attachment.ErrInvalid).
func RawFile(r *http.Request) (name, contentType string, err error) {
	q := r.URL.Query()
	name = q.Get("filename")
	if name == "" {
		name = latin1(r.Header.Get("filename"))
	}
	if name == "" {
		if cd := r.Header.Get("Content-Disposition"); cd != "" {
			name, err = attachment.FilenameFromContentDisposition(cd)
			if err != nil {
				return "", "", &attachment.Error{Kind: attachment.ErrInvalid, Detail: "malformed Content-Disposition header"}
			}
		}
	}
	if name == "" {
		return "", "", &attachment.Error{Kind: attachment.ErrInvalidFilename,
			Detail: "the file needs a name: the filename query parameter, a filename header, or Content-Disposition: attachment; filename=..."}
	}
	contentType = q.Get("contentType")
	if contentType == "" {
		contentType = r.Header.Get("Content-Type")
	}
	return name, contentType, nil
}

// latin1 returns s, or, when s is not valid UTF-8, s read as ISO-8859-1.
func latin1(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	rs := make([]rune, len(s))
	for i := range len(s) {
		rs[i] = rune(s[i])
	}
	return string(rs)
}
