package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CreateOptions are the options of a create.
type CreateOptions struct {
	// IdempotencyKey names the payout: a create repeated with the same key and body gets the same payout, never a
	// second one. Use your own (an order id) to be safe across your process's restarts; when empty, one is
	// generated and kept across the create's retries (Payout.Response.IdempotencyKey tells it).
	IdempotencyKey string
}

// NewIdempotencyKey returns a random idempotency key ("pf-" and 32 hex digits).
func NewIdempotencyKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail
	return "pf-" + hex.EncodeToString(b)
}

// Create creates a payout: 201 when new, 200 with the existing payout when the key was used before for the same
// body (Payout.Response.StatusCode tells which), 409 idempotency_key_reused for another body. It is retried, with
// the same key, after a failure that may pass.
func (c *Client) Create(ctx context.Context, req CreateRequest, opts *CreateOptions) (*Payout, error) {
	key := ""
	if opts != nil {
		key = opts.IdempotencyKey
	}
	if key == "" {
		key = NewIdempotencyKey()
	}
	var p Payout
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/payouts", body: req,
		header: http.Header{"Idempotency-Key": {key}}, retry: retrySafe}, &p)
	if resp != nil {
		resp.IdempotencyKey = key
	}
	if err != nil {
		return nil, err
	}
	p.Response = resp
	return &p, nil
}

// Get reads a payout. An unknown id is an *Error with ErrNotFound.
func (c *Client) Get(ctx context.Context, id string) (*Payout, error) {
	var p Payout
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/payouts/" + url.PathEscape(id), retry: retrySafe}, &p)
	if err != nil {
		return nil, err
	}
	p.Response = resp
	return &p, nil
}

// ListParams filter and page a list of payouts; zero values do not filter.
type ListParams struct {
	Status   Status
	Provider string
	Method   string
	Currency string
	// AwaitingApproval and NeedsAttention filter by the flag when set.
	AwaitingApproval *bool
	NeedsAttention   *bool
	// Contradiction lists only the payouts whose provider contradicted how they ended.
	Contradiction bool
	// CreatedAfter and CreatedBefore bound when the payouts were created (at or after, before), when not zero.
	CreatedAfter, CreatedBefore time.Time
	// Limit is the page size, 1 to 100; the API's default (20) when zero.
	Limit int
	// PageToken asks for the page after the one that gave it.
	PageToken string
}

func (p ListParams) query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("status", string(p.Status))
	set("provider", p.Provider)
	set("method", p.Method)
	set("currency", p.Currency)
	if p.AwaitingApproval != nil {
		q.Set("awaiting_approval", strconv.FormatBool(*p.AwaitingApproval))
	}
	if p.NeedsAttention != nil {
		q.Set("needs_attention", strconv.FormatBool(*p.NeedsAttention))
	}
	if p.Contradiction {
		q.Set("contradiction", "true")
	}
	if !p.CreatedAfter.IsZero() {
		q.Set("created_after", p.CreatedAfter.Format(time.RFC3339Nano))
	}
	if !p.CreatedBefore.IsZero() {
		q.Set("created_before", p.CreatedBefore.Format(time.RFC3339Nano))
	}
	if p.Limit != 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	set("page_token", p.PageToken)
	return q
}

// ListPage reads one page of payouts.
func (c *Client) ListPage(ctx context.Context, params ListParams) (*Page, error) {
	var p Page
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/payouts", query: params.query(), retry: retrySafe}, &p)
	if err != nil {
		return nil, err
	}
	p.Response = resp
	return &p, nil
}

// Pages iterates over the pages of payouts from params.PageToken on; it stops after the last page or at the
// first error, which it yields.
func (c *Client) Pages(ctx context.Context, params ListParams) iter.Seq2[*Page, error] {
	return func(yield func(*Page, error) bool) {
		for {
			p, err := c.ListPage(ctx, params)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(p, nil) || p.NextPageToken == "" {
				return
			}
			params.PageToken = p.NextPageToken
		}
	}
}

// List iterates over every payout params select, page after page; it stops at the first error, which it yields.
func (c *Client) List(ctx context.Context, params ListParams) iter.Seq2[Summary, error] {
	return func(yield func(Summary, error) bool) {
		for p, err := range c.Pages(ctx, params) {
			if err != nil {
				yield(Summary{}, err)
				return
			}
			for _, s := range p.Payouts {
				if !yield(s, nil) {
					return
				}
			}
		}
	}
}

// Confirm approves a payout that awaits approval, as the API key's person, with an optional reason. It is not
// repeated once it may have reached the API: after a failure without an answer, Get tells whether it was taken.
func (c *Client) Confirm(ctx context.Context, id, reason string) (*Decision, error) {
	return c.decide(ctx, id, "confirm", reason)
}

