package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Options configures a Client. The zero value, or a nil *Options, means
// http.DefaultClient and no credentials.
type Options struct {
	// HTTPClient sends the requests. Nil means http.DefaultClient.
	HTTPClient *http.Client
	// Token, when set, is sent on every request as
	// "Authorization: Bearer TOKEN", as examples/server's -token expects.
	Token string
	// Header is added to every request (an API key header, a cookie).
	Header http.Header
	// RequestEditor, when set, is called on every request just before it
	// is sent, after Token and Header are applied: the place to sign
	// requests or add per-request credentials. An error aborts the call
	// and is returned as is.
	RequestEditor func(*http.Request) error
	// UserAgent, when set, is the User-Agent of every request.
	UserAgent string
}

// Client calls the attachment HTTP API of one server. It is safe for
// concurrent use.
type Client struct {
	base *url.URL // the mount point, its path without a trailing slash
	hc   *http.Client
	opts Options
}

// New returns a Client for the API mounted at baseURL, an absolute http or
// https URL that includes the mount prefix, such as
// "http://localhost:8080/files", without user info (send credentials
// with Options instead). A nil opts means defaults.
func New(baseURL string, opts *Options) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("client: base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q: want an absolute http or https URL", baseURL)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("client: base URL %q: want no query, fragment or user info", baseURL)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	c := &Client{base: u, hc: http.DefaultClient}
	if opts != nil {
		c.opts = *opts
		c.opts.Header = opts.Header.Clone()
		if opts.HTTPClient != nil {
			c.hc = opts.HTTPClient
		}
	}
	return c, nil
}

// BaseURL returns the mount point the Client calls, without a trailing
// slash.
func (c *Client) BaseURL() string { return c.base.String() }

// ResolveURL resolves a URL the API returned (such as Attachment.URL,
// Attachment.ThumbnailURL or a signed URL, which are path-absolute)
// against the server's address, giving an absolute URL.
func (c *Client) ResolveURL(ref string) (string, error) {
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("client: resolve %q: %w", ref, err)
	}
	return c.base.ResolveReference(r).String(), nil
}

// endpoint returns the absolute URL of a path below the mount point. Each
// element of segs is one path segment, escaped here; query may be nil.
func (c *Client) endpoint(query url.Values, segs ...string) string {
	u := *c.base
	var b strings.Builder
	b.WriteString(u.EscapedPath())
	b.WriteByte('/')
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(url.PathEscape(s))
	}
	u.Path = ""
	u.RawPath = ""
	u.Opaque = ""
	s := u.String() + b.String()
	if len(query) > 0 {
		s += "?" + query.Encode()
	}
	return s
}

// newRequest builds a request with the client's credentials applied.
func (c *Client) newRequest(ctx context.Context, method, target string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", method, target, err)
	}
	for k, vs := range c.opts.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if c.opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.opts.Token)
	}
	if c.opts.UserAgent != "" {
		req.Header.Set("User-Agent", c.opts.UserAgent)
	}
	return req, nil
}

// send sends req (calling the RequestEditor first) and returns the
// response when its status is one of ok; any other status is returned as
// an *Error, the response body read and closed.
func (c *Client) send(req *http.Request, ok ...int) (*http.Response, error) {
	if c.opts.RequestEditor != nil {
		if err := c.opts.RequestEditor(req); err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, err
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	for _, s := range ok {
		if resp.StatusCode == s {
			return resp, nil
		}
	}
	defer drainClose(resp.Body)
	return nil, errorFrom(req, resp)
}

// doJSON sends a request with an optional JSON body and decodes a 200
// answer's JSON body into out (when out is not nil).
func (c *Client) doJSON(ctx context.Context, method, target string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("client: %s %s: %w", method, target, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := c.newRequest(ctx, method, target, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.send(req, http.StatusOK)
	if err != nil {
		return err
	}
	defer drainClose(resp.Body)
	return decodeBody(req, resp, out)
}

// decodeBody decodes the JSON body of a successful answer into out.
func decodeBody(req *http.Request, resp *http.Response, out any) error {
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("client: %s %s: decoding the %d answer: %w", req.Method, req.URL.Redacted(), resp.StatusCode, err)
	}
	return nil
}

// drainClose reads a little of what is left of body, so the connection
// can be reused, and closes it.
func drainClose(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, 64<<10)
	_ = body.Close()
}
