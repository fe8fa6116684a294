package mpart_test

import (
	"fmt"
	"io"
	"strings"

	"github.com/attachkit/attachment/internal/mpart"
)

func ExampleReader() {
	body := "--XyZzY\r\n" +
		"Content-Disposition: form-data; name=\"owner\"\r\n\r\n" +
		"document:42\r\n" +
		"--XyZzY\r\n" +
		"Content-Disposition: form-data; name=\"file\"; filename=\"C:\\\\scans\\\\invoice.pdf\"\r\n" +
		"Content-Type: application/pdf\r\n\r\n" +
		"%PDF-1.7 ...\r\n" +
		"--XyZzY--\r\n"
	r := mpart.NewReader(strings.NewReader(body), "XyZzY", nil)
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		n, err := p.WriteTo(io.Discard)
		fmt.Printf("%s %q: %d bytes, %v\n", p.FormName(), p.FileName(), n, err)
	}
	// Output:
	// owner "": 11 bytes, <nil>
	// file "C:\\scans\\invoice.pdf": 12 bytes, <nil>
}
