package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Version is this package's version, sent in the default User-Agent.
const Version = "0.1.0"

// Client calls payoutflow's REST API with one API key. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	key       string
	http      *http.Client
	userAgent string
	retry     RetryPolicy
	// pollMin and pollMax bound Wait's pauses between reads.
	pollMin, pollMax time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests with hc (its transport, timeout, TLS settings). The default is
// an http.Client with a 30 s timeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithRetry sets how requests that are safe to repeat are retried.
func WithRetry(p RetryPolicy) Option { return func(c *Client) { c.retry = p } }

// minPoll is the shortest pause Wait takes between reads.
const minPoll = 10 * time.Millisecond

// WithPolling sets how often Wait reads a payout: after first, then half as long again each time up to most. The
// default is 200 ms up to 5 s; a first pause under 10 ms is taken as 10 ms.
func WithPolling(first, most time.Duration) Option {
	return func(c *Client) { c.pollMin, c.pollMax = first, max(first, most) }
}

// New returns a client of the API at baseURL (such as "https://payouts.example.com") that authenticates with apiKey.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("client: base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q must be http(s)://host[:port]", baseURL)
	}
	if apiKey == "" {
		return nil, errors.New("client: an API key is required")
	}
	c := &Client{base: u, key: apiKey, userAgent: "payoutflow-go/" + Version, retry: DefaultRetryPolicy,
		pollMin: 200 * time.Millisecond, pollMax: 5 * time.Second}
	for _, o := range opts {
		o(c)
	}
	c.pollMin = max(c.pollMin, minPoll)
	c.pollMax = max(c.pollMax, c.pollMin)
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	return c, nil
}

// Response is what the API answered besides the body: status, headers and request id.
type Response struct {
	StatusCode int
	Header     http.Header
	// RequestID is the X-Request-Id of the answer, "" when the API sent none.
	RequestID string
	// Attempts is how many times the client sent the request (net/http may itself resend a replayable request whose
	// reused connection broke).
	Attempts int
	// IdempotencyKey is the key a create was sent with (the one given, or the one generated).
	IdempotencyKey string
}

// request is one call to the API.
type request struct {
	method string
	path   string
	query  url.Values
	header http.Header
	body   any
	// retry is how the request may be repeated.
	retry retryKind
}

// do sends r, retrying as r.retry and the policy allow, and decodes a 2xx answer's body into out (when not nil).
func (c *Client) do(ctx context.Context, r request, out any) (*Response, error) {
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return nil, fmt.Errorf("client: encode %s %s: %w", r.method, r.path, err)
		}
	}
	u := *c.base
	u.Path = c.base.Path + r.path
	u.RawQuery = r.query.Encode()
	for attempt := 1; ; attempt++ {
		resp, err := c.send(ctx, r, u.String(), body)
		if err == nil {
			resp.Attempts = attempt
			if resp.StatusCode >= 200 && resp.StatusCode < 300 {
				if out != nil {
					if err := json.Unmarshal(resp.body, out); err != nil {
						return &resp.Response, fmt.Errorf("client: decode the answer to %s %s: %w", r.method, r.path, err)
					}
				}
				return &resp.Response, nil
			}
			err = newError(r.method, r.path, resp)
		}
		wait, ok := c.retry.next(ctx, r.retry, attempt, err)
		if !ok {
			if resp != nil {
				return &resp.Response, err
			}
			return nil, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("client: %s %s: %w (after %d attempts; last: %v)", r.method, r.path, ctx.Err(), attempt, err)
		case <-t.C:
		}
	}
}

// answer is a response read in full.
type answer struct {
	Response
	body []byte
}

// send sends r once and reads the whole answer.
func (c *Client) send(ctx context.Context, r request, u string, body []byte) (*answer, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", r.method, r.path, err)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &transportError{method: r.method, path: r.path, err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, &transportError{method: r.method, path: r.path, err: err, afterAnswer: true}
	}
	return &answer{Response: Response{StatusCode: resp.StatusCode, Header: resp.Header,
		RequestID: resp.Header.Get("X-Request-Id")}, body: b}, nil
}
