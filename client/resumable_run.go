package client

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"time"

	"github.com/attachkit/attachment/wire"
)

// tusUpload is one run of UploadResumable.
type tusUpload struct {
	c    *Client
	opts *ResumableOptions
	src  *uploadSource
	url  string // the upload's absolute URL

	length       int64  // the content's length; -1 while unknown
	serverLength int64  // the length the server has; -1 while deferred
	offset       int64  // the server's offset, as last heard
	location     string // the attachment's URL (or the upload's), once committed
	fails        int    // failed requests in a row
}

// create creates the upload (POST {base}/uploads/) with the metadata md.
// wait is the answer's Retry-After.
func (u *tusUpload) create(ctx context.Context, md string) (wait time.Duration, err error) {
	req, err := u.c.tusRequest(ctx, http.MethodPost, u.c.endpoint(nil, "uploads", ""), nil)
	if err != nil {
		return 0, err
	}
	if u.length >= 0 {
		req.Header.Set("Upload-Length", strconv.FormatInt(u.length, 10))
	} else {
		req.Header.Set("Upload-Defer-Length", "1")
	}
	if md != "" {
		req.Header.Set("Upload-Metadata", md)
	}
	resp, wait, err := u.c.sendTus(req, http.StatusCreated)
	if IsStatus(err, http.StatusNotFound) || IsStatus(err, http.StatusMethodNotAllowed) {
		return 0, fmt.Errorf("attachment client: the server offers no resumable uploads at %s (attachment.HandlerOptions.Uploads): %w", req.URL.Redacted(), err)
	}
	if err != nil {
		return wait, err
	}
	drainClose(resp.Body)
	loc := resp.Header.Get("Location")
	if loc == "" {
		return 0, fmt.Errorf("attachment client: POST %s: the 201 answer has no Location", req.URL.Redacted())
	}
	if u.url, err = u.c.uploadURL(loc); err != nil {
		return 0, err
	}
	u.serverLength = u.length
	if u.length == 0 {
		u.location = u.url // an empty upload is committed at creation
	}
	return 0, nil
}

// run sends the content from the server's offset until the upload is
// committed, and returns the attachment's record. An upload given by URL
// starts with a HEAD.
func (u *tusUpload) run(ctx context.Context) (*wire.Attachment, error) {
	needHead := u.opts.URL != ""
	for u.location == "" {
		var wait time.Duration
		var err error
		if needHead {
			wait, err = u.head(ctx)
		} else {
			wait, err = u.patch(ctx)
		}
		needHead = err != nil
		if err != nil {
			if err := u.pause(ctx, wait, err); err != nil {
				return nil, err
			}
		}
	}
	if u.length >= 0 {
		u.src.total = u.length
		u.src.acked(u.length) // an empty file's only call
	}
	ref, err := url.Parse(u.location)
	if err != nil {
		return nil, fmt.Errorf("attachment client: upload %s: Location %q: %w", u.url, u.location, err)
	}
	return u.c.Get(ctx, path.Base(u.c.base.ResolveReference(ref).Path))
}

// pause decides on the failure err of a request: nil after waiting to
// retry it, else the error to return (ctx's end, an answer not worth
// retrying, or one failure too many).
func (u *tusUpload) pause(ctx context.Context, wait time.Duration, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("attachment client: resumable upload: %w", context.Cause(ctx))
	}
	if !retryable(err) {
		return err
	}
	u.fails++
	if u.fails > u.opts.Retries {
		if u.url == "" {
			return err
		}
		return fmt.Errorf("attachment client: upload %s stopped at %d bytes after %d failed requests in a row (resume it with ResumableOptions.URL): %w", u.url, u.offset, u.fails, err)
	}
	if wait <= 0 {
		wait = min(retryFirstWait<<min(u.fails-1, 10), retryMaxWait)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("attachment client: resumable upload: %w", context.Cause(ctx))
	case <-t.C:
		return nil
	}
}

// statusChecksumMismatch is tus's answer to content that does not match
// its Upload-Checksum.
const statusChecksumMismatch = 460

// retryable reports whether a request that failed with err is worth
// trying again after asking the server for its offset: a network error,
// or an answer 408, 409 (another offset), 423 (locked), 429, 460 (content
// changed on the way) or 5xx.
func retryable(err error) bool {
	var ce *contentError
	if errors.As(err, &ce) {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		switch e.Status {
		case http.StatusRequestTimeout, http.StatusConflict, http.StatusLocked, http.StatusTooManyRequests, statusChecksumMismatch:
			return true
		}
		return e.Status >= 500
	}
	var ue *url.Error
	return errors.As(err, &ue)
}

// moved takes the server's offset: a step forward ends a row of failures.
func (u *tusUpload) moved(offset int64) {
	if offset > u.offset {
		u.fails = 0
	}
	u.offset = offset
	u.src.acked(offset)
}

