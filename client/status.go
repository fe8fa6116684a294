package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/attachkit/attachment/wire"
)

// Status returns where the attachment's processing stands (GET
// /{id}/status): each processor's job pending, processing, completed,
// failed or canceled.
func (c *Client) Status(ctx context.Context, id string) (*wire.Status, error) {
	return c.status(ctx, id, 0)
}

// status asks for the status, the server waiting up to wait for
// processing to finish.
func (c *Client) status(ctx context.Context, id string, wait time.Duration) (*wire.Status, error) {
	var q url.Values
	if wait > 0 {
		q = url.Values{"wait": {wait.String()}}
	}
	var st wire.Status
	if err := c.doJSON(ctx, http.MethodGet, c.endpoint(q, id, "status"), nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// StatusResult is one attachment's answer in StatusMany: its status, or
// the error the server gave for it.
type StatusResult struct {
	// Status is the attachment's status, when Err is nil.
	Status *wire.Status
	// Err is why there is no status: an error wrapping
	// wire.ErrNotFound for an attachment that does not exist or that
	// the caller may not see.
	Err error
}

// maxStatusMany is the most IDs the server takes in one POST /_status.
const maxStatusMany = 1000

// statusManyEntry is one value of the POST /_status answer.
type statusManyEntry struct {
	wire.Status
	Error string `json:"error"`
}

// StatusMany returns the status of many attachments at once (POST
// /_status, in requests of up to 1000 IDs), keyed by ID. Every ID of ids
// has an entry.
func (c *Client) StatusMany(ctx context.Context, ids []string) (map[string]StatusResult, error) {
	out := make(map[string]StatusResult, len(ids))
	for start := 0; start < len(ids); start += maxStatusMany {
		chunk := ids[start:min(start+maxStatusMany, len(ids))]
		var resp map[string]statusManyEntry
		in := map[string][]string{"attachments": chunk}
		if err := c.doJSON(ctx, http.MethodPost, c.endpoint(nil, "_status"), in, &resp); err != nil {
			return nil, err
		}
		for _, id := range chunk {
			e, ok := resp[id]
			switch {
			case !ok:
				return nil, fmt.Errorf("attachment client: status: the server's answer has no entry for %q", id)
			case e.Error != "":
				kind := Sentinel(e.Error)
				if kind == nil {
					kind = errors.New(e.Error)
				}
				out[id] = StatusResult{Err: fmt.Errorf("attachment client: status of %s: %s: %w", id, e.Error, kind)}
			default:
				st := e.Status
				out[id] = StatusResult{Status: &st}
			}
		}
	}
	return out, nil
}

// WaitOptions tunes WaitStatus.
type WaitOptions struct {
	// PollInterval is the pause between two status requests while
	// processing goes on. Zero means 500ms.
	PollInterval time.Duration
	// ServerWait is how long the server may hold each status request open
	// waiting for processing to finish (?wait=, which answers as soon as
	// it has; the server cuts it to 30s). Zero means 10s; a negative
	// value asks for the status as it is, polling only. The HTTP client's
	// timeout must allow for it.
	ServerWait time.Duration
}

// WaitStatus waits until every processor of the attachment has finished
// (completed, failed or canceled; wire.Status.Done) and returns the
// status. It polls, each request long-polling the server (see
// WaitOptions), until then or until ctx is done; then it returns the last
// status it had (nil if none) and ctx's error. A nil opts means defaults.
func (c *Client) WaitStatus(ctx context.Context, id string, opts *WaitOptions) (*wire.Status, error) {
	var o WaitOptions
	if opts != nil {
		o = *opts
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 500 * time.Millisecond
	}
	switch {
	case o.ServerWait == 0:
		o.ServerWait = 10 * time.Second
	case o.ServerWait < 0:
		o.ServerWait = 0
	}
	var last *wire.Status
	for {
		st, err := c.status(ctx, id, o.ServerWait)
		if err != nil {
			if ctx.Err() != nil {
				return last, ctx.Err()
			}
			return nil, err
		}
		if st.Done() {
			return st, nil
		}
		last = st
		t := time.NewTimer(o.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return last, ctx.Err()
		case <-t.C:
		}
	}
}
