//go:build !unix

package storage

import "os"

// openRead opens a local file for reading.
func openRead(path string) (*os.File, error) { return os.Open(path) }
