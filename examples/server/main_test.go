package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFlags(t *testing.T) {
	c, err := parseFlags(nil)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8080", c.addr)
	assert.Equal(t, "/attachments", c.prefix)
	assert.Contains(t, c.blobURL, "file://./data/blobs")
	assert.Equal(t, "sqlite://./data/attachments.db", c.metaURL)

	c, err = parseFlags([]string{"-prefix", "files/"})
	require.NoError(t, err)
	assert.Equal(t, "/files", c.prefix)
	_, err = parseFlags([]string{"-prefix", "/"})
	assert.Error(t, err)
	_, err = parseFlags([]string{"extra"})
	assert.Error(t, err)
}

// TestServe runs the server on a free port with a token, uploads through
// it, and shuts it down gracefully.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-token", "s3cret",
			"-blob", "file://" + dir + "/blobs?create_dir=1&no_tmp_dir=1&metadata=skip",
			"-meta", "sqlite://" + dir + "/meta.db"}, pw)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	go io.Copy(io.Discard, pr)
	base := strings.TrimSpace(strings.TrimPrefix(line, "attachment API listening on "))
	require.True(t, strings.HasPrefix(base, "http://127.0.0.1:"), line)

	resp, err := http.Post(base+"?filename=a.txt", "text/plain", strings.NewReader("hi"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	for _, hdr := range [][2]string{{"Authorization", "Bearer s3cret"}, {"X-API-Token", "s3cret"}} {
		req, _ := http.NewRequest("POST", base+"?filename=a.txt", strings.NewReader("hi"))
		req.Header.Set(hdr[0], hdr[1])
		resp, err = http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusCreated, resp.StatusCode)
		assert.True(t, strings.HasPrefix(resp.Header.Get("Location"), "/attachments/"))
	}

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not shut down")
	}
}
