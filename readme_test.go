package attachment_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The README's "Embed it in your app" program builds, as a newcomer would
// build it: in a module of its own that requires this one. A README whose
// first program no longer compiles against the code fails here.
func TestREADMEProgramBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program with the go command; skipped under -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH: %v", err)
	}
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	var program string
	for _, m := range regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1) {
		if strings.Contains(m[1], "package main") && strings.Contains(m[1], "func main()") {
			program = m[1]
			break
		}
	}
	require.NotEmpty(t, program, "README.md has no complete Go program")

	root, err := filepath.Abs(".")
	require.NoError(t, err)
	dir := t.TempDir()
	goMod := "module example.com/newcomer\n\ngo 1.26.8\n\n" +
		"require github.com/attachkit/attachment v0.0.0\n\n" +
		"replace github.com/attachkit/attachment => " + root + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o644))
	sum, err := os.ReadFile("go.sum")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(program), 0o644))

	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(goBin, args...)
		cmd.Dir = dir
		// The module's go.sum holds every sum the program needs; -mod=mod
		// lets the go command write the requirements the program's
		// imports imply into its go.mod, as `go get` would for a newcomer.
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOPROXY=off")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go %s:\n%s\nprogram:\n%s", strings.Join(args, " "), out, program)
	}
	run("build", "-o", filepath.Join(dir, "app"), ".")
}
