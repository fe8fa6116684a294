package filename_test

import (
	"fmt"

	"github.com/attachkit/attachment/internal/filename"
)

func ExampleClean() {
	fmt.Println(filename.Clean("../../etc/passwd", 0))
	fmt.Println(filename.Clean(`C:\Users\x\a.txt`, 0))
	fmt.Printf("%q\n", filename.Clean("invoice\u202Efdp.exe", 0))
	fmt.Println(filename.Clean("a very long name.pdf", 10))
	// Output:
	// passwd
	// a.txt
	// "invoicefdp.exe"
	// a very.pdf
}

func ExampleContentDisposition() {
	fmt.Println(filename.ContentDisposition("attachment", "report.pdf"))
	fmt.Println(filename.ContentDisposition("inline", "Über café.pdf"))
	// Output:
	// attachment; filename="report.pdf"
	// inline; filename="Uber cafe.pdf"; filename*=UTF-8''%C3%9Cber%20caf%C3%A9.pdf
}

func ExampleFromContentDisposition() {
	name, err := filename.FromContentDisposition(`attachment; filename="ete.txt"; filename*=iso-8859-1''%E9t%E9.txt`)
	fmt.Println(name, err)
	// Output:
	// été.txt <nil>
}
