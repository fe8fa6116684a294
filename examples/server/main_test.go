package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/internal/pgtest"
	"github.com/attachkit/attachment/internal/s3test"
	"github.com/attachkit/attachment/wire"
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

	c, err = parseFlags([]string{"-max-size", "-1", "-max-request-size", "-1"})
	require.NoError(t, err)
	assert.Equal(t, int64(attachment.Off), c.maxSize)
	assert.Equal(t, int64(attachment.Off), c.maxRequest)
	_, err = parseFlags([]string{"-max-request-size", "-2"})
	assert.ErrorIs(t, err, attachment.ErrInvalidOptions)
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

const (
	hexKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	oldKey = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
)

func TestParseSigningKey(t *testing.T) {
	t.Setenv(signingKeyEnv, "")
	c, err := parseFlags(nil)
	require.NoError(t, err)
	assert.Nil(t, c.signer, "no key, no signed URLs")

	b64 := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	for _, v := range []string{hexKey, b64, strings.TrimRight(b64, "="), hexKey + "," + oldKey} {
		c, err = parseFlags([]string{"-signing-key", v})
		require.NoError(t, err, v)
		require.NotNil(t, c.signer, v)
	}
	c, err = parseFlags([]string{"-signing-key", hexKey, "-signed-url-ttl", "1m", "-signed-url-max-ttl", "1h"})
	require.NoError(t, err)
	assert.Equal(t, time.Minute, c.signer.DefaultTTL())
	assert.Equal(t, time.Hour, c.signer.MaxTTL())

	for _, v := range []string{"00ff", "not a key!", hexKey + ",", hexKey + "," + hexKey} {
		_, err = parseFlags([]string{"-signing-key", v})
		assert.Error(t, err, v)
	}
	_, err = parseFlags([]string{"-signing-key", hexKey, "-signed-url-ttl", "2h", "-signed-url-max-ttl", "1h"})
	assert.Error(t, err)

	// The environment variable, when the flag is not given.
	t.Setenv(signingKeyEnv, hexKey)
	c, err = parseFlags(nil)
	require.NoError(t, err)
	assert.NotNil(t, c.signer)
	t.Setenv(signingKeyEnv, "short")
	_, err = parseFlags(nil)
	assert.Error(t, err)
	c, err = parseFlags([]string{"-signing-key", hexKey})
	require.NoError(t, err, "the flag wins over the environment")
	assert.NotNil(t, c.signer)
}

