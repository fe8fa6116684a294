package storage

import (
	"context"
	"fmt"
	"strings"

	"gocloud.dev/blob"
)

// DerivativeKey is the key of the derivative with the name (such as
// "thumb-256") of the attachment with the ID.
func DerivativeKey(id, name string) string { return DerivativePrefix(id) + name }

// WriteDerivative stores data as the derivative with the name of the
// attachment with the ID, replacing any. Derivatives are small (thumbnails)
// and made by the server; they go with the attachment in Delete.
func (s *Store) WriteDerivative(ctx context.Context, id, name string, data []byte, contentType string) error {
	if name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("storage: bad derivative name %q", name)
	}
	var err error
	if ow := s.objectWriter(); ow != nil {
		// One PUT from data, where s3blob's uploader copies it first.
		err = s.putWhole(ctx, ow, DerivativeKey(id, name), contentType, data)
	} else {
		cctx, done := s.call(ctx)
		err = done(s.bucket.WriteAll(cctx, DerivativeKey(id, name), data, &blob.WriterOptions{
			ContentType:                 contentType,
			DisableContentTypeDetection: contentType == "",
		}))
	}
	if err != nil {
		return wrap(err, "write derivative %s of %s", name, id)
	}
	return nil
}

// OpenDerivative opens the derivative with the name of the attachment with
// the ID, or returns an error wrapping ErrNotFound.
func (s *Store) OpenDerivative(ctx context.Context, id, name string) (*Object, error) {
	return s.open(ctx, DerivativeKey(id, name))
}
