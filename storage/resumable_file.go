package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// File mode: the bytes of an upload in one file under the bucket's
// directory, renamed into the content key's file when it is finished.

// uploadDir is the directory of a ModeFile upload's keys.
func (s *Store) uploadDir(id string) string {
	return filepath.Join(s.dir, filepath.FromSlash(UploadsPrefix), id)
}

// dataFile is the file a ModeFile upload appends to.
func (s *Store) dataFile(id string) string { return filepath.Join(s.uploadDir(id), "data") }

// appendFile is Append in ModeFile. It returns the bytes appended, the
// cause of a cut kept under cfg.keep, and a failure (after which the file
// holds st's bytes again, as far as it can be cut back).
func (s *Store) appendFile(ctx context.Context, id string, st *UploadState, r io.Reader, cfg pipeConfig) (n int64, cut, err error) {
	what := "append to " + id
	if err := os.MkdirAll(s.uploadDir(id), 0o777); err != nil {
		return 0, nil, wrap(err, "%s", what)
	}
	path := s.dataFile(id)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return 0, nil, wrap(err, "%s", what)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = wrap(cerr, "%s", what)
		}
		if err != nil {
			_ = truncateTo(path, st.Size)
		}
	}()
	if err := seekEnd(f, st.Size); err != nil {
		return 0, nil, fmt.Errorf("storage: %s: %w", what, err)
	}
	u := newUpload(ctx, r, cfg, s.timeout)
	defer u.release()
	_, err = u.WriteTo(f)
	u.wd.disarm() // the file needs no commit: no wait on the bucket is left
	switch {
	case u.wd.hasFired():
		return 0, nil, fmt.Errorf("storage: %s: %w", what, s.timedOut(errors.Join(err, u.err)))
	case err != nil:
		return 0, nil, err
	}
	return u.res.Size, u.cut, nil
}

// seekEnd makes size the end of f and its offset: a longer file is cut
// back (an append whose state was not saved wrote past it), a shorter one
// is an error wrapping ErrUploadLost.
func seekEnd(f *os.File, size int64) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	switch {
	case fi.Size() < size:
		return fmt.Errorf("%w: %d bytes on disk of %d", ErrUploadLost, fi.Size(), size)
	case fi.Size() > size:
		if err := f.Truncate(size); err != nil {
			return err
		}
	}
	_, err = f.Seek(size, io.SeekStart)
	return err
}

// truncateTo cuts the file at path back to size if it is longer.
func truncateTo(path string, size int64) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Size() <= size {
		return nil
	}
	return os.Truncate(path, size)
}

// finishFile renames the upload's file to the content's.
func (s *Store) finishFile(id string, st *UploadState) error {
	src := s.dataFile(id)
	dst := filepath.Join(s.dir, filepath.FromSlash(ContentKey(id)))
	what := "finish " + id
	if err := os.MkdirAll(filepath.Dir(dst), 0o777); err != nil {
		return wrap(err, "%s", what)
	}
	fi, err := os.Stat(src)
	if errors.Is(err, fs.ErrNotExist) {
		// Renamed by an earlier run, or never written (no byte appended).
		if di, err := os.Stat(dst); err == nil && di.Size() == st.Size {
			return nil
		}
		if st.Size > 0 {
			return fmt.Errorf("storage: %s: %w: neither the upload's file nor its content", what, ErrUploadLost)
		}
		if err := os.Remove(dst + attrsSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return wrap(err, "%s", what)
		}
		if err := os.WriteFile(dst, nil, 0o600); err != nil {
			return wrap(err, "%s", what)
		}
		return nil
	}
	if err != nil {
		return wrap(err, "%s", what)
	}
	if fi.Size() < st.Size {
		return fmt.Errorf("storage: %s: %w: %d bytes on disk of %d", what, ErrUploadLost, fi.Size(), st.Size)
	}
	if err := truncateTo(src, st.Size); err != nil {
		return wrap(err, "%s", what)
	}
	// A sidecar left at the content's key (fileblob's metadata) would
	// describe other bytes; without one fileblob reports defaults.
	if err := os.Remove(dst + attrsSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return wrap(err, "%s", what)
	}
	if err := os.Rename(src, dst); err != nil {
		return wrap(err, "%s", what)
	}
	return nil
}
