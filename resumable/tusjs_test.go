package resumable_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The real JavaScript client: tus-js-client 4.3.1, installed from npm into
// a temporary folder when the test runs (nothing from npm is committed),
// run under Node by our driver (testdata/tusjs/driver.mjs) against the
// Handler with the tus layer on file + SQLite, served by httptest. Every
// upload is downloaded through the native API (GET {prefix}/{id}) and
// compared by SHA-256; its name must be the one sent in Upload-Metadata.
const (
	tusJSVersion = "4.3.1"
	tusJSSize    = 12 << 20
	tusJSChunk   = 1 << 20
	tusJSNeeds   = "needs node and npm (Debian: apt-get install nodejs npm)"
)

func TestTusJS(t *testing.T) {
	js := installTusJS(t)

	// One upload in one PATCH: created, sent, committed by the PATCH that
	// brings it to its length (whose response carries the attachment's
	// Location).
	t.Run("basic", func(t *testing.T) {
		s := newJSServer(t)
		path, data := randomFile(t, tusJSSize)
		run := js.run(t, s.scenario(path, "basic.bin", nil))
		done := run.success(t)

		ex := s.rec.all()
		require.Len(t, ex, 2, "a POST then one PATCH: %v", ex)
		assert.Equal(t, "POST", ex[0].Method)
		assert.Equal(t, http.StatusCreated, ex[0].Status)
		assert.Equal(t, "PATCH", ex[1].Method)
		assert.Equal(t, "0", ex[1].ReqOffset)
		assert.Equal(t, int64(tusJSSize), ex[1].BodyBytes)
		assert.Equal(t, http.StatusNoContent, ex[1].Status)
		assert.Equal(t, strconv.Itoa(tusJSSize), ex[1].RespOffset)
		assert.Equal(t, prefix+"/"+idOf(done.URL), done.Location, "the completing PATCH names the attachment")
		assert.Equal(t, int64(tusJSSize), run.lastChunk().BytesAccepted)
		for _, x := range ex {
			assert.Empty(t, x.Info, "no 104 for tus: %v", x)
		}

		s.check(t, done.URL, data, "basic.bin")
	})

	// An upload in 1 MiB PATCHes aborted once 3 MiB are acknowledged, then
	// resumed from its URL by a new Upload in a new Node process: the
	// client asks the server for its offset (HEAD) and sends only what was
	// not acknowledged.
	t.Run("abort_resume", func(t *testing.T) {
		s := newJSServer(t)
		path, data := randomFile(t, tusJSSize)

		first := s.scenario(path, "resumed.bin", map[string]any{"chunkSize": tusJSChunk, "abortAt": 3 << 20})
		run := js.run(t, first)
		aborted := run.only(t, "aborted")
		require.GreaterOrEqual(t, aborted.BytesAccepted, int64(3<<20))
		require.Less(t, aborted.BytesAccepted, int64(tusJSSize))
		require.NotEmpty(t, aborted.URL)
		assert.Empty(t, run.all("success"))

		before := s.rec.all()
		var lastAck string
		for _, x := range before {
			if x.Method == "PATCH" && x.Status == http.StatusNoContent {
				lastAck = x.RespOffset
			}
		}
		require.Equal(t, strconv.FormatInt(aborted.BytesAccepted, 10), lastAck,
			"the client's last acknowledged offset is the server's last answer")
		rec := s.env.do("GET", prefix+"/"+idOf(aborted.URL), nil)
		assert.Equal(t, http.StatusNotFound, rec.Code, "not an attachment while incomplete")

		second := s.scenario(path, "resumed.bin", map[string]any{"chunkSize": tusJSChunk, "uploadUrl": aborted.URL})
		delete(second, "endpoint")
		done := js.run(t, second).success(t)
		assert.Equal(t, aborted.URL, done.URL, "resumed, not created again")

		after := s.rec.all()[len(before):]
		require.NotEmpty(t, after)
		assert.Equal(t, "HEAD", after[0].Method, "the resumed client asks for the offset first: %v", after)
		var patches []exchange
		for _, x := range after {
			assert.NotEqual(t, "POST", x.Method, "no new upload: %v", x)
			if x.Method == "PATCH" {
				patches = append(patches, x)
			}
		}
		require.NotEmpty(t, patches)
		assert.Equal(t, lastAck, patches[0].ReqOffset, "the first resumed PATCH starts at the last acknowledged offset")
		var resent, total int64
		for _, x := range patches {
			resent += x.BodyBytes
		}
		for _, x := range s.rec.all() {
			if x.Method == "PATCH" {
				total += x.BodyBytes
			}
		}
		assert.Equal(t, tusJSSize-aborted.BytesAccepted, resent, "acknowledged bytes are not sent again")
		assert.LessOrEqual(t, total, int64(tusJSSize+tusJSChunk), "all PATCH bodies together: the file and at most one chunk more")

		s.check(t, done.URL, data, "resumed.bin")
	})

	// A client killed in the middle of a PATCH: 8 MiB chunks of a 24 MiB
	// file; the server has read 1 MiB of the second when the Node process
	// gets SIGKILL. The rest of that chunk (7 MiB) is more than the
	// kernel's socket buffers hold (the server's receive buffer is set to
	// 64 KiB, Linux caps a send buffer at 4 MiB by default), so the PATCH
	// is really cut. The server keeps what it read, and a new Upload
	// resumed from the URL learns that offset (HEAD) and sends only the
	// rest.
	t.Run("killed_midchunk", func(t *testing.T) {
		s := newJSServerBuf(t, 64<<10)
		const size, chunk = 24 << 20, 8 << 20
		path, data := randomFile(t, size)
		p := newPause(chunk, 1<<20)
		t.Cleanup(p.free) // never leave the handler waiting
		s.rec.mu.Lock()
		s.rec.pause = p
		s.rec.mu.Unlock()

		proc := js.start(t, s.scenario(path, "killed.bin", map[string]any{"chunkSize": chunk}))
		select {
		case <-p.reached:
			require.NoError(t, proc.cmd.Process.Kill())
		case <-proc.done:
		}
		run := proc.wait(t)
		require.Error(t, run.err, "killed: %v", run.events)
		require.ErrorContains(t, run.err, "killed")
		assert.Empty(t, run.all("success"))
		require.NotEmpty(t, run.all("url"))
		uploadURL := run.all("url")[0].URL
		assert.Equal(t, int64(chunk), run.lastChunk().BytesAccepted, "one chunk acknowledged before the kill")
		p.free()

		// The cut PATCH ends once its handler has seen the connection close.
		require.Eventually(t, func() bool { return len(s.rec.all()) == 3 }, time.Minute, 10*time.Millisecond,
			"POST, PATCH at 0, the cut PATCH")
		before := s.rec.all()
		cut := before[2]
		t.Logf("the cut PATCH: %v", cut)
		require.Equal(t, "PATCH", cut.Method)
		require.Equal(t, strconv.Itoa(chunk), cut.ReqOffset)
		require.GreaterOrEqual(t, cut.BodyBytes, int64(1<<20))
		require.Less(t, cut.BodyBytes, int64(chunk), "the PATCH was cut")

		second := s.scenario(path, "killed.bin", map[string]any{"chunkSize": chunk, "uploadUrl": uploadURL})
		delete(second, "endpoint")
		done := js.run(t, second).success(t)
		assert.Equal(t, uploadURL, done.URL)

		after := s.rec.all()[len(before):]
		require.NotEmpty(t, after)
		require.Equal(t, "HEAD", after[0].Method, "%v", after)
		require.Equal(t, http.StatusNoContent, after[0].Status, "%v", after[0])
		kept := strconv.FormatInt(chunk+cut.BodyBytes, 10)
		assert.Equal(t, kept, after[0].RespOffset, "the server kept every byte it read of the cut PATCH")
		var resent, total int64
		first := ""
		for _, x := range after {
			if x.Method == "PATCH" {
				if first == "" {
					first = x.ReqOffset
				}
				resent += x.BodyBytes
			}
		}
		assert.Equal(t, kept, first, "the first resumed PATCH starts at the server's offset")
		assert.Equal(t, size-chunk-cut.BodyBytes, resent, "bytes the server had are not sent again")
		for _, x := range s.rec.all() {
			if x.Method == "PATCH" {
				total += x.BodyBytes
			}
		}
		assert.Equal(t, int64(size), total, "all PATCH bodies the server read add up to the file")

		s.check(t, done.URL, data, "killed.bin")
	})

	// parallelUploads: 3 sends three partial uploads (Upload-Concat:
	// partial) at once, then a final upload (Upload-Concat: final;URL URL
	// URL) that the server commits as one attachment.
	t.Run("parallel", func(t *testing.T) {
		s := newJSServer(t)
		path, data := randomFile(t, tusJSSize)
		done := js.run(t, s.scenario(path, "parallel.bin", map[string]any{"parallelUploads": 3})).success(t)

		var partials, finals int
		var finalConcat string
		for _, x := range s.rec.all() {
			if x.Method != "POST" {
				continue
			}
			switch {
			case x.Concat == "partial":
				partials++
				assert.Equal(t, http.StatusCreated, x.Status, "%v", x)
			case strings.HasPrefix(x.Concat, "final;"):
				finals++
				finalConcat = x.Concat
				assert.Equal(t, http.StatusCreated, x.Status, "%v", x)
			}
		}
		assert.Equal(t, 3, partials, "partial uploads")
		assert.Equal(t, 1, finals, "final uploads")
		parts := strings.Fields(strings.TrimPrefix(finalConcat, "final;"))
		assert.Len(t, parts, 3, finalConcat)
		var sent int64
		for _, x := range s.rec.all() {
			if x.Method == "PATCH" {
				sent += x.BodyBytes
			}
		}
		assert.Equal(t, int64(tusJSSize), sent, "each byte sent once, in one of the partials")

		s.check(t, done.URL, data, "parallel.bin")
		for _, u := range parts {
			rec := s.env.do("GET", prefix+"/"+idOf(u), nil)
			assert.Equal(t, http.StatusNotFound, rec.Code, "a partial upload is no attachment: %s", u)
		}
	})

	// The IETF draft as tus-js-client speaks it: 'ietf-draft-05' sends
	// Upload-Draft-Interop-Version: 6 (and 'ietf-draft-03' sends 5) with
	// Upload-Complete instead of Tus-Resumable.
	for _, p := range []struct{ protocol, interop string }{{"ietf-draft-05", "6"}, {"ietf-draft-03", "5"}} {
		t.Run(p.protocol, func(t *testing.T) {
			s := newJSServer(t)
			path, data := randomFile(t, tusJSSize)
			name := p.protocol + ".bin"
			done := js.run(t, s.scenario(path, name, map[string]any{"protocol": p.protocol, "chunkSize": 4 << 20})).success(t)

			ex := s.rec.all()
			require.NotEmpty(t, ex)
			assert.Equal(t, "POST", ex[0].Method)
			assert.Contains(t, ex[0].Info, 104, "104 Upload Resumption Supported on creation: %v", ex[0])
			assert.Equal(t, prefix+"/"+idOf(done.URL), done.Location, "the completing response names the attachment")
			var sent int64
			for _, x := range ex {
				assert.Equal(t, p.interop, x.Interop, "%v", x)
				sent += x.BodyBytes
			}
			assert.Equal(t, int64(tusJSSize), sent)

			s.check(t, done.URL, data, name)
		})
	}
}