// head asks the server for the upload's state and takes it.
func (u *tusUpload) head(ctx context.Context) (time.Duration, error) {
	st, wait, err := u.c.headUpload(ctx, u.url)
	if err != nil {
		return wait, err
	}
	switch {
	case st.length >= 0 && u.length >= 0 && st.length != u.length:
		return 0, fmt.Errorf("attachment client: upload %s is %d bytes long, the content %d: not the same file", u.url, st.length, u.length)
	case st.length >= 0 && u.length < 0:
		u.length = st.length
		u.src.total = st.length
	case u.length >= 0 && st.offset > u.length:
		return 0, fmt.Errorf("attachment client: upload %s has %d bytes, more than the content's %d", u.url, st.offset, u.length)
	}
	u.serverLength = st.length
	u.moved(st.offset)
	if st.location != "" || (st.length >= 0 && st.offset == st.length) {
		u.location = cmp.Or(st.location, u.url)
	}
	return 0, nil
}

// patch sends the next chunk from the server's offset (PATCH): up to
// ChunkSize bytes, with Upload-Length when the server does not have it
// yet and it is known.
func (u *tusUpload) patch(ctx context.Context) (time.Duration, error) {
	off := u.offset
	n := u.opts.ChunkSize
	if u.length < 0 {
		// A deferred length: is the content at its end?
		if err := u.src.peek(off); err != nil {
			return 0, err
		}
		if u.src.end >= 0 {
			u.length = u.src.end
			u.src.total = u.length
		}
	}
	if u.length >= 0 {
		n = min(n, u.length-off)
	}
	if err := u.src.seekTo(off); err != nil {
		return 0, fmt.Errorf("attachment client: upload %s: %w", u.url, err)
	}
	body, finish := streamBody(ctx, func(w io.Writer) error {
		_, err := io.CopyN(w, u.src, n)
		if err == io.EOF && u.length < 0 {
			err = nil // a deferred length: the chunk ends with the content
		}
		return err
	})
	req, err := u.c.tusRequest(ctx, http.MethodPatch, u.url, body)
	if err != nil {
		finish()
		return 0, err
	}
	req.Header.Set("Content-Type", tusContentType)
	req.Header.Set("Upload-Offset", strconv.FormatInt(off, 10))
	if u.opts.Checksum {
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(u.src.ra, u.src.base+off, n)); err != nil {
			finish()
			return 0, &contentError{fmt.Errorf("attachment client: upload %s: hashing the chunk at %d: %w", u.url, off, err)}
		}
		req.Header.Set("Upload-Checksum", "sha256 "+base64.StdEncoding.EncodeToString(h.Sum(nil)))
	}
	setLength := u.length >= 0 && u.serverLength < 0
	if setLength {
		req.Header.Set("Upload-Length", strconv.FormatInt(u.length, 10))
	}
	req.ContentLength = -1
	if u.length >= 0 {
		req.ContentLength = n
		if n == 0 {
			req.Body = http.NoBody
		}
	}
	resp, wait, err := u.c.sendTus(req, http.StatusNoContent)
	done := finish()
	switch {
	case ctx.Err() != nil:
		if resp != nil {
			drainClose(resp.Body)
		}
		return 0, fmt.Errorf("attachment client: resumable upload: %w", context.Cause(ctx))
	case done && u.src.err != nil:
		if resp != nil {
			drainClose(resp.Body)
		}
		return 0, &contentError{fmt.Errorf("attachment client: upload %s: reading content: %w", u.url, u.src.err)}
	case done && u.length >= 0 && u.src.end >= 0 && u.src.end < u.length:
		if resp != nil {
			drainClose(resp.Body)
		}
		return 0, &contentError{fmt.Errorf("attachment client: upload %s: the content ended at %d bytes, before its size %d", u.url, u.src.end, u.length)}
	case err != nil:
		return wait, err
	}
	drainClose(resp.Body)
	next, err := sizeHeader(req, resp, "Upload-Offset")
	if err != nil {
		return 0, err
	}
	if next < off || (u.length >= 0 && next > u.length) {
		return 0, fmt.Errorf("attachment client: PATCH %s at %d: the answer's Upload-Offset %d is out of range", u.url, off, next)
	}
	if setLength {
		u.serverLength = u.length
	}
	u.moved(next)
	if loc := resp.Header.Get("Location"); loc != "" {
		u.location = loc
	} else if u.length >= 0 && next == u.length && u.serverLength >= 0 {
		u.location = u.url // complete, the answer naming no record: the upload's ID is the attachment's
	}
	return 0, nil
}

// contentError is an error reading the content: never retried.
type contentError struct{ err error }

func (e *contentError) Error() string { return e.err.Error() }
func (e *contentError) Unwrap() error { return e.err }
