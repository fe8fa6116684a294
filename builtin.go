package attachment

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/attachkit/attachment/metadata"
	"github.com/attachkit/attachment/thumbnail"
)

// analyzeProcessor records an image's dimensions as displayed.
type analyzeProcessor struct{ c *core }

func (analyzeProcessor) Name() string { return "analyze" }

func (analyzeProcessor) Accept(a *Attachment) bool { return hasThumbnail(a.ContentType) }

func (p analyzeProcessor) Process(ctx context.Context, t *Task) error {
	if err := p.c.thumbs.acquire(ctx); err != nil {
		return err
	}
	defer p.c.thumbs.release()
	obj, err := t.Open(ctx)
	if err != nil {
		return err
	}
	defer obj.Close()
	info, err := thumbnail.Analyze(obj, &thumbnail.Options{MaxPixels: p.c.opts.Thumbnails.MaxPixels})
	if err != nil {
		if errors.Is(err, thumbnail.ErrUnsupported) || errors.Is(err, thumbnail.ErrTooLarge) {
			return fmt.Errorf("%w: %v", ErrPermanent, err)
		}
		return err
	}
	_, err = t.svc.update(ctx, t.Attachment.ID, metadata.Update{Width: &info.Width, Height: &info.Height})
	return err
}

// thumbnailProcessor makes the default thumbnail ahead of the first
// request.
type thumbnailProcessor struct{ c *core }

func (thumbnailProcessor) Name() string { return "thumbnail" }

func (thumbnailProcessor) Accept(a *Attachment) bool { return hasThumbnail(a.ContentType) }

func (p thumbnailProcessor) Process(ctx context.Context, t *Task) error {
	th, err := t.svc.Thumbnail(ctx, t.Attachment.ID, p.c.opts.Thumbnails.DefaultSize)
	if err != nil {
		if errors.Is(err, ErrNoThumbnail) {
			return fmt.Errorf("%w: no thumbnail can be made of this %s", ErrPermanent, strings.TrimSpace(strings.SplitN(t.Attachment.ContentType, ";", 2)[0]))
		}
		return err
	}
	return th.Close()
}
