package attachment_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
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
	env := newcomerEnv(t, goBin)
	dir := t.TempDir()
	goMod := "module example.com/newcomer\n\ngo 1.26.8\n\n" +
		"require github.com/attachkit/attachment v0.0.0\n\n" +
		"replace github.com/attachkit/attachment => " + root + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(program), 0o644))

	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(goBin, args...)
		cmd.Dir = dir
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go %s:\n%s\nprogram:\n%s", strings.Join(args, " "), out, program)
		return string(out)
	}
	// As a newcomer would: tidy resolves the program's requirements (and
	// writes its go.sum) through the module proxy the go command is set up
	// with, and into whatever module cache it has, empty or not.
	run("mod", "tidy")
	run("build", "-o", filepath.Join(dir, "app"), ".")

	// What the tests and examples of this repository need stays out of a
	// host's module graph: those modules live in nested modules
	// (internal/e2e, examples/frameworks).
	graph := run("list", "-m", "all")
	for _, m := range []string{"github.com/chromedp/", "github.com/getkin/kin-openapi", "github.com/gin-gonic/", "github.com/labstack/echo", "github.com/go-chi/"} {
		assert.NotContains(t, graph, m, "a host's module graph includes a test-only module")
	}
}

// newcomerEnv is the environment of a newcomer's go command: this one's,
// with its module cache and proxy, outside any workspace and free to write
// the new module's go.mod and go.sum. With no way to reach modules
// (GOPROXY=off), a newcomer could not build either: the test skips,
// saying so.
func newcomerEnv(t *testing.T, goBin string) []string {
	t.Helper()
	out, err := exec.Command(goBin, "env", "GOPROXY").Output()
	require.NoError(t, err)
	if strings.TrimSpace(string(out)) == "off" {
		t.Skip("GOPROXY=off: a program in a module of its own cannot resolve its modules; set GOPROXY (e.g. the default https://proxy.golang.org,direct)")
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOFLAGS=") && !strings.HasPrefix(kv, "GOWORK=") {
			env = append(env, kv)
		}
	}
	return append(env, "GOFLAGS=-mod=mod", "GOWORK=off")
}
