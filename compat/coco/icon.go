package coco

import (
	"mime"
	"strings"

	"github.com/attachkit/attachment"
)

// iconOf returns the icon name of an attachment, as Coco's clients pick a
// file-type icon by it ("pdf", "docx", "png"): the name of a specific
// detected type, which the content proves whatever the file is called;
// else the file name's extension, as Coco's server takes it (lower case,
// without the dot; "go" for a Go source file, detected only as text);
// else a family ("txt", "image", "audio", "video"); else "file".
func iconOf(a *attachment.Attachment) string {
	t, _, err := mime.ParseMediaType(a.ContentType)
	if err != nil {
		t = ""
	}
	if icon := typeIcon(t); icon != "" {
		return icon
	}
	if ext := extension(a.Filename); ext != "" {
		return ext
	}
	family, _, _ := strings.Cut(t, "/")
	switch family {
	case "text":
		return "txt"
	case "image", "audio", "video":
		return family
	}
	return "file"
}

// typeIcon returns the icon of a detected content type that names one
// kind of file, "" for a generic one (text/plain, octet-stream, zip).
func typeIcon(t string) string {
	switch t {
	case "application/pdf":
		return "pdf"
	case "application/msword":
		return "doc"
	case "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
		return "docx"
	case "application/vnd.ms-excel":
		return "xls"
	case "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
		return "xlsx"
	case "application/vnd.ms-powerpoint":
		return "ppt"
	case "application/vnd.openxmlformats-officedocument.presentationml.presentation":
		return "pptx"
	case "application/rtf", "text/rtf":
		return "rtf"
	case "application/epub+zip":
		return "epub"
	case "image/png":
		return "png"
	case "image/jpeg":
		return "jpg"
	case "image/gif":
		return "gif"
	case "image/webp":
		return "webp"
	case "image/svg+xml":
		return "svg"
	case "image/bmp":
		return "bmp"
	case "image/tiff":
		return "tiff"
	case "image/heic":
		return "heic"
	case "audio/mpeg":
		return "mp3"
	case "audio/wav", "audio/x-wav":
		return "wav"
	case "video/mp4":
		return "mp4"
	case "video/webm":
		return "webm"
	case "video/quicktime":
		return "mov"
	case "text/html":
		return "html"
	case "text/csv":
		return "csv"
	case "text/markdown":
		return "md"
	case "application/json":
		return "json"
	}
	return ""
}

// extension returns the extension of a file name, lower case and without
// the dot, or "" when it has none or one that is not 1 to 10 ASCII
// letters and digits.
func extension(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || i == len(name)-1 || len(name)-i-1 > 10 {
		return ""
	}
	ext := strings.ToLower(name[i+1:])
	for _, c := range []byte(ext) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return ""
		}
	}
	return ext
}
