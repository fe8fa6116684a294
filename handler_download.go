package attachment

import (
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/attachkit/attachment/wire"
)

// inlineTypes are the media types a browser displays without running
// code; only these are served inline when a client asks. Everything else
// (HTML, SVG, XML, JavaScript, ...) is always an attachment.
var inlineTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
	"image/avif": true, "image/bmp": true, "image/x-icon": true, "image/vnd.microsoft.icon": true,
	"image/tiff": true, "image/heic": true, "image/heif": true, "image/jxl": true,
	"application/pdf": true,
	"text/plain":      true,
}

// inlineAllowed reports whether content of the type may be served inline.
func inlineAllowed(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	if inlineTypes[mt] {
		return true
	}
	return strings.HasPrefix(mt, "audio/") || strings.HasPrefix(mt, "video/")
}

// Download handles GET and HEAD /{id}: the content with Range and
// conditional requests as net/http's ServeContent does them (206, 304,
// 412, 416), a strong ETag from the SHA-256, and a Content-Disposition of
// attachment unless ?disposition=inline is asked for a type that is safe
// to display.
func (h *Handler) Download(w http.ResponseWriter, r *http.Request, id string) {
	disp := "attachment"
	v := ""
	if r.URL.RawQuery != "" {
		v = r.URL.Query().Get("disposition")
	}
	switch v {
	case "", "attachment":
	case "inline":
		disp = "inline"
	default:
		h.problem(w, r, http.StatusBadRequest, wire.CodeBadRequest, "disposition must be inline or attachment")
		return
	}
	_, _, a, err := h.authorize(r, OpDownload, id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.ServeContent(w, r, a, &ServeOptions{Inline: disp == "inline"})
}

// setHeaders sets each header of kv (canonical name, value, ...) to its
// value, as Header.Set does, with one allocation for all the values.
func setHeaders(h http.Header, kv ...string) {
	vals := make([]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		v := vals[i/2 : i/2+1 : i/2+1]
		v[0] = kv[i+1]
		h[kv[i]] = v
	}
}

// plainGet reports whether r asks for the whole content with no
// condition: no Range, If-Match, If-None-Match, If-Modified-Since or
// If-Unmodified-Since (If-Range matters only with a Range).
func plainGet(r *http.Request) bool {
	h := r.Header
	return h.Get("Range") == "" && h.Get("If-Match") == "" && h.Get("If-None-Match") == "" &&
		h.Get("If-Modified-Since") == "" && h.Get("If-Unmodified-Since") == ""
}

// serveWhole answers a plain GET or HEAD (plainGet) as http.ServeContent
// does, with the same headers, without its seeks to find the size:
// Last-Modified, Accept-Ranges, Content-Length (unless a Content-Encoding
// is set), 200 and, but for HEAD, the size bytes of content from its
// start (with sendfile for a local file).
func serveWhole(w http.ResponseWriter, r *http.Request, modtime time.Time, size int64, content io.Reader) {
	hdr := w.Header()
	lm := ""
	if !modtime.IsZero() && !modtime.Equal(time.Unix(0, 0)) {
		var buf [len(http.TimeFormat)]byte
		lm = string(modtime.UTC().AppendFormat(buf[:0], http.TimeFormat))
	}
	cl := ""
	if hdr.Get("Content-Encoding") == "" {
		cl = strconv.FormatInt(size, 10)
	}
	switch {
	case lm != "" && cl != "":
		setHeaders(hdr, "Last-Modified", lm, "Accept-Ranges", "bytes", "Content-Length", cl)
	case lm != "":
		setHeaders(hdr, "Last-Modified", lm, "Accept-Ranges", "bytes")
	case cl != "":
		setHeaders(hdr, "Accept-Ranges", "bytes", "Content-Length", cl)
	default:
		setHeaders(hdr, "Accept-Ranges", "bytes")
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if size <= smallContent {
		// One read into a pooled buffer and one Write: fewer calls and
		// allocations than a copy that reads the first 512 bytes, writes
		// them with the headers, and sends the rest with sendfile.
		bp := smallBufs.Get().(*[]byte)
		n, _ := io.ReadFull(content, (*bp)[:size])
		_, _ = w.Write((*bp)[:n])
		smallBufs.Put(bp)
		return
	}
	_, _ = io.CopyN(w, content, size)
}

// smallContent is the size up to which serveWhole sends content from a
// buffer of smallBufs rather than by copying (sendfile for a local file).
const smallContent = 16 << 10

var smallBufs = sync.Pool{New: func() any { b := make([]byte, smallContent); return &b }}

// serveContent serves content with http.ServeContent (ranges and
// conditional requests) after looking at the Range header itself: one of
// more than HandlerOptions.MaxRanges ranges is refused with 416 bad_request;
// one in a unit other than bytes is ignored, as RFC 9110 has it (net/http
// would refuse it); and empty suffix ranges ("-0", which net/http would
// serve as a 206 of no bytes) are dropped, a header of nothing else being
// unsatisfiable. Empty content is served whole whatever the Range asks
// (net/http would answer "bytes=-1" with a 206 and Content-Range "bytes
// 0--1/0"). The headers that describe the content must be set already,
// Content-Type among them; content must be at its start, and size its
// length. A GET or HEAD of the whole content with no condition is served
// by serveWhole, without ServeContent's seeks.
func (h *Handler) serveContent(w http.ResponseWriter, r *http.Request, modtime time.Time, size int64, content io.ReadSeeker) {
	if plainGet(r) && w.Header().Get("Content-Type") != "" {
		serveWhole(w, r, modtime, size, content)
		return
	}
	unsatisfied := "bytes */" + strconv.FormatInt(size, 10)
	if v := r.Header.Get("Range"); v != "" && size == 0 {
		r = r.Clone(r.Context())
		r.Header.Del("Range")
	} else if v != "" {
		spec, n, ok := normalizeRange(v)
		switch {
		case h.opts.MaxRanges > 0 && n > h.opts.MaxRanges:
			w.Header().Set("Content-Range", unsatisfied)
			h.problem(w, r, http.StatusRequestedRangeNotSatisfiable, wire.CodeBadRequest,
				"the Range header asks for more than "+strconv.Itoa(h.opts.MaxRanges)+" ranges")
			return
		case !ok:
			w.Header().Set("Content-Range", unsatisfied)
			h.problem(w, r, http.StatusRequestedRangeNotSatisfiable, wire.CodeBadRequest, "the requested range is not satisfiable")
			return
		case spec != v:
			r = r.Clone(r.Context())
			if spec == "" {
				r.Header.Del("Range")
			} else {
				r.Header.Set("Range", spec)
			}
		}
	}
	http.ServeContent(&contentWriter{ResponseWriter: w, h: h, r: r, unsatisfied: unsatisfied}, r, "", modtime, content)
}

// emptySuffix reports whether ra is a suffix range of no bytes ("-0",
// "- +00"), parsed as net/http parses it.
func emptySuffix(ra string) bool {
	start, end, ok := strings.Cut(ra, "-")
	if !ok || textproto.TrimString(start) != "" {
		return false
	}
	end = textproto.TrimString(end)
	if end == "" || end[0] == '-' {
		return false
	}
	i, err := strconv.ParseInt(end, 10, 64)
	return err == nil && i == 0
}

// normalizeRange reads a Range header as http.ServeContent would and
// returns it as ServeContent should see it ("" for none), with the number
// of ranges in it. A unit other than bytes (in any case) gives "", to be
// ignored. Empty elements and empty suffix ranges ("-0") are left out; ok
// is false when those were all there was. Anything else is passed on for
// ServeContent to judge.
func normalizeRange(v string) (spec string, n int, ok bool) {
	unit, set, found := strings.Cut(v, "=")
	if !found || !strings.EqualFold(textproto.TrimString(unit), "bytes") {
		return "", 0, true
	}
	var keep []string
	dropped := false
	for ra := range strings.SplitSeq(set, ",") {
		ra = textproto.TrimString(ra)
		switch {
		case ra == "":
		case emptySuffix(ra):
			dropped = true
		default:
			keep = append(keep, ra)
		}
	}
	if len(keep) == 0 {
		if dropped {
			return "", 0, false
		}
		return v, 0, true // "bytes=" and the like: ServeContent's to refuse
	}
	if !dropped && strings.HasPrefix(v, "bytes=") {
		return v, len(keep), true
	}
	return "bytes=" + strings.Join(keep, ","), len(keep), true
}

// contentWriter turns the plain-text errors that http.ServeContent writes
// (412, 416) into problem details, and passes everything else through,
// including io.ReaderFrom so that file content goes out with sendfile.
type contentWriter struct {
	http.ResponseWriter
	h *Handler
	r *http.Request
	// unsatisfied, when set, is the Content-Range of a 416 ("bytes */size"),
	// which ServeContent leaves out for a malformed range.
	unsatisfied string
	failed      bool
}

func (cw *contentWriter) WriteHeader(status int) {
	if status >= 400 && !cw.failed {
		cw.failed = true
		code := wire.CodeBadRequest
		detail := http.StatusText(status)
		switch status {
		case http.StatusRequestedRangeNotSatisfiable:
			detail = "the requested range is not satisfiable"
			if cw.unsatisfied != "" && cw.Header().Get("Content-Range") == "" {
				cw.Header().Set("Content-Range", cw.unsatisfied)
			}
		case http.StatusPreconditionFailed:
			detail = "a precondition failed"
		}
		cw.h.problem(cw.ResponseWriter, cw.r, status, code, detail)
		return
	}
	cw.ResponseWriter.WriteHeader(status)
}

func (cw *contentWriter) Write(p []byte) (int, error) {
	if cw.failed {
		return len(p), nil // the problem replaced ServeContent's text
	}
	return cw.ResponseWriter.Write(p)
}

func (cw *contentWriter) ReadFrom(src io.Reader) (int64, error) {
	if cw.failed {
		return io.Copy(io.Discard, src)
	}
	if rf, ok := cw.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(cw.ResponseWriter, src)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (cw *contentWriter) Unwrap() http.ResponseWriter { return cw.ResponseWriter }
