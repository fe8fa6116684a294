package attachment

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/storage"
	"github.com/attachkit/attachment/thumbnail"
	"github.com/attachkit/attachment/wire"
)

// thumbnailTypes are the content types thumbnails are made from.
var thumbnailTypes = []string{"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff"}

// hasThumbnail reports whether a thumbnail may be made for the type.
func hasThumbnail(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	return slices.Contains(thumbnailTypes, strings.TrimSpace(mt))
}

// Thumbnailable reports whether the thumbnail route would serve a
// thumbnail of a rather than answer that it has none: a's type is an
// image type thumbnails are made of (JPEG, PNG, GIF, WebP, BMP, TIFF), its
// header, once read, claimed no more than ThumbnailOptions.MaxPixels
// pixels, and its analysis did not find it undecodable. Thumbnails are
// made on demand, so true does not mean one has been made yet; an image
// whose header reads well but whose pixels do not decode can still have
// none.
func (s *Service) Thumbnailable(a *Attachment) bool {
	if a == nil || !hasThumbnail(a.ContentType) {
		return false
	}
	if a.Processing["analyze"] == wire.JobFailed {
		return false
	}
	if a.Width > 0 && a.Height > 0 && int64(a.Width)*int64(a.Height) > s.core.opts.Thumbnails.MaxPixels {
		return false
	}
	return true
}

// Thumbnail is a thumbnail opened for reading. The caller must Close it.
type Thumbnail struct {
	*storage.Object
	// ContentType is image/jpeg or image/png.
	ContentType string
	// Size is the bounding size it was made for.
	Size int
	// ETag is a weak entity tag: the content's digest and the size.
	ETag string
}

// thumbnailer makes thumbnails once, sharing one generation among
// concurrent requests for the same one, with a bound on decodes at once.
type thumbnailer struct {
	c     *core
	sem   chan struct{}
	group singleflight.Group
	made  atomic.Int64 // generations run, for tests
	// slotWait bounds how long an HTTP request for a thumbnail waits for
	// a decode slot (thumbnailSlotWait; tests shorten it).
	slotWait time.Duration
}

// thumbnailSlotWait is how long an HTTP request for a thumbnail not made
// yet waits for a decode slot before it is answered 503.
const thumbnailSlotWait = 10 * time.Second

// thumbnailRetryAfter is the Retry-After, in seconds, of a thumbnail
// refused because every decoder is busy.
const thumbnailRetryAfter = "1"

func (t *thumbnailer) init(c *core) {
	t.c = c
	t.sem = make(chan struct{}, c.opts.Thumbnails.Workers)
	t.slotWait = thumbnailSlotWait
}

