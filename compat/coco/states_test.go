package coco_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/attachkit/attachment"
	"github.com/attachkit/attachment/internal/compattest"
)

// parser is a processor whose outcome the file's name chooses: "block"
// runs until released, "fail" fails for good, anything else completes.
type parser struct {
	started chan string
	release chan struct{}
}

func (p *parser) processor() attachment.Processor {
	return attachment.ProcessorFunc("parse",
		func(a *attachment.Attachment) bool { return a.ContentType == "application/pdf" },
		func(ctx context.Context, t *attachment.Task) error {
			switch {
			case strings.HasPrefix(t.Attachment.Filename, "block"):
				p.started <- t.Attachment.ID
				select {
				case <-p.release:
				case <-ctx.Done():
					return ctx.Err()
				}
			case strings.HasPrefix(t.Attachment.Filename, "fail"):
				return fmt.Errorf("%w: not parseable", attachment.ErrPermanent)
			}
			return nil
		})
}

// parsingOne returns the initial_parsing of id from GET /{id}/status.
func (e *env) parsingOne(t *testing.T, id string) string {
	t.Helper()
	rec := e.Do("GET", "/attachment/"+id+"/status", nil, tok...)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	one := object(t, rec.Body.Bytes(), "initial_parsing")
	return one["initial_parsing"].(string)
}

// parsing returns the initial_parsing of id, a state that is not
// changing, from GET /{id}/status and from POST /_status, which must
// agree.
func (e *env) parsing(t *testing.T, id string) string {
	t.Helper()
	one := e.parsingOne(t, id)
	rec := e.Do("POST", "/attachment/_status", statusBody(t, id), tok...)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var many map[string]map[string]string
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &many))
	require.Equal(t, map[string]string{"initial_parsing": one}, many[id])
	return one
}

// TestStatusStates follows attachments through the document's states:
// completed with no processing, pending, processing, completed, failed.
func TestStatusStates(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		p := &parser{started: make(chan string, 4), release: make(chan struct{})}
		e := newEnv(t, be, &compattest.Options{Service: &attachment.Options{
			Processing: attachment.ProcessingOptions{Processors: []attachment.Processor{p.processor()}},
		}})
		// A text file: no processor has work for it.
		txt := e.upload(t, "", file("notes.txt", []byte("hello")))[0]
		assert.Equal(t, "completed", e.parsing(t, txt))

		blocked := e.upload(t, "", file("block.pdf", pdf(10)))[0]
		select {
		case id := <-p.started:
			require.Equal(t, blocked, id)
		case <-time.After(10 * time.Second):
			t.Fatal("the processor did not start")
		}
		assert.Equal(t, "processing", e.parsing(t, blocked))
		close(p.release)
		require.Eventually(t, func() bool { return e.parsingOne(t, blocked) == "completed" }, 10*time.Second, 20*time.Millisecond)
		assert.Equal(t, "completed", e.parsing(t, blocked))

		failed := e.upload(t, "", file("fail.pdf", pdf(10)))[0]
		require.Eventually(t, func() bool { return e.parsingOne(t, failed) == "failed" }, 10*time.Second, 20*time.Millisecond)
		assert.Equal(t, "failed", e.parsing(t, failed))
		assert.Equal(t, "failed", e.get(t, failed).Processing["parse"])
	})
}

// TestStatusPending: with no workers here, a job waits.
func TestStatusPending(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		p := &parser{}
		e := newEnv(t, be, &compattest.Options{Service: &attachment.Options{
			Processing: attachment.ProcessingOptions{
				Processors: []attachment.Processor{p.processor()},
				Workers:    attachment.Off,
			},
		}})
		id := e.upload(t, "", file("doc.pdf", pdf(10)))[0]
		assert.Equal(t, "pending", e.parsing(t, id))
	})
}

// TestStatusManyUnknown: an ID that does not exist is answered as a
// parsing that will never run, with found false, beside the known ones;
// an empty list is an empty object.
func TestStatusManyUnknown(t *testing.T) {
	forBackends(t, func(t *testing.T, be compattest.Backend) {
		e := newEnv(t, be, nil)
		id := e.upload(t, "", file("a.pdf", pdf(1)))[0]
		missing := "0198c0de-0000-7000-8000-000000000000"
		rec := e.Do("POST", "/attachment/_status", statusBody(t, id, missing, "not-an-id"), tok...)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		m := object(t, rec.Body.Bytes(), id, missing, "not-an-id")
		assert.Equal(t, map[string]any{"initial_parsing": "completed"}, m[id])
		for _, k := range []string{missing, "not-an-id"} {
			assert.Equal(t, map[string]any{"initial_parsing": "canceled", "found": false}, m[k])
		}
		rec = e.Do("POST", "/attachment/_status", strings.NewReader(`{"attachments":[]}`), tok...)
		require.Equal(t, http.StatusOK, rec.Code)
		assert.JSONEq(t, `{}`, rec.Body.String())
	})
}
