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

	"github.com/attachkit/attachment/internal/pgtest"
	"github.com/attachkit/attachment/internal/s3test"
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
	base := serve(t, "-token", "s3cret",
		"-blob", "file://"+dir+"/blobs?create_dir=1&no_tmp_dir=1&metadata=skip",
		"-meta", "sqlite://"+dir+"/meta.db")

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
}

// The production setup the README shows: content on S3, records in
// PostgreSQL, both named by URL on the command line.
func TestServePostgresS3(t *testing.T) {
	if reason := pgtest.Skip(); reason != "" {
		t.Skip(reason)
	}
	bucket := s3test.Open(t)
	_, pgURL := pgtest.Schema(t)
	base := serve(t, "-blob", bucket.URL, "-meta", pgURL)

	resp, err := http.Post(base+"?filename=a.txt", "text/plain", strings.NewReader("hello from s3"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	loc := resp.Header.Get("Location")
	resp, err = http.Get(strings.TrimSuffix(base, "/attachments/") + loc)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "hello from s3", string(body))

	// The content is in the bucket, under the service's key layout.
	keys := 0
	it := bucket.List(nil)
	for {
		obj, err := it.Next(t.Context())
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(obj.Key, "content/"), obj.Key)
		keys++
	}
	require.Equal(t, 1, keys)
}

// serve runs the server with args on a free port and returns its API's
// base URL; when the test ends, it stops the server and checks that it shut
// down cleanly.
func serve(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), pw)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err, "the server did not start")
	go io.Copy(io.Discard, pr)
	base := strings.TrimSpace(strings.TrimPrefix(line, "attachment API listening on "))
	require.True(t, strings.HasPrefix(base, "http://127.0.0.1:"), line)
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Error("server did not shut down")
		}
	})
	return base
}