// Cancel cancels a payout before it is confirmed, or while it needs attention, with an optional reason. Like
// Confirm, it is not repeated once it may have reached the API.
func (c *Client) Cancel(ctx context.Context, id, reason string) (*Decision, error) {
	return c.decide(ctx, id, "cancel", reason)
}

func (c *Client) decide(ctx context.Context, id, verb, reason string) (*Decision, error) {
	var body any
	if reason != "" {
		body = struct {
			Reason string `json:"reason"`
		}{reason}
	}
	return c.post(ctx, id, verb, body)
}

// Resolve sends an operator's resolution of a payout that needs attention. Like Confirm, it is not repeated once
// it may have reached the API.
func (c *Client) Resolve(ctx context.Context, id string, r Resolution) (*Decision, error) {
	return c.post(ctx, id, "resolve", r)
}

func (c *Client) post(ctx context.Context, id, verb string, body any) (*Decision, error) {
	var d Decision
	resp, err := c.do(ctx, request{method: http.MethodPost, path: "/v1/payouts/" + url.PathEscape(id) + "/" + verb,
		body: body, retry: retryUnsent}, &d)
	if err != nil {
		return nil, err
	}
	d.Response = resp
	return &d, nil
}

// Balances reads the balance of the account provider pays from; channel names one of its accounts, or "" for its
// default.
func (c *Client) Balances(ctx context.Context, provider, channel string) (*Balance, error) {
	q := url.Values{"provider": {provider}}
	if channel != "" {
		q.Set("channel", channel)
	}
	var b Balance
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/balances", query: q, retry: retrySafe}, &b)
	if err != nil {
		return nil, err
	}
	b.Response = resp
	return &b, nil
}

// SBPBanks lists the banks provider pays to by SBP, those whose name contains name (any case) when it is not "".
func (c *Client) SBPBanks(ctx context.Context, provider, name string) (*BankList, error) {
	q := url.Values{"provider": {provider}}
	if name != "" {
		q.Set("name", name)
	}
	var l BankList
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/sbp/banks", query: q, retry: retrySafe}, &l)
	if err != nil {
		return nil, err
	}
	l.Response = resp
	return &l, nil
}

// ErrEnded is returned by Wait, with the payout, when the payout ended in a status it was not waiting for.
var ErrEnded = errors.New("payoutflow: the payout ended in another status")

// Wait reads the payout until its status is one of until (any final status when until is empty) and returns it.
// It asks the API to answer when that happens (a long poll: GET ?wait=&until=, 20 s at a time), so it learns at
// once and reads rarely; from an API without long polls it polls with back-off (WithPolling). A payout that ends in
// another status is returned with ErrEnded. When ctx ends first, the payout last read is returned with ctx's error.
func (c *Client) Wait(ctx context.Context, id string, until ...Status) (*Payout, error) {
	pause := c.pollMin
	var last *Payout
	for {
		p, err := c.getWaiting(ctx, id, until)
		longPolled := false
		switch {
		case err == nil:
			last = p
			if len(until) == 0 && p.Status.Final() || slices.Contains(until, p.Status) {
				return p, nil
			}
			if p.Status.Final() {
				return p, fmt.Errorf("%w: payout %s is %s, awaited %v", ErrEnded, id, p.Status, until)
			}
			longPolled = p.Response.Header.Get("Payout-Wait-Met") == "false"
		case ctx.Err() == nil:
			return last, err
		}
		if longPolled && ctx.Err() == nil {
			continue // the API waited: ask it to wait again
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			status := Status("")
			if last != nil {
				status = last.Status
			}
			return last, fmt.Errorf("payoutflow: wait for payout %s (last seen %q): %w", id, status, ctx.Err())
		case <-t.C:
		}
		pause = min(max(pause*3/2, pause+minPoll/2), c.pollMax)
	}
}

// longPoll is the longest Wait asks the API to wait in one GET.
const longPoll = 20 * time.Second

// getWaiting reads the payout, asking the API to answer when its status is one of until or final, or after a
// while: longPoll, shorter when ctx or the HTTP client's timeout end sooner.
func (c *Client) getWaiting(ctx context.Context, id string, until []Status) (*Payout, error) {
	wait := longPoll
	if d, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(d)-time.Second)
	}
	if c.http.Timeout > 0 {
		wait = min(wait, c.http.Timeout-5*time.Second)
	}
	if wait < 100*time.Millisecond {
		return c.Get(ctx, id)
	}
	q := url.Values{"wait": {wait.Round(time.Millisecond).String()}}
	if len(until) > 0 {
		names := make([]string, len(until))
		for i, s := range until {
			names[i] = string(s)
		}
		q.Set("until", strings.Join(names, ","))
	}
	var p Payout
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/v1/payouts/" + url.PathEscape(id), query: q, retry: retrySafe}, &p)
	if err != nil {
		return nil, err
	}
	p.Response = resp
	return &p, nil
}
