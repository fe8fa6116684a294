package client

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/attachkit/attachment/wire"
)

// tusVersion is the tus protocol version UploadResumable speaks.
const tusVersion = "1.0.0"

// tusContentType is the Content-Type of a tus PATCH body.
const tusContentType = "application/offset+octet-stream"

// DefaultChunkSize is the bytes per PATCH of UploadResumable when
// ResumableOptions.ChunkSize is zero.
const DefaultChunkSize = 8 << 20

// DefaultRetries is how many failures in a row UploadResumable retries
// when ResumableOptions.Retries is zero.
const DefaultRetries = 8

// The pauses between retries: the first, doubling up to the longest.
const (
	retryFirstWait = 500 * time.Millisecond
	retryMaxWait   = 10 * time.Second
)

// ResumableOptions are the choices of UploadResumable. The zero value,
// or a nil *ResumableOptions, starts a new upload with defaults.
type ResumableOptions struct {
	// Owner is the attachment's owner, as in UploadOptions. Optional.
	Owner string
	// Labels are the attachment's labels, as in UploadOptions. A key must
	// be printable ASCII without spaces or commas (a tus metadata key).
	// Optional.
	Labels map[string]string
	// URL, when set, resumes the upload at that upload URL (one OnCreate
	// was given before, possibly by another process) instead of creating
	// one: the upload goes on from the offset the server has. File.Content
	// must then start at the file's first byte, as it did the first time.
	// Owner and Labels are those the upload was created with; here they
	// are ignored.
	URL string
	// OnCreate, when set, is called with the new upload's absolute URL
	// once the server has created it and before any content is sent:
	// store it to resume the upload (with URL) after a crash.
	OnCreate func(uploadURL string)
	// ChunkSize is the most content bytes of one PATCH request. Zero
	// means DefaultChunkSize (8 MiB). A failed request costs at most one
	// chunk sent again.
	ChunkSize int64
	// Progress, when set, is called as the content is sent, with acked,
	// the bytes the server has acknowledged plus those of the PATCH in
	// flight, and total, the file's size (-1 while unknown). A resumed
	// upload's first call has the server's offset. acked never
	// decreases: after a failure it stays where it was until the resent
	// bytes pass it. The last call, on success, has acked == total. Calls
	// come from one goroutine at a time.
	Progress func(acked, total int64)
	// Checksum sends the SHA-256 of each PATCH's content in its
	// Upload-Checksum header: the server refuses content changed on the
	// way (460, nothing kept) and it is sent again, as after any failed
	// request. It needs f.Content to be an io.ReaderAt of known size, as
	// each chunk is read twice: once to hash it, once to send it.
	Checksum bool
	// Retries is how many failed requests in a row are retried before
	// UploadResumable gives up; a request that moved the upload on ends
	// the row. Zero means DefaultRetries (8); a negative value means
	// none. The pause between retries starts at 0.5 s and doubles up to
	// 10 s, or is the server's Retry-After on a 423 or 503 answer.
	Retries int
}

// UploadResumable uploads f over tus 1.0.0 (the server's
// {base}/uploads/ endpoint, attachment.HandlerOptions.Uploads) in PATCH
// requests of ChunkSize bytes, and returns the committed attachment's
// record. A network error, a 5xx, 409 (offset mismatch) or 423 (locked)
// answer is retried (ResumableOptions.Retries): it asks the server for
// its offset (HEAD) and goes on from there. With o.URL it resumes an
// upload created earlier.
//
// Going back to the server's offset needs f.Content to be an
// io.ReaderAt or an io.ReadSeeker (an *os.File, a *bytes.Reader, an
// *io.SectionReader); its bytes are read from its position when
// UploadResumable is called. A plain io.Reader can only go forward: it
// uploads, and resumes an upload whose earlier bytes it has to skip, but
// a failure that loses bytes already read from it ends the upload with
// an error (its URL can still be resumed with the content given again).
//
// f.Size (or the size f.Content tells, as for Upload, or an io.Seeker's
// end) is sent as Upload-Length; an unknown size defers the length
// (Upload-Defer-Length), which a last, empty PATCH declares once the
// content has ended. f.SHA256 is not sent: the tus layer takes no
// whole-file digest.
// Errors are *Error where the server answered: an upload terminated or
// unknown wraps wire.ErrNotFound, an expired one wire.ErrGone, one whose
// retries ran out the last answer's sentinel (wire.ErrLocked, ...).
func (c *Client) UploadResumable(ctx context.Context, f File, o *ResumableOptions) (*wire.Attachment, error) {
	var opts ResumableOptions
	if o != nil {
		opts = *o
	}
	if f.Content == nil {
		return nil, errors.New("attachment client: UploadResumable: File.Content is nil")
	}
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = DefaultChunkSize
	}
	switch {
	case opts.Retries == 0:
		opts.Retries = DefaultRetries
	case opts.Retries < 0:
		opts.Retries = 0
	}
	src, err := newUploadSource(f, opts.Progress)
	if err != nil {
		return nil, err
	}
	if opts.Checksum && (src.ra == nil || src.size < 0) {
		return nil, errors.New("attachment client: UploadResumable: Checksum needs File.Content to be an io.ReaderAt of known size")
	}
	u := &tusUpload{c: c, opts: &opts, src: src, length: src.size, serverLength: -1}
	if opts.URL != "" {
		if u.url, err = c.uploadURL(opts.URL); err != nil {
			return nil, err
		}
	} else {
		md, err := uploadMetadata(f, &opts)
		if err != nil {
			return nil, err
		}
		for {
			wait, err := u.create(ctx, md)
			if err == nil {
				break
			}
			if err := u.pause(ctx, wait, err); err != nil {
				return nil, err
			}
		}
		if opts.OnCreate != nil {
			opts.OnCreate(u.url)
		}
	}
	return u.run(ctx)
}

