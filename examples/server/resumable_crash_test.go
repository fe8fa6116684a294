package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob"

	"github.com/attachkit/attachment/internal/pgtest"
	"github.com/attachkit/attachment/internal/s3test"
	"github.com/attachkit/attachment/storage"
)

// The SIGKILL proofs of resumable uploads (issue 14; design
// docs/design/resumable-uploads.md §4.3 and §6 item 3): the server runs as
// a child process, a tus PATCH is cut off by a SIGKILL while its body is
// half sent, and the upload goes on from the offset the restarted server
// (or another instance) reports, to a byte-exact attachment with nothing
// left behind.

const (
	// tusChunk is the size of the PATCHes sent whole.
	tusChunk = 8 << 20
	// tusWrite is how much of a slow PATCH's body is handed to the
	// connection at a time.
	tusWrite = 64 << 10
)

// tusClient speaks the few requests of tus 1.0.0 the tests need.
type tusClient struct {
	t      *testing.T
	client *http.Client
}

func newTusClient(t *testing.T) *tusClient {
	// ExpectContinueTimeout: a PATCH sent with Expect: 100-continue waits
	// for the server's go-ahead before its body, so that a refusal (423)
	// comes back as an answer, not as a connection cut mid-body.
	tr := &http.Transport{ExpectContinueTimeout: 10 * time.Second}
	c := &tusClient{t: t, client: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
	t.Cleanup(tr.CloseIdleConnections)
	return c
}

// create starts an upload of length bytes named name at the server whose
// API is at base, and returns its absolute URL.
func (c *tusClient) create(base string, length int64, name string) string {
	t := c.t
	t.Helper()
	req, err := http.NewRequest("POST", base+"uploads/", nil)
	require.NoError(t, err)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.FormatInt(length, 10))
	req.Header.Set("Upload-Metadata", "filename "+base64.StdEncoding.EncodeToString([]byte(name)))
	resp, err := c.client.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusCreated, resp.StatusCode, "create: %s", body)
	assert.Equal(t, "1.0.0", resp.Header.Get("Tus-Resumable"))
	loc, err := resp.Location()
	require.NoError(t, err)
	return loc.String()
}

// patch sends body at offset and returns the answer, its body read.
func (c *tusClient) patch(uploadURL string, offset int64, body io.Reader, size int64, expect bool) (*http.Response, error) {
	req, err := http.NewRequest("PATCH", uploadURL, body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = size // -1: chunked, for a body of unknown length
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	if expect {
		req.Header.Set("Expect", "100-continue")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}

// patchWhole sends data[from:to] in one PATCH that must succeed, and
// returns the answer.
func (c *tusClient) patchWhole(uploadURL string, data []byte, from, to int64) *http.Response {
	t := c.t
	t.Helper()
	resp, err := c.patch(uploadURL, from, bytes.NewReader(data[from:to]), to-from, false)
	require.NoError(t, err, "PATCH %d-%d", from, to)
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "PATCH %d-%d", from, to)
	require.Equal(t, strconv.FormatInt(to, 10), resp.Header.Get("Upload-Offset"), "offset after PATCH %d-%d", from, to)
	return resp
}

// head returns the upload's offset and the answer.
func (c *tusClient) head(uploadURL string) (int64, *http.Response) {
	t := c.t
	t.Helper()
	req, err := http.NewRequest("HEAD", uploadURL, nil)
	require.NoError(t, err)
	req.Header.Set("Tus-Resumable", "1.0.0")
	resp, err := c.client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "HEAD %s", uploadURL)
	off, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	require.NoError(t, err, "Upload-Offset of HEAD")
	return off, resp
}

// headAfterKill is head for an upload whose holder was killed: the HEAD
// asks the dead holder to let go, waits for it and is answered 423 with
// Retry-After while its lease lasts; it is tried again after that, until
// deadline. It returns the offset, the answer and how many 423 came.
func (c *tusClient) headAfterKill(uploadURL string, deadline time.Time) (int64, *http.Response, int) {
	t := c.t
	t.Helper()
	locked := 0
	for {
		req, err := http.NewRequest("HEAD", uploadURL, nil)
		require.NoError(t, err)
		req.Header.Set("Tus-Resumable", "1.0.0")
		resp, err := c.client.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		if resp.StatusCode == http.StatusLocked {
			locked++
			waitOutLock(t, resp, deadline)
			continue
		}
		require.Equal(t, http.StatusNoContent, resp.StatusCode, "HEAD %s", uploadURL)
		off, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
		require.NoError(t, err, "Upload-Offset of HEAD")
		return off, resp, locked
	}
}

