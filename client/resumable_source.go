package client

import (
	"cmp"
	"errors"
	"fmt"
	"io"
)

// uploadSource reads the content of a resumable upload from any offset
// it can reach: any with an io.ReaderAt or io.Seeker, only forward with a
// plain io.Reader. Offsets count from the content's position when the
// upload started. It tracks the progress callback's value.
type uploadSource struct {
	r    io.Reader
	ra   io.ReaderAt // when the content is one
	seek io.Seeker   // when the content is one (and no ReaderAt)
	base int64       // the content's position at offset 0

	size    int64  // the length from File.Size or the content; -1 unknown
	pos     int64  // the offset of the next byte Read gives
	pending []byte // bytes read ahead at pos (peek)
	end     int64  // the content's length once a read met its end; -1 before
	err     error  // the first read error other than io.EOF

	progress func(acked, total int64)
	total    int64 // progress's total; -1 unknown
	reported int64 // the highest acked given to progress; -1 none
}

// newUploadSource prepares f's content for an upload.
func newUploadSource(f File, progress func(acked, total int64)) (*uploadSource, error) {
	s := &uploadSource{r: f.Content, size: fileSize(f), end: -1, progress: progress, reported: -1}
	ra, isRA := f.Content.(io.ReaderAt)
	if sk, ok := f.Content.(io.Seeker); ok {
		cur, err := sk.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, fmt.Errorf("attachment client: UploadResumable: the content's position: %w", err)
		}
		s.base = cur
		if s.size < 0 && f.Size == 0 {
			end, err := sk.Seek(0, io.SeekEnd)
			if err == nil {
				_, err = sk.Seek(cur, io.SeekStart)
			}
			if err != nil {
				return nil, fmt.Errorf("attachment client: UploadResumable: the content's size: %w", err)
			}
			s.size = max(end-cur, 0)
		}
		if !isRA {
			s.seek = sk
		}
	}
	if isRA {
		s.ra = ra
	}
	s.total = s.size
	return s, nil
}

// errNotSeekable is the error of going back in a plain io.Reader.
var errNotSeekable = errors.New("the content is an io.Reader that cannot go back (give an io.ReadSeeker or io.ReaderAt to resume from an earlier offset)")

// seekTo makes off the offset the next Read gives.
func (s *uploadSource) seekTo(off int64) error {
	switch {
	case off == s.pos:
		return nil
	case s.ra != nil:
		s.pos, s.pending = off, nil
		return nil
	case s.seek != nil:
		if _, err := s.seek.Seek(s.base+off, io.SeekStart); err != nil {
			s.err = err
			return &contentError{fmt.Errorf("seeking the content to %d: %w", off, err)}
		}
		s.pos, s.pending = off, nil
		return nil
	case off < s.pos:
		return &contentError{fmt.Errorf("the server has %d bytes, %d were read: %w", off, s.pos, errNotSeekable)}
	}
	// Forward in a plain reader: skip what the server has.
	if _, err := io.CopyN(io.Discard, s, off-s.pos); err != nil {
		return &contentError{fmt.Errorf("skipping the %d bytes the server has: the content ended at %d: %w", off, s.pos, cmp.Or(s.err, err))}
	}
	return nil
}

// peek reads one byte ahead at off, so that end is set when the content
// ends there.
func (s *uploadSource) peek(off int64) error {
	if s.end >= 0 && off >= s.end {
		return s.seekTo(off)
	}
	if err := s.seekTo(off); err != nil {
		return err
	}
	if len(s.pending) > 0 {
		return nil
	}
	var b [1]byte
	for range 100 {
		n, err := s.read(b[:])
		switch {
		case n > 0:
			s.pending = append(s.pending[:0], b[0])
			return nil
		case err == io.EOF:
			s.end = s.pos
			return nil
		case err != nil:
			s.err = err
			return &contentError{fmt.Errorf("reading content: %w", err)}
		}
	}
	return &contentError{fmt.Errorf("reading content: %w", io.ErrNoProgress)}
}

// read reads from the content at pos, without bookkeeping.
func (s *uploadSource) read(p []byte) (int, error) {
	if s.ra != nil {
		return s.ra.ReadAt(p, s.base+s.pos)
	}
	return s.r.Read(p)
}

// Read gives the content from pos on, and reports progress.
func (s *uploadSource) Read(p []byte) (int, error) {
	var n int
	var err error
	if len(s.pending) > 0 {
		n = copy(p, s.pending)
		s.pending = s.pending[n:]
	} else {
		n, err = s.read(p)
	}
	s.pos += int64(n)
	switch {
	case err == io.EOF:
		s.end = s.pos
	case err != nil && s.err == nil:
		s.err = err
	}
	s.acked(s.pos)
	return n, err
}

// acked calls progress with v unless it has had v or more.
func (s *uploadSource) acked(v int64) {
	if s.progress == nil || v <= s.reported {
		return
	}
	s.reported = v
	s.progress(v, s.total)
}