// UploadOffset asks the server how far the upload at uploadURL (absolute,
// or relative to the base URL) has come (HEAD): the bytes it has, and
// the upload's length, -1 while deferred. A committed upload has
// offset == length. An unknown or terminated upload is an *Error
// wrapping wire.ErrNotFound, an expired one wire.ErrGone.
func (c *Client) UploadOffset(ctx context.Context, uploadURL string) (offset, length int64, err error) {
	target, err := c.uploadURL(uploadURL)
	if err != nil {
		return 0, 0, err
	}
	st, _, err := c.headUpload(ctx, target)
	if err != nil {
		return 0, 0, err
	}
	return st.offset, st.length, nil
}

// CancelUpload terminates the unfinished upload at uploadURL (DELETE,
// tus termination): the server discards its bytes and the URL answers
// not found from then on. An unknown upload is an *Error wrapping
// wire.ErrNotFound.
func (c *Client) CancelUpload(ctx context.Context, uploadURL string) error {
	target, err := c.uploadURL(uploadURL)
	if err != nil {
		return err
	}
	req, err := c.tusRequest(ctx, http.MethodDelete, target, nil)
	if err != nil {
		return err
	}
	resp, _, err := c.sendTus(req, http.StatusNoContent)
	if err != nil {
		return err
	}
	drainClose(resp.Body)
	return nil
}

// uploadURL resolves an upload URL against the base URL and checks that
// it is on the same server: the client's credentials go with it.
func (c *Client) uploadURL(ref string) (string, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("attachment client: upload URL %q: %w", ref, err)
	}
	u := c.base.ResolveReference(r)
	if u.Scheme != c.base.Scheme || u.Host != c.base.Host {
		return "", fmt.Errorf("attachment client: upload URL %q is not on %s://%s, the server the client calls", ref, c.base.Scheme, c.base.Host)
	}
	if path.Base(u.Path) == "/" || path.Base(u.Path) == "." || strings.HasSuffix(u.Path, "/") {
		return "", fmt.Errorf("attachment client: upload URL %q names no upload", ref)
	}
	return u.String(), nil
}

// tusRequest is a request with the client's credentials and
// Tus-Resumable.
func (c *Client) tusRequest(ctx context.Context, method, target string, body io.Reader) (*http.Request, error) {
	req, err := c.newRequest(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Tus-Resumable", tusVersion)
	return req, nil
}

// sendTus sends req and returns the answer when its status is ok; any
// other status is an *Error, with the pause the answer's Retry-After
// asks for (on 423 and 503; zero when none).
func (c *Client) sendTus(req *http.Request, ok int) (*http.Response, time.Duration, error) {
	resp, err := c.send(req, ok, http.StatusLocked, http.StatusServiceUnavailable)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode == ok {
		return resp, 0, nil
	}
	defer drainClose(resp.Body)
	return nil, retryAfter(resp.Header.Get("Retry-After")), errorFrom(req, resp)
}

// retryAfter parses a Retry-After value: seconds or an HTTP date. Zero
// for none or a malformed one.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, 24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// uploadState is what a HEAD tells of an upload.
type uploadState struct {
	offset, length int64  // length -1: deferred
	location       string // the attachment's URL once committed
}

// headUpload asks for the upload's state (HEAD). wait is the answer's
// Retry-After, for a retry.
func (c *Client) headUpload(ctx context.Context, target string) (*uploadState, time.Duration, error) {
	req, err := c.tusRequest(ctx, http.MethodHead, target, nil)
	if err != nil {
		return nil, 0, err
	}
	resp, wait, err := c.sendTus(req, http.StatusNoContent)
	if err != nil {
		return nil, wait, err
	}
	drainClose(resp.Body)
	st := &uploadState{length: -1, location: resp.Header.Get("Location")}
	if st.offset, err = sizeHeader(req, resp, "Upload-Offset"); err != nil {
		return nil, 0, err
	}
	if resp.Header.Get("Upload-Length") != "" {
		if st.length, err = sizeHeader(req, resp, "Upload-Length"); err != nil {
			return nil, 0, err
		}
	}
	return st, 0, nil
}

// sizeHeader parses a non-negative size header of resp.
func sizeHeader(req *http.Request, resp *http.Response, name string) (int64, error) {
	v := resp.Header.Get(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("attachment client: %s %s: the %d answer has no valid %s (%q)", req.Method, req.URL.Redacted(), resp.StatusCode, name, v)
	}
	return n, nil
}

// uploadMetadata is the Upload-Metadata header of a new upload.
func uploadMetadata(f File, o *ResumableOptions) (string, error) {
	enc := base64.StdEncoding.EncodeToString
	var pairs []string
	if f.Name != "" {
		pairs = append(pairs, "filename "+enc([]byte(f.Name)))
	}
	if f.ContentType != "" {
		pairs = append(pairs, "filetype "+enc([]byte(f.ContentType)))
	}
	if o.Owner != "" {
		pairs = append(pairs, "owner "+enc([]byte(o.Owner)))
	}
	for _, k := range slices.Sorted(maps.Keys(o.Labels)) {
		if k == "" || strings.ContainsFunc(k, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == ',' }) {
			return "", fmt.Errorf("attachment client: UploadResumable: label key %q is not printable ASCII without spaces and commas, as Upload-Metadata needs", k)
		}
		pairs = append(pairs, "label."+k+" "+enc([]byte(o.Labels[k])))
	}
	return strings.Join(pairs, ","), nil
}
