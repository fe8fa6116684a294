package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// fileDir returns the directory of a file:// bucket URL as fileblob's URL
// opener maps it, made absolute as fileblob.OpenBucket makes it, and
// below gocloud's "prefix" parameter when there is one; "" for any other
// URL, and for a prefix that is not a plain directory path ("dir/"), which
// is then listed through gocloud.
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
	if u.Host == "." || os.PathSeparator != '/' {
		path = strings.TrimPrefix(path, "/")
	}
	dir, err := filepath.Abs(filepath.FromSlash(path))
	if err != nil {
		return ""
	}
	if prefix := q.Get("prefix"); prefix != "" {
		sub := strings.TrimSuffix(prefix, "/")
		if !strings.HasSuffix(prefix, "/") || !fs.ValidPath(sub) || strings.ContainsAny(sub, `\:`) {
			return ""
		}
		dir = filepath.Join(dir, filepath.FromSlash(sub))
	}
	return dir
}

// attrsSuffix is the suffix of fileblob's metadata sidecar files.
const attrsSuffix = ".attrs"

// dirItems is Items for a file:// bucket: a walk of the prefix's directory
// in key order, which skips files and directories removed while it walks.
// fileblob's own listing fails a page when that happens, and walks the
// directory from its start for every page: under uploads and deletes, a
// listing of a large bucket rarely gets through. Keys are the paths below
// the bucket with "/" separators; the keys this package writes need none
// of fileblob's escaping, and others are KindUnknown either way.
func (s *Store) dirItems(ctx context.Context, prefix string) iter.Seq2[Item, error] {
	return func(yield func(Item, error) bool) {
		root := filepath.Join(s.dir, filepath.FromSlash(strings.TrimSuffix(prefix, "/")))
		stopped := errors.New("stopped")
		n := 0
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if n++; n%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil // removed meanwhile (or no such prefix yet)
				}
				return err
			}
			if d.IsDir() {
				return ctx.Err()
			}
			if strings.HasSuffix(path, attrsSuffix) {
				return nil
			}
			info, err := d.Info()
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(s.dir, path)
			if err != nil {
				return err
			}
			if !yield(classify(filepath.ToSlash(rel), info.ModTime()), nil) {
				return stopped
			}
			return nil
		})
		if err != nil && err != stopped {
			yield(Item{}, fmt.Errorf("storage: list %s: %w", prefix, err))
		}
	}
}
