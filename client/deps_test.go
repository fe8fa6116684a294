package client_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Package client depends only on the standard library and package wire:
// a program that only calls the HTTP API does not carry the server (the
// root package, its stores, gocloud.dev, image decoders, ...). Importing
// the root package or metadata here again fails this test.
func TestClientImportsOnlyStdAndWire(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH: %v", err)
	}
	cmd := exec.Command(goBin, "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", ".")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("go list -deps: %v\n%s", err, ee.Stderr)
	}
	require.NoError(t, err)

	const module = "github.com/attachkit/attachment"
	allowed := map[string]bool{module + "/client": true, module + "/wire": true}
	var seen, others []string
	for line := range strings.Lines(strings.TrimSpace(string(out))) {
		path, std, ok := strings.Cut(strings.TrimSpace(line), " ")
		require.True(t, ok, "go list line %q", line)
		seen = append(seen, path)
		if std != "true" && !allowed[path] {
			others = append(others, path)
		}
	}
	assert.Empty(t, others, "package client must depend only on the standard library and %s/wire", module)
	for p := range allowed {
		assert.Contains(t, seen, p, "go list -deps did not list %s: is this test reading its output right?", p)
	}
}
