// Package iox holds small I/O helpers shared by the module's packages.
package iox

import "io"

// Fill reads from r until buf is full or r ends. last reports that r
// ended (returned io.EOF) within buf. Unlike io.ReadFull, it tells the end
// of r from a reader that fails with io.ErrUnexpectedEOF (a truncated
// stream), which is returned as an error like any other.
func Fill(r io.Reader, buf []byte) (n int, last bool, err error) {
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err == io.EOF {
			return n, true, nil
		}
		if err != nil {
			return n, false, err
		}
	}
	return n, false, nil
}