// TestServeSigned runs the server with a token and a signing key: a
// signed URL made with the token reads the attachment without it.
func TestServeSigned(t *testing.T) {
	t.Setenv(signingKeyEnv, "")
	dir := t.TempDir()
	base := serve(t, "-token", "s3cret", "-signing-key", hexKey+","+oldKey,
		"-blob", "file://"+dir+"/blobs?create_dir=1&no_tmp_dir=1&metadata=skip",
		"-meta", "sqlite://"+dir+"/meta.db")
	origin := strings.TrimSuffix(base, "/attachments/")
	do := func(method, url string, token bool) *http.Response {
		req, err := http.NewRequest(method, url, strings.NewReader("hello"))
		require.NoError(t, err)
		if token {
			req.Header.Set("X-API-Token", "s3cret")
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := do("POST", base+"?filename=a.txt", true)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	loc := resp.Header.Get("Location")

	resp = do("POST", origin+loc+"/signed-url?ttl=60", true)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var su struct {
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&su))
	require.True(t, strings.HasPrefix(su.URL, loc+"?"), su.URL)
	assert.WithinDuration(t, time.Now().Add(time.Minute), su.ExpiresAt, 5*time.Second)

	resp = do("GET", origin+su.URL, false)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "hello", string(body))
	assert.Equal(t, http.StatusUnauthorized, do("GET", origin+loc, false).StatusCode)
	assert.Equal(t, http.StatusForbidden, do("GET", origin+strings.Replace(su.URL, "sig=", "sig=A", 1), false).StatusCode)
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

// With -abandon-after, the background maintenance (-maintain-every)
// deletes uploads that were never referenced, and keeps referenced ones.
func TestServeSweepsAbandonedUploads(t *testing.T) {
	dir := t.TempDir()
	base := serve(t, "-abandon-after", "2s", "-maintain-every", "100ms",
		"-blob", "file://"+dir+"/blobs?create_dir=1&no_tmp_dir=1&metadata=skip",
		"-meta", "sqlite://"+dir+"/meta.db")
	upload := func(name string) string {
		resp, err := http.Post(base+"?filename="+name, "text/plain", strings.NewReader("hi"))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusCreated, resp.StatusCode)
		return resp.Header.Get("Location")
	}
	status := func(loc string) int {
		resp, err := http.Get(strings.TrimSuffix(base, "/attachments/") + loc)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	abandoned := upload("draft.txt")
	kept := upload("saved.txt")
	resp, err := http.Post(strings.TrimSuffix(base, "/attachments/")+kept+"/refs", "application/json", strings.NewReader(`{"ref":"document:1"}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Eventually(t, func() bool { return status(abandoned) == http.StatusNotFound }, 20*time.Second, 20*time.Millisecond,
		"the abandoned upload was never swept")
	require.Equal(t, http.StatusOK, status(kept))
}

func TestTokenAccess(t *testing.T) {
	access := tokenAccess("s3cret", nil)
	for _, tc := range []struct {
		name, header, value string
		ok                  bool
	}{
		{"bearer", "Authorization", "Bearer s3cret", true},
		{"X-API-Token", "X-API-Token", "s3cret", true},
		{"none", "", "", false},
		{"empty bearer", "Authorization", "Bearer ", false},
		{"same length, other token", "X-API-Token", "s3creT", false},
		{"a prefix", "X-API-Token", "s3cre", false},
		{"longer", "X-API-Token", "s3cret!", false},
		{"another scheme", "Authorization", "Basic s3cret", false},
		{"lower-case scheme", "Authorization", "bearer s3cret", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "http://127.0.0.1/attachments/", nil)
			if tc.header != "" {
				req.Header.Set(tc.header, tc.value)
			}
			_, err := access.Identify(req)
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, attachment.ErrUnauthorized)
			}
		})
	}
}

func TestLoopbackHost(t *testing.T) {
	for host, ok := range map[string]bool{
		"localhost": true, "localhost:8080": true, "LocalHost:1": true, "localhost.": true,
		"127.0.0.1": true, "127.0.0.1:8080": true, "127.1.2.3:80": true,
		"[::1]": true, "[::1]:8080": true,
		"": false, "evil.example": false, "evil.example:8080": false, "localhost.evil.example": false,
		"10.0.0.1:8080": false, "0.0.0.0:8080": false, "[::2]:8080": false, "127.0.0.1.evil.example": false,
	} {
		assert.Equal(t, ok, loopbackHost(host), host)
	}
}

// The server on loopback refuses requests under another host name (DNS
// rebinding), with a problem+json, and browsers' cross-origin requests
// that change something; same-origin ones pass.
func TestServeRefusesOtherHostsAndCrossOrigin(t *testing.T) {
	dir := t.TempDir()
	base := serve(t,
		"-blob", "file://"+dir+"/blobs?create_dir=1&no_tmp_dir=1&metadata=skip",
		"-meta", "sqlite://"+dir+"/meta.db")
	origin := strings.TrimSuffix(base, "/attachments/")
	port := origin[strings.LastIndex(origin, ":")+1:]
	do := func(method, url, host string, hdr map[string]string) *http.Response {
		req, err := http.NewRequest(method, url, strings.NewReader("hi"))
		require.NoError(t, err)
		if host != "" {
			req.Host = host
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}

	for _, host := range []string{"evil.example:" + port, "evil.example"} {
		for _, url := range []string{base, origin + "/"} {
			resp := do("GET", url, host, nil)
			require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s %s", host, url)
			require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
			var p wire.Problem
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&p))
			require.Equal(t, wire.CodeForbidden, p.Code)
			require.Equal(t, http.StatusForbidden, p.Status)
		}
		resp := do("POST", base+"?filename=a.txt", host, nil)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
	}
	for _, host := range []string{"localhost:" + port, "127.0.0.1:" + port, ""} {
		require.Equal(t, http.StatusOK, do("GET", base, host, nil).StatusCode, host)
	}

	resp := do("POST", base+"?filename=a.txt", "", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "a cross-origin upload")
	var p wire.Problem
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&p))
	require.Equal(t, wire.CodeForbidden, p.Code)
	resp = do("POST", base+"?filename=a.txt", "", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": origin})
	require.Equal(t, http.StatusCreated, resp.StatusCode, "a same-origin upload (the demo page's)")
}

// -orphan-grace reaches Options.Maintenance.OrphanGrace, with a default
// shorter than the library's.
func TestOrphanGraceFlag(t *testing.T) {
	c, err := parseFlags(nil)
	require.NoError(t, err)
	assert.Equal(t, defaultOrphanGrace, c.orphanGrace)
	assert.Less(t, c.orphanGrace, attachment.DefaultOrphanGrace)
	c, err = parseFlags([]string{"-orphan-grace", "10m"})
	require.NoError(t, err)
	assert.Equal(t, 10*time.Minute, c.orphanGrace)
	_, err = parseFlags([]string{"-orphan-grace", "-1s"})
	assert.Error(t, err)
}

// With -orphan-grace, the server's own maintenance removes what a crash
// leaves (content without a record, a driver's temporary file) once that
// old, and keeps what is in order.
func TestServeRemovesCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	base := serve(t, "-orphan-grace", "2s", "-maintain-every", "100ms",
		"-blob", "file://"+dir+"/blobs?create_dir=1&no_tmp_dir=1&metadata=skip",
		"-meta", "sqlite://"+dir+"/meta.db")
	resp, err := http.Post(base+"?filename=a.txt", "text/plain", strings.NewReader("kept"))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	loc := resp.Header.Get("Location")

	content := filepath.Join(dir, "blobs", "content")
	orphan := filepath.Join(content, "0190a000-0000-7000-8000-000000000001")
	tmp := filepath.Join(content, "0190a000-0000-7000-8000-000000000002.18a3f0c2b1d4e5f6.tmp")
	require.NoError(t, os.WriteFile(orphan, []byte("a crash between the two writes"), 0o644))
	require.NoError(t, os.WriteFile(tmp, []byte("a crash mid-write"), 0o644))
	gone := func(path string) func() bool {
		return func() bool { _, err := os.Stat(path); return errors.Is(err, fs.ErrNotExist) }
	}
	require.Eventually(t, gone(tmp), 20*time.Second, 50*time.Millisecond, "the temporary file was never removed")
	require.Eventually(t, gone(orphan), 20*time.Second, 50*time.Millisecond, "the content without a record was never removed")

	resp, err = http.Get(strings.TrimSuffix(base, "/attachments/") + loc)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, "kept", string(body))
}

// The server takes resumable uploads (tus 1.0.0) at {prefix}/uploads/,
// behind the same token: an upload in two PATCHes is then an attachment.
func TestServeResumable(t *testing.T) {
	dir := t.TempDir()
	base := serve(t, "-token", "s3cret",
		"-blob", "file://"+dir+"/blobs?create_dir=1&no_tmp_dir=1&metadata=skip",
		"-meta", "sqlite://"+dir+"/meta.db")
	do := func(method, url string, body string, hdr ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Tus-Resumable", "1.0.0")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	resp := do("POST", base+"uploads/", "", "Upload-Length", "11", "Upload-Metadata", "filename aGVsbG8udHh0")
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the token is needed")

	auth := []string{"Authorization", "Bearer s3cret"}
	resp = do("POST", base+"uploads/", "", append(auth, "Upload-Length", "11", "Upload-Metadata", "filename aGVsbG8udHh0")...)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	loc := resp.Header.Get("Location")
	require.True(t, strings.HasPrefix(loc, "/attachments/uploads/"), loc)
	up := strings.TrimSuffix(base, "/attachments/") + loc
	patch := append(auth, "Content-Type", "application/offset+octet-stream")
	resp = do("PATCH", up, "hello", append(patch, "Upload-Offset", "0")...)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp = do("PATCH", up, " world", append(patch, "Upload-Offset", "5")...)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	att := resp.Header.Get("Location")
	require.NotEmpty(t, att, "the completing PATCH names the attachment")

	req, _ := http.NewRequest("GET", strings.TrimSuffix(base, "/attachments/")+att, nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	got, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(got.Body)
	got.Body.Close()
	require.Equal(t, http.StatusOK, got.StatusCode)
	assert.Equal(t, "hello world", string(b))
	assert.Contains(t, got.Header.Get("Content-Disposition"), "hello.txt")
}
