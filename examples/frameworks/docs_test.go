package frameworks

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocSnippets checks that every Go snippet of docs/integrations.md is
// copied from this module's code, declaration by declaration, so the page
// cannot drift from what the tests run.
func TestDocSnippets(t *testing.T) {
	doc, err := os.ReadFile("../../docs/integrations.md")
	if err != nil {
		t.Fatal(err)
	}
	var code strings.Builder
	err = filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		code.Write(b)
		code.WriteString("\n")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) == 0 {
		t.Fatal("no Go snippets found in docs/integrations.md")
	}
	// A declaration starts at column 0 after a blank line.
	start := regexp.MustCompile(`\n\n(//|func|type)`)
	n := 0
	for _, b := range blocks {
		body := b[1]
		cuts := start.FindAllStringIndex(body, -1)
		from := 0
		for _, c := range append(cuts, []int{len(body), len(body)}) {
			decl := strings.TrimSpace(body[from:c[0]])
			from = c[0]
			if decl == "" {
				continue
			}
			n++
			if !strings.Contains(code.String(), decl) {
				t.Errorf("docs/integrations.md has a snippet not found in examples/frameworks:\n%s", decl)
			}
		}
	}
	t.Logf("%d declarations checked", n)
}
