package storage

import (
	"context"
	"iter"
	"regexp"
	"strings"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// Kind tells what a key of the bucket holds.
type Kind int

// Kinds of keys, as Items reports them.
const (
	// KindContent is an attachment's content: ContentKey(id).
	KindContent Kind = iota + 1
	// KindDerivative is one of an attachment's derivatives:
	// DerivativeKey(id, name).
	KindDerivative
	// KindTemporary is a driver's temporary file, left where a write was
	// cut off: fileblob (with no_tmp_dir) writes "KEY.HEX.tmp" beside the
	// key and renames it when the write is done.
	KindTemporary
	// KindUnknown is any other key under the Store's prefixes.
	KindUnknown
	// KindUpload is a key of an unfinished resumable upload, under
	// UploadPrefix(id): its bytes, or a driver's temporary file beside
	// them.
	KindUpload
)

// Prefixes under which the Store keeps its keys.
const (
	ContentPrefix     = "content/"
	DerivativesPrefix = "derived/"
	// UploadsPrefix holds the bytes of unfinished resumable uploads
	// (UploadPrefix, Append).
	UploadsPrefix = "uploads/"
)

// Item is one key under a Store prefix, as Items finds it.
type Item struct {
	// Key is the blob key.
	Key string
	// Kind is what the key holds.
	Kind Kind
	// ID is the attachment the key belongs to, as the key names it (not
	// validated); empty for KindUnknown.
	ID string
	// ModTime is when the blob was last written, as the bucket reports it.
	ModTime time.Time
}

// listPageSize is how many keys Items asks for at a time. Large, because
// fileblob walks its directory from the start for every page; S3 returns
// at most 1,000 whatever is asked.
const listPageSize = 10_000

// listRetries is how many times in a row Items lists a page again after
// a NotFound.
const listRetries = 10

// tempSuffix matches the suffix fileblob gives its temporary files.
var tempSuffix = regexp.MustCompile(`\.[0-9a-f]{1,16}\.tmp$`)

// Items returns the keys under prefix (ContentPrefix, DerivativesPrefix
// or UploadsPrefix), in key order, which for each prefix is the order of
// the attachment IDs. The iteration stops at the first error, which it
// yields. When the Store knows the bucket's directory (FileDir, or Open of
// a file:// URL) it reads that directory itself (see dirItems); otherwise
// it lists the bucket through gocloud.dev, listing a page again after a
// NotFound, which is how fileblob reports a file removed while it walked.
func (s *Store) Items(ctx context.Context, prefix string) iter.Seq2[Item, error] {
	if s.dir != "" {
		return s.dirItems(ctx, prefix)
	}
	return func(yield func(Item, error) bool) {
		opts := &blob.ListOptions{Prefix: prefix}
		token := blob.FirstPageToken
		retries := 0
		for {
			cctx, done := s.call(ctx)
			page, next, err := s.bucket.ListPage(cctx, token, listPageSize, opts)
			err = done(err)
			if gcerrors.Code(err) == gcerrors.NotFound && retries < listRetries {
				// fileblob fails a page when a file it walks is removed
				// meanwhile (by an upload or a delete): list it again.
				retries++
				continue
			}
			retries = 0
			if err != nil {
				yield(Item{}, wrap(err, "list %s", prefix))
				return
			}
			for _, obj := range page {
				if obj.IsDir {
					continue
				}
				if !yield(classify(obj.Key, obj.ModTime), nil) {
					return
				}
			}
			if len(next) == 0 {
				return
			}
			token = next
		}
	}
}

// classify tells what key holds.
func classify(key string, mod time.Time) Item {
	it := Item{Key: key, Kind: KindUnknown, ModTime: mod}
	switch {
	case strings.HasPrefix(key, ContentPrefix):
		rest := key[len(ContentPrefix):]
		if strings.Contains(rest, "/") || rest == "" {
			return it
		}
		if loc := tempSuffix.FindStringIndex(rest); loc != nil && loc[0] > 0 {
			it.Kind, it.ID = KindTemporary, rest[:loc[0]]
			return it
		}
		if strings.Contains(rest, ".") {
			return it
		}
		it.Kind, it.ID = KindContent, rest
	case strings.HasPrefix(key, DerivativesPrefix):
		id, name, ok := strings.Cut(key[len(DerivativesPrefix):], "/")
		if !ok || id == "" || name == "" {
			return it
		}
		it.Kind, it.ID = KindDerivative, id
		if tempSuffix.MatchString(name) {
			it.Kind = KindTemporary
		}
	case strings.HasPrefix(key, UploadsPrefix):
		id, name, ok := strings.Cut(key[len(UploadsPrefix):], "/")
		if !ok || id == "" || name == "" {
			return it
		}
		it.Kind, it.ID = KindUpload, id
	}
	return it
}

// RemoveKey removes one key; a key already gone is no error.
func (s *Store) RemoveKey(ctx context.Context, key string) error {
	return s.deleteKey(ctx, key)
}