// slowPatch is a PATCH whose body is fed a little at a time and never
// finished: it is cut off by the server's death.
type slowPatch struct {
	sent atomic.Int64 // bytes handed to the connection, or being handed
	done chan struct{}
	resp *http.Response
	err  error
	pw   *io.PipeWriter
}

// startSlowPatch sends data[from:] but its last byte at offset from,
// tusWrite bytes at a time, pausing pause between writes after the first
// fast bytes, with no Content-Length, and leaves the body open. sent counts every byte passed to the pipe, those of a
// write still under way included: an upper bound of what the server may
// have received.
func (c *tusClient) startSlowPatch(uploadURL string, data []byte, from, fast int64, pause time.Duration) *slowPatch {
	pr, pw := io.Pipe()
	sp := &slowPatch{done: make(chan struct{}), pw: pw}
	go func() {
		defer close(sp.done)
		sp.resp, sp.err = c.patch(uploadURL, from, pr, -1, false)
	}()
	go func() {
		// The last write is never made: however slow the server, the body
		// is never finished, and the PATCH can only end with the kill.
		last := int64(len(data)) - 1
		for off := from; off < last; off += tusWrite {
			end := min(off+tusWrite, last)
			sp.sent.Store(end - from)
			if _, err := pw.Write(data[off:end]); err != nil {
				return // the request ended: the server died
			}
			if end-from >= fast {
				time.Sleep(pause)
			}
		}
	}()
	return sp
}

// wait waits for the PATCH to end after the server's death, and checks
// that it got no success.
func (sp *slowPatch) wait(t *testing.T) {
	t.Helper()
	sp.pw.CloseWithError(errors.New("the server was killed"))
	select {
	case <-sp.done:
	case <-time.After(time.Minute):
		require.FailNow(t, "the PATCH cut off by the kill did not end")
	}
	if sp.err == nil {
		assert.NotEqual(t, http.StatusNoContent, sp.resp.StatusCode, "a PATCH whose body was never finished succeeded")
	}
}

// resume sends data from offset to its end in tusChunk PATCHes with
// Expect: 100-continue; an upload held by another request (423) is tried
// again after its Retry-After, until deadline. It returns the attachment
// ID of the last answer's Location and how many 423 answers came.
func (c *tusClient) resume(uploadURL string, data []byte, offset int64, deadline time.Time) (id string, locked int) {
	t := c.t
	t.Helper()
	for offset < int64(len(data)) {
		end := min(offset+tusChunk, int64(len(data)))
		resp, err := c.patch(uploadURL, offset, bytes.NewReader(data[offset:end]), end-offset, true)
		require.NoError(t, err, "PATCH %d-%d", offset, end)
		if resp.StatusCode == http.StatusLocked {
			locked++
			waitOutLock(t, resp, deadline)
			continue
		}
		require.Equal(t, http.StatusNoContent, resp.StatusCode, "PATCH %d-%d", offset, end)
		require.Equal(t, strconv.FormatInt(end, 10), resp.Header.Get("Upload-Offset"), "offset after PATCH %d-%d", offset, end)
		offset = end
		if offset == int64(len(data)) {
			loc, err := resp.Location()
			require.NoError(t, err, "the last PATCH's answer names the attachment")
			id = filepath.Base(loc.Path)
		}
	}
	return id, locked
}

// download checks that GET {base}{id} answers exactly data.
func (c *tusClient) download(base, id string, data []byte) {
	t := c.t
	t.Helper()
	resp, err := c.client.Get(base + id)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "download %s", id)
	h := sha256.New()
	n, err := io.Copy(h, resp.Body)
	require.NoError(t, err)
	want := sha256.Sum256(data)
	assert.Equal(t, int64(len(data)), n, "bytes downloaded of %s", id)
	assert.Equal(t, want[:], h.Sum(nil), "sha256 of the download of %s", id)
}

