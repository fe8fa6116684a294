package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/attachkit/attachment/wire"
)

// ContentInfo describes downloaded content, from the answer's headers.
type ContentInfo struct {
	// Size is the length of the whole content (of the thumbnail, for
	// Thumbnail), whatever part of it the body carries; -1 when the answer
	// did not say (no Content-Length, as behind some proxies).
	Size int64
	// ContentType is the detected type the server stored.
	ContentType string
	// ETag is the entity tag, quotes included: strong (the SHA-256) for
	// content, weak for thumbnails.
	ETag string
	// Filename is the name the server gives in Content-Disposition.
	Filename string
	// LastModified is the Last-Modified time (the upload's time).
	LastModified time.Time
	// Offset and Length are the part of the content the body carries: 0
	// and Size for a whole download, the range for OpenRange. Length is -1
	// when unknown.
	Offset, Length int64
}

// Open opens the content of the attachment for reading. The caller must
// close the body.
func (c *Client) Open(ctx context.Context, id string) (io.ReadCloser, *ContentInfo, error) {
	return c.openRange(ctx, id, 0, -1, "", false)
}

// Download writes the content of the attachment to w and returns what the
// headers said of it.
func (c *Client) Download(ctx context.Context, id string, w io.Writer) (*ContentInfo, error) {
	body, info, err := c.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	n, err := io.Copy(w, body)
	if err != nil {
		return nil, fmt.Errorf("attachment client: download %s: %w", id, err)
	}
	if info.Length >= 0 && n != info.Length {
		return nil, fmt.Errorf("attachment client: download %s: got %d bytes of %d", id, n, info.Length)
	}
	return info, nil
}