// acquire takes a decode slot.
func (t *thumbnailer) acquire(ctx context.Context) error {
	select {
	case t.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// acquireWithin takes a decode slot, waiting at most wait (no bound when
// it is not positive) or until ctx ends. Waiting longer is ErrUnavailable.
func (t *thumbnailer) acquireWithin(ctx context.Context, wait time.Duration) error {
	if wait <= 0 {
		return t.acquire(ctx)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case t.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return &Error{Kind: ErrUnavailable, Detail: "every image decoder is busy; try again shortly"}
	}
}

func (t *thumbnailer) release() { <-t.sem }

func thumbName(size int) string { return "thumb-" + strconv.Itoa(size) }

// Thumbnail returns the thumbnail of the attachment with the ID that fits
// in size x size (0 means Options.Thumbnails.DefaultSize), making it on the
// first request and keeping it beside the content. It returns
// ErrInvalidSize for a size not in Options.Thumbnails.Sizes and ErrNoThumbnail
// when none can be made. One not made yet waits for a free decoder
// (Options.Thumbnails.Workers) until ctx ends.
func (s *Service) Thumbnail(ctx context.Context, id string, size int) (*Thumbnail, error) {
	return s.thumbnail(ctx, id, size, 0)
}

// thumbnail is Thumbnail, waiting at most slotWait for a decode slot when
// it is positive (then longer is ErrUnavailable).
func (s *Service) thumbnail(ctx context.Context, id string, size int, slotWait time.Duration) (*Thumbnail, error) {
	size, err := s.core.thumbSize(size)
	if err != nil {
		return nil, err
	}
	a, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.thumbnailOf(ctx, a, size, slotWait)
}

// thumbSize returns the size a thumbnail of size is asked for: the
// default for 0; ErrInvalidSize for one not allowed.
func (c *core) thumbSize(size int) (int, error) {
	if size == 0 {
		size = c.opts.Thumbnails.DefaultSize
	}
	if !slices.Contains(c.opts.Thumbnails.Sizes, size) {
		return 0, inputErr(ErrInvalidSize, "size must be one of %v", c.opts.Thumbnails.Sizes)
	}
	return size, nil
}

// thumbnailOf is thumbnail of an attachment already read (the Handler
// has it from its access check) at a size thumbSize returned.
func (s *Service) thumbnailOf(ctx context.Context, a *Attachment, size int, slotWait time.Duration) (*Thumbnail, error) {
	c := s.core
	if !hasThumbnail(a.ContentType) {
		return nil, ErrNoThumbnail
	}
	th, err := c.thumbs.open(ctx, a, size)
	if errors.Is(err, storage.ErrNotFound) {
		if err := c.thumbs.ensure(ctx, a, size, slotWait); err != nil {
			return nil, err
		}
		th, err = c.thumbs.open(ctx, a, size)
	}
	return th, err
}

// errLeaderGone is the result of a shared generation whose first caller
// left while it waited for a decode slot: the others try again.
var errLeaderGone = errors.New("the request that was to make the thumbnail ended")

// ensure makes the thumbnail unless a concurrent call for the same one is
// making it, then waits for that one. Every caller waits on its own ctx.
// The first waits for a decode slot on its ctx (at most slotWait when it
// is positive); once it has one, the decode runs detached from it (bounded
// by Options.CommitTimeout), for the others share its result.
func (t *thumbnailer) ensure(ctx context.Context, a *Attachment, size int, slotWait time.Duration) error {
	key := a.ID + "/" + strconv.Itoa(size)
	for {
		ch := t.group.DoChan(key, func() (any, error) {
			// A generation that ended between this caller's miss and
			// this flight has stored it: nothing to make.
			if obj, err := t.c.content.OpenDerivative(ctx, a.ID, thumbName(size)); err == nil {
				obj.Close()
				return nil, nil
			}
			if err := t.acquireWithin(ctx, slotWait); err != nil {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("%w: %w", errLeaderGone, err)
				}
				return nil, err
			}
			defer t.release()
			gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.c.opts.CommitTimeout)
			defer cancel()
			return nil, t.make(gctx, a, size)
		})
		select {
		case res := <-ch:
			if errors.Is(res.Err, errLeaderGone) && ctx.Err() == nil {
				continue // another caller's request ended; not this one's
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return res.Err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// open opens a stored thumbnail. An empty one records that none can be
// made.
func (t *thumbnailer) open(ctx context.Context, a *Attachment, size int) (*Thumbnail, error) {
	obj, err := t.c.content.OpenDerivative(ctx, a.ID, thumbName(size))
	if err != nil {
		return nil, err
	}
	if obj.Size() == 0 {
		obj.Close()
		return nil, ErrNoThumbnail
	}
	// Peek keeps the bytes it reads: serving the thumbnail then reads on
	// from the same stream (one GET on S3, where a Seek back would make a
	// second).
	magic, err := obj.Peek(2)
	if err == nil && len(magic) < 2 {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		obj.Close()
		return nil, fmt.Errorf("attachment %s: read thumbnail: %w", a.ID, err)
	}
	ct := "image/png"
	if magic[0] == 0xFF && magic[1] == 0xD8 {
		ct = "image/jpeg"
	}
	return &Thumbnail{
		Object:      obj,
		ContentType: ct,
		Size:        size,
		ETag:        `W/"` + a.SHA256[:32] + "-" + strconv.Itoa(size) + `"`,
	}, nil
}

// make decodes the content and stores its thumbnail, or an empty marker
// when the content cannot be decoded. The caller holds a decode slot.
func (t *thumbnailer) make(ctx context.Context, a *Attachment, size int) error {
	t.made.Add(1)
	obj, err := t.c.content.OpenContent(ctx, a.ID)
	if err != nil {
		return fmt.Errorf("attachment %s: open content: %w", a.ID, err)
	}
	defer obj.Close()
	var buf bytes.Buffer
	ct, _, _, err := thumbnail.Make(&buf, obj, size, &thumbnail.Options{MaxPixels: t.c.opts.Thumbnails.MaxPixels})
	if err != nil {
		if !errors.Is(err, thumbnail.ErrUnsupported) && !errors.Is(err, thumbnail.ErrTooLarge) {
			return fmt.Errorf("attachment %s: thumbnail: %w", a.ID, err)
		}
		buf.Reset() // remembered as "none can be made"
		ct = ""
	}
	if err := t.c.content.WriteDerivative(ctx, a.ID, thumbName(size), buf.Bytes(), ct); err != nil {
		return err
	}
	// The attachment may have been deleted while this ran, its derivatives
	// removed before the write above: then nothing would ever remove this
	// one. Delete removes the record before the derivatives, so if the
	// record is still there now, that removal is still to come and takes
	// this thumbnail with it; if it is gone, remove the thumbnail here.
	if _, err := t.c.meta.Get(ctx, a.Tenant, a.ID); errors.Is(err, metadata.ErrNotFound) {
		if err := t.c.content.Delete(ctx, a.ID); err != nil {
			return fmt.Errorf("attachment %s: remove the thumbnail of a deleted attachment: %w", a.ID, err)
		}
		return ErrNotFound
	}
	return nil
}