func randomData(seed uint64, size int) []byte {
	rng := rand.New(rand.NewPCG(seed, 14))
	data := make([]byte, size)
	for i := 0; i < size; i += 8 {
		v := rng.Uint64()
		for k := 0; k < 8 && i+k < size; k++ {
			data[i+k] = byte(v >> (8 * k))
		}
	}
	return data
}

// TestResumableCrashFile: file+SQLite. Two PATCHes acknowledged, a third
// cut off by SIGKILL with part of its body on disk; the restarted server
// reports an offset between what was acknowledged and what was sent, the
// upload goes on from there to a byte-exact attachment, and neither the
// uploads area nor Maintain finds anything left.
func TestResumableCrashFile(t *testing.T) {
	if testing.Short() {
		t.Skip("resumable crash test: builds and runs examples/server as a child process; skipped under -short")
	}
	bin := buildServer(t)
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	blobDir := filepath.Join(data, "blobs")
	blobURL := "file://" + blobDir + "?create_dir=1&no_tmp_dir=1&metadata=skip"
	metaURL := "sqlite://" + filepath.Join(data, "attachments.db")
	args := []string{"-addr", "127.0.0.1:0", "-demo=false", "-maintain-every", "0", "-blob", blobURL, "-meta", metaURL}

	const size = 40<<20 + 12345 // not a multiple of anything
	content := randomData(uint64(time.Now().UnixNano()), size)
	c := newTusClient(t)

	srv := startCrashServer(t, bin, args)
	uploadURL := c.create(srv.base, size, "resumed.bin")
	id := filepath.Base(uploadURL)
	var acked int64
	for range 2 {
		c.patchWhole(uploadURL, content, acked, acked+tusChunk)
		acked += tusChunk
	}

	// The third PATCH: 12 MiB at once, then a trickle. The kill lands once
	// the server has written past what was acknowledged by more than a
	// pipe's worth: the bytes on disk then run past the saved offset.
	dataFile := filepath.Join(blobDir, "uploads", id, "data")
	sp := c.startSlowPatch(uploadURL, content, acked, 12<<20, 20*time.Millisecond)
	require.Eventually(t, func() bool {
		fi, err := os.Stat(dataFile)
		return err == nil && fi.Size() >= acked+8<<20
	}, 30*time.Second, 5*time.Millisecond, "the slow PATCH's bytes never reached %s", dataFile)
	srv.kill(t)
	sp.wait(t)
	sent := acked + sp.sent.Load()
	fi, err := os.Stat(dataFile)
	require.NoError(t, err)
	onDisk := fi.Size()
	t.Logf("killed mid-PATCH: %d bytes acknowledged, %d sent, %d on disk", acked, sent, onDisk)
	require.Greater(t, onDisk, acked, "the kill left bytes past the acknowledged offset (what the resume must cut off)")

	srv = startCrashServer(t, bin, args)
	uploadURL = srv.base + "uploads/" + id // the same upload, at the new port
	offset, resp, headLocked := c.headAfterKill(uploadURL, time.Now().Add(2*time.Minute))
	t.Logf("after restart: HEAD says offset %d, after %d answers 423", offset, headLocked)
	assert.Equal(t, strconv.Itoa(size), resp.Header.Get("Upload-Length"))
	require.GreaterOrEqual(t, offset, acked, "HEAD after the kill lost acknowledged bytes")
	require.LessOrEqual(t, offset, sent, "HEAD after the kill reports bytes never sent")
	got, locked := c.resume(uploadURL, content, offset, time.Now().Add(2*time.Minute))
	// The killed process still holds the lease in the store: the new one
	// answers 423 until it lapses (30 s after its last renewal).
	t.Logf("resumed from %d: %d answers 423 on the way (the dead process's lease)", offset, locked)
	assert.Positive(t, headLocked+locked, "appended while the dead process's lease lasted")
	require.Equal(t, id, got, "the attachment's ID is the upload's")
	c.download(srv.base, id, content)
	off, resp := c.head(uploadURL)
	assert.Equal(t, int64(size), off, "HEAD of a committed upload")
	assert.Equal(t, "/attachments/"+id, resp.Header.Get("Location"))
	srv.kill(t)

	// Nothing left of the upload's bytes, before Maintain: completion
	// removed its directory, the tail the kill left included.
	entries, err := os.ReadDir(filepath.Join(blobDir, "uploads"))
	if !errors.Is(err, fs.ErrNotExist) {
		require.NoError(t, err)
		assert.Empty(t, entries, "left under the uploads area after completion")
	}
	rep := crashMaintain(t, blobURL, metaURL, 1)
	assert.Zero(t, rep.OrphanContent+rep.TempFiles+rep.OrphanUploads+rep.ExpiredUploads+rep.AbortedUploads, "Maintain found something left: %+v", rep)
	assert.Equal(t, 1, rep.RecordsChecked)
	assert.Equal(t, 1, rep.ContentChecked)
	contents, err := os.ReadDir(filepath.Join(blobDir, "content"))
	require.NoError(t, err)
	require.Len(t, contents, 1, "content keys")
	assert.Equal(t, id, contents[0].Name())
}

