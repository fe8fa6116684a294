package storage

import (
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"gocloud.dev/blob"
)

// Option configures a Store made by New.
type Option func(*Store)

// FileDir tells New that the bucket is a local directory (gocloud.dev's
// fileblob) whose keys are the files under dir: the directory the bucket
// was opened on, joined with the prefix of a blob.PrefixedBucket over it.
// Items then reads dir itself instead of listing the bucket: that walk
// goes on past files removed meanwhile, where fileblob's listing fails a
// page (and walks the directory from its start for every page). A
// relative dir is made absolute now, as fileblob does. An empty dir
// changes nothing.
//
// dir must be where the bucket keeps its keys: Items lists what it finds
// there, so another directory would show other keys, or none.
func FileDir(dir string) Option {
	return func(s *Store) {
		if dir == "" {
			return
		}
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		s.dir = dir
	}
}

// New returns a Store over a bucket the caller already has. Close does not
// close the bucket; that stays the caller's job. Without options, Items
// lists the bucket through gocloud.dev (for any driver); FileDir names the
// directory of a fileblob bucket, which Items then reads itself.
//
// Writes need no option: WriteContent works the same way for every driver
// (see there); a bucket whose Multipart is an ObjectWriter (S3 with
// storage/s3uploads) is written through it, from the part buffers that
// PartBuffers bounds.
func New(b *blob.Bucket, opts ...Option) *Store {
	s := &Store{bucket: b, parts: newPartPool(defaultPartBuffers)}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Open opens the bucket at urlstr with blob.OpenBucket (the program must
// import the driver for its scheme) and returns a Store that closes it on
// Close. For a file:// URL it gives the Store the bucket's directory, as
// FileDir does (see fileDir for which URLs).
func Open(ctx context.Context, urlstr string) (*Store, error) {
	b, err := blob.OpenBucket(ctx, urlstr)
	if err != nil {
		return nil, fmt.Errorf("storage: open bucket: %w", err)
	}
	s := New(b, FileDir(fileDir(urlstr)))
	s.owned = true
	return s, nil
}

// fileDir returns the directory holding the keys of the file:// bucket
// that blob.OpenBucket opened for urlstr: the URL's path as fileblob's URL
// opener reads it, joined with gocloud's "prefix" parameter when that is a
// plain directory path ("dir/" or "a/b/"). It returns "" for any other URL,
// for a prefix that is not a directory of its own ("odd" gives keys
// "oddcontent/..."), and for a single-key bucket ("key"): those are
// listed through gocloud.
func fileDir(urlstr string) string {
	u, err := url.Parse(urlstr)
	if err != nil || u.Scheme != "file" {
		return ""
	}
	q := u.Query()
	if q.Has("key") {
		return ""
	}
	path := u.Path
	// As fileblob.URLOpener.OpenBucketURL: host "." means a relative path.
	if u.Host == "." || os.PathSeparator != '/' {
		path = strings.TrimPrefix(path, "/")
	}
	dir := filepath.FromSlash(path)
	if prefix := q.Get("prefix"); prefix != "" {
		sub := strings.TrimSuffix(prefix, "/")
		if !strings.HasSuffix(prefix, "/") || !fs.ValidPath(sub) || strings.ContainsAny(sub, `\:`) {
			return ""
		}
		dir = filepath.Join(dir, filepath.FromSlash(sub))
	}
	return dir
}
