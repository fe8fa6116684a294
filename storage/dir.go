package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"path/filepath"
	"strings"
)

// attrsSuffix is the suffix of fileblob's metadata sidecar files.
const attrsSuffix = ".attrs"

// dirItems is Items for a Store that knows its bucket's directory (s.dir,
// from FileDir or Open): a walk of the prefix's directory
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