// TestResumableCrashTwoInstances: s3+postgres, two instances on the same
// bucket prefix and schema. A PATCH on A is cut off by SIGKILL after it
// uploaded a part the session does not name; B reports the offset, holds
// off (423 with Retry-After) while A's lease lasts, then takes the upload
// to its end. The attachment downloads byte-exact from B and from A
// restarted, and no multipart upload, uploads/ key or session row is
// left.
func TestResumableCrashTwoInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("resumable crash test: builds and runs examples/server as child processes; skipped under -short")
	}
	if skip := cmp.Or(s3test.Skip(), pgtest.Skip()); skip != "" {
		t.Skip("resumable crash test on s3+postgres: needs ATTACHMENT_TEST_S3_URL and ATTACHMENT_TEST_POSTGRES_URL: " + skip)
	}
	bin := buildServer(t)
	bucket := s3test.Open(t)     // its own key prefix, emptied at the end
	_, pgURL := pgtest.Schema(t) // its own schema, dropped at the end
	args := []string{"-addr", "127.0.0.1:0", "-demo=false", "-maintain-every", "0", "-blob", bucket.URL, "-meta", pgURL}

	const size = 30<<20 + 4321
	content := randomData(uint64(time.Now().UnixNano()), size)
	c := newTusClient(t)
	a := startCrashServer(t, bin, args)
	b := startCrashServer(t, bin, args)

	uploadURL := c.create(a.base, size, "two.bin")
	id := filepath.Base(uploadURL)
	// 10 MiB: one 8 MiB part of the multipart upload, and a tail.
	const acked = 10 << 20
	c.patchWhole(uploadURL, content, 0, acked)
	mpID := multipartOf(t, bucket, id)
	require.NotEmpty(t, mpID, "the first PATCH started a multipart upload")
	require.Equal(t, 1, partsOf(t, bucket, id, mpID), "parts after the first PATCH")

	// The PATCH cut off: the kill lands once it has uploaded a second part,
	// which no saved state names.
	sp := c.startSlowPatch(uploadURL, content, acked, 12<<20, 20*time.Millisecond)
	require.Eventually(t, func() bool { return partsOf(t, bucket, id, mpID) >= 2 }, time.Minute, 10*time.Millisecond,
		"the slow PATCH never uploaded a part")
	a.kill(t)
	sp.wait(t)
	sent := acked + sp.sent.Load()

	// B, on the same stores: the offset, then the rest.
	bURL := b.base + "uploads/" + id
	offset, resp, headLocked := c.headAfterKill(bURL, time.Now().Add(2*time.Minute))
	t.Logf("A killed mid-PATCH: %d bytes acknowledged, %d sent; B's HEAD says %d after %d answers 423", int64(acked), sent, offset, headLocked)
	assert.Equal(t, strconv.Itoa(size), resp.Header.Get("Upload-Length"))
	require.GreaterOrEqual(t, offset, int64(acked), "HEAD after the kill lost acknowledged bytes")
	require.LessOrEqual(t, offset, sent, "HEAD after the kill reports bytes never sent")
	start := time.Now()
	got, locked := c.resume(bURL, content, offset, time.Now().Add(2*time.Minute))
	t.Logf("B resumed from %d in %v, after %d answers 423 (A's lease)", offset, time.Since(start).Round(time.Second), locked)
	// Mutation guarded: no lease (claim ignores LockedUntil). A died
	// seconds into a 15 s lease, so B must have been told to wait.
	assert.Positive(t, headLocked+locked, "B appended while the dead A's lease lasted")
	require.Equal(t, id, got, "the attachment's ID is the upload's")
	c.download(b.base, id, content)
	a = startCrashServer(t, bin, args)
	c.download(a.base, id, content)
	a.kill(t)
	b.kill(t)

	// Nothing pending, before any Maintain: completion aborted the
	// multipart uploads of the content key it did not complete (the one
	// of the killed PATCH's part included) and removed the tail.
	ctx := context.Background()
	st := storage.New(bucket.Bucket)
	for _, prefix := range []string{storage.ContentPrefix, storage.UploadsPrefix, storage.DerivativesPrefix} {
		for up, err := range st.PendingUploads(ctx, prefix) {
			require.NoError(t, err)
			t.Errorf("multipart upload pending under %s: %+v", prefix, up)
		}
	}
	assert.Empty(t, bucket.PendingUploads(t), "multipart uploads pending under the test's prefix")
	var left []string
	it := bucket.List(&blob.ListOptions{Prefix: storage.UploadsPrefix})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		left = append(left, obj.Key)
	}
	assert.Empty(t, left, "keys left under %s", storage.UploadsPrefix)
	conn, err := pgx.Connect(ctx, pgURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var sessions int
	require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM attachment_uploads").Scan(&sessions))
	assert.Zero(t, sessions, "rows left in attachment_uploads")

	rep := maintainClean(t, bucket, pgURL)
	assert.Zero(t, rep.OrphanContent+rep.TempFiles+rep.OrphanUploads+rep.ExpiredUploads+rep.AbortedUploads, "Maintain found something left: %+v", rep)
}

