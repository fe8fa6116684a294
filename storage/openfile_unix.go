//go:build unix

package storage

import (
	"io/fs"
	"os"
	"syscall"
)

// openRead opens a local file for reading, as os.Open does but without
// offering it to the runtime's poller: os.Open tries to, and for a
// regular file the kernel refuses (epoll_ctl gives EPERM), a wasted call
// on every download.
func openRead(path string) (*os.File, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
}