// Head returns what a download of the attachment would say of its
// content (HEAD /{id}), without the content.
func (c *Client) Head(ctx context.Context, id string) (*ContentInfo, error) {
	req, err := c.newRequest(ctx, http.MethodHead, c.endpoint(nil, id), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.send(req, http.StatusOK)
	if err != nil {
		return nil, err
	}
	defer drainClose(resp.Body)
	info := contentInfo(resp)
	info.Length = info.Size
	return info, nil
}

// OpenRange opens n bytes of the attachment's content from offset off
// (a Range request answered 206). n < 0 reads to the end; the body is
// shorter than n where the content ends first. An offset at or beyond the
// end is an *Error with status 416 (IsStatus(err,
// http.StatusRequestedRangeNotSatisfiable)); errors.Is(err,
// wire.ErrInvalid) holds for it too, as its code is bad_request.
// n == 0 reads nothing and only checks that the attachment exists. The
// caller must close the body.
func (c *Client) OpenRange(ctx context.Context, id string, off, n int64) (io.ReadCloser, *ContentInfo, error) {
	if off < 0 {
		return nil, nil, fmt.Errorf("attachment client: OpenRange: negative offset %d", off)
	}
	if n == 0 {
		info, err := c.Head(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		info.Offset, info.Length = off, 0
		return http.NoBody, info, nil
	}
	return c.openRange(ctx, id, off, n, "", true)
}

// openRange downloads n bytes (n < 0: to the end) from off. With ranged
// false it asks for the whole content. ifRange, when set, is sent as
// If-Range: an answer with all of a changed content is then an error.
func (c *Client) openRange(ctx context.Context, id string, off, n int64, ifRange string, ranged bool) (io.ReadCloser, *ContentInfo, error) {
	req, err := c.newRequest(ctx, http.MethodGet, c.endpoint(nil, id), nil)
	if err != nil {
		return nil, nil, err
	}
	// Byte offsets are of the stored bytes: no transparent decompression.
	req.Header.Set("Accept-Encoding", "identity")
	if ranged {
		spec := "bytes=" + strconv.FormatInt(off, 10) + "-"
		if n > 0 {
			spec += strconv.FormatInt(off+n-1, 10)
		}
		req.Header.Set("Range", spec)
		if ifRange != "" {
			req.Header.Set("If-Range", ifRange)
		}
	}
	resp, err := c.send(req, http.StatusOK, http.StatusPartialContent)
	if err != nil {
		return nil, nil, err
	}
	info := contentInfo(resp)
	if resp.StatusCode == http.StatusPartialContent {
		start, end, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != off || (n > 0 && end-start+1 > n) || !ranged {
			drainClose(resp.Body)
			return nil, nil, fmt.Errorf("attachment client: GET %s: a 206 answer with Content-Range %q to Range %q",
				id, resp.Header.Get("Content-Range"), req.Header.Get("Range"))
		}
		info.Size, info.Offset, info.Length = size, start, end-start+1
		return resp.Body, info, nil
	}
	// 200: all of the content.
	info.Length = info.Size
	if !ranged {
		return resp.Body, info, nil
	}
	if ifRange != "" && resp.Header.Get("ETag") != ifRange {
		drainClose(resp.Body)
		return nil, nil, fmt.Errorf("attachment client: GET %s: the content changed (ETag %s, was %s)", id, resp.Header.Get("ETag"), ifRange)
	}
	// The server sent everything (it does so for empty content): cut the
	// range out of it here.
	if info.Size >= 0 && off >= info.Size && !(off == 0 && info.Size == 0) {
		drainClose(resp.Body)
		return nil, nil, &Error{
			Problem: wire.Problem{
				Type: "about:blank", Status: http.StatusRequestedRangeNotSatisfiable,
				Title:  http.StatusText(http.StatusRequestedRangeNotSatisfiable),
				Detail: "the requested range is not satisfiable", Code: CodeBadRequest,
			},
			Method: req.Method, URL: req.URL.Redacted(),
		}
	}
	if _, err := io.CopyN(io.Discard, resp.Body, off); err != nil {
		drainClose(resp.Body)
		return nil, nil, fmt.Errorf("attachment client: GET %s: skipping to offset %d: %w", id, off, err)
	}
	info.Offset, info.Length = off, -1 // unknown, when the size is
	if info.Size >= 0 {
		info.Length = info.Size - off
	}
	if n > 0 && (info.Length < 0 || n < info.Length) {
		info.Length = n
	}
	if info.Length < 0 {
		return resp.Body, info, nil
	}
	return readCloser{io.LimitReader(resp.Body, info.Length), resp.Body}, info, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// Thumbnail opens a thumbnail of the attachment whose longest side is at
// most size pixels (one of the server's allowed sizes; 0 means its
// default). An attachment no thumbnail can be made of (not an image,
// undecodable) is an error wrapping wire.ErrNoThumbnail; a size the
// server does not allow is an *Error wrapping wire.ErrInvalidSize.
// The caller must close the body.
func (c *Client) Thumbnail(ctx context.Context, id string, size int) (io.ReadCloser, *ContentInfo, error) {
	var q url.Values
	if size != 0 {
		q = url.Values{"size": {strconv.Itoa(size)}}
	}
	req, err := c.newRequest(ctx, http.MethodGet, c.endpoint(q, id, "thumbnail"), nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := c.send(req, http.StatusOK, http.StatusNoContent)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode == http.StatusNoContent {
		drainClose(resp.Body)
		return nil, nil, fmt.Errorf("attachment client: thumbnail of %s: %w", id, wire.ErrNoThumbnail)
	}
	info := contentInfo(resp)
	info.Length = info.Size
	return resp.Body, info, nil
}

// ReaderAt reads an attachment's content at any offset, one range request
// per ReadAt; it suits io.NewSectionReader, archive/zip and the like. It
// is safe for concurrent use.
type ReaderAt struct {
	c    *Client
	ctx  context.Context
	id   string
	info ContentInfo
}

// NewReaderAt returns a ReaderAt of the attachment's content, after a HEAD
// request that gives its size and ETag. Every ReadAt uses ctx. Each range
// is asked with If-Range, so content that changed is an error rather than
// a mix of two versions.
func (c *Client) NewReaderAt(ctx context.Context, id string) (*ReaderAt, error) {
	info, err := c.Head(ctx, id)
	if err != nil {
		return nil, err
	}
	return &ReaderAt{c: c, ctx: ctx, id: id, info: *info}, nil
}

// Size returns the content's length.
func (r *ReaderAt) Size() int64 { return r.info.Size }

// Info returns what the HEAD request said of the content.
func (r *ReaderAt) Info() ContentInfo { return r.info }

// ReadAt reads len(p) bytes from offset off, as io.ReaderAt does: fewer
// only at the end of the content, with io.EOF.
func (r *ReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("attachment client: ReadAt: negative offset")
	}
	if off >= r.info.Size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), r.info.Size-off)
	if want == 0 {
		return 0, nil
	}
	body, _, err := r.c.openRange(r.ctx, r.id, off, want, r.info.ETag, true)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	n, err := io.ReadFull(body, p[:want])
	if err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return n, err
	}
	if want < int64(len(p)) {
		return n, io.EOF
	}
	return n, nil
}

// contentInfo reads the headers of a download or thumbnail answer.
func contentInfo(resp *http.Response) *ContentInfo {
	h := resp.Header
	info := &ContentInfo{
		Size:        -1,
		ContentType: h.Get("Content-Type"),
		ETag:        h.Get("ETag"),
	}
	if v := h.Get("Content-Length"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			info.Size = n
		}
	} else if resp.ContentLength >= 0 {
		info.Size = resp.ContentLength
	}
	if _, params, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil {
		info.Filename = params["filename"]
	}
	if t, err := http.ParseTime(h.Get("Last-Modified")); err == nil {
		info.LastModified = t
	}
	return info
}

// parseContentRange reads "bytes START-END/SIZE".
func parseContentRange(v string) (start, end, size int64, ok bool) {
	rest, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	rng, total, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, 0, false
	}
	s, e, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, 0, false
	}
	var err1, err2, err3 error
	start, err1 = strconv.ParseInt(s, 10, 64)
	end, err2 = strconv.ParseInt(e, 10, 64)
	size, err3 = strconv.ParseInt(total, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || start < 0 || end < start || end >= size {
		return 0, 0, 0, false
	}
	return start, end, size, true
}