// multipartOf returns the ID of the pending multipart upload of the
// attachment's content key, or "" when there is none.
func multipartOf(t *testing.T, bucket *s3test.Bucket, id string) string {
	t.Helper()
	var found string
	for up, err := range storage.New(bucket.Bucket).PendingUploads(context.Background(), storage.ContentKey(id)) {
		require.NoError(t, err)
		if up.Key == storage.ContentKey(id) {
			require.Empty(t, found, "two multipart uploads of %s", up.Key)
			found = up.ID
		}
	}
	return found
}

// partsOf counts the parts uploaded to the multipart upload.
func partsOf(t *testing.T, bucket *s3test.Bucket, id, uploadID string) int {
	t.Helper()
	in := &s3.ListPartsInput{
		Bucket: aws.String(bucket.Name), Key: aws.String(bucket.Prefix + storage.ContentKey(id)), UploadId: aws.String(uploadID),
	}
	n := 0
	for {
		out, err := bucket.Client.ListParts(context.Background(), in)
		require.NoError(t, err, "list the parts of %s", id)
		n += len(out.Parts)
		if !aws.ToBool(out.IsTruncated) {
			return n
		}
		in.PartNumberMarker = out.NextPartNumberMarker
	}
}

// waitOutLock sleeps for the Retry-After of a 423: the lease of a dead
// holder, at most appendLease (15 s), which must end before deadline.
func waitOutLock(t *testing.T, resp *http.Response, deadline time.Time) {
	t.Helper()
	wait, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After of a 423: %q", resp.Header.Get("Retry-After"))
	require.True(t, wait >= 1 && wait <= 31, "Retry-After %d s", wait)
	require.True(t, time.Now().Add(time.Duration(wait)*time.Second).Before(deadline), "the upload is still locked; Retry-After %d s", wait)
	time.Sleep(time.Duration(wait) * time.Second)
}
