package driver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// CardPayout is the body of every payout the benchmark creates: Bank 131, to a card that succeeds.
const CardPayout = `{"provider":"bank131","amount":{"value":10000,"currency":"RUB"},` +
	`"destination":{"type":"card","card":{"number":"4242424242424242"}},` +
	`"recipient":{"full_name":"Ivanov Ivan"},"description":"Payout for order 123"}`

// Payoutflow runs payouts end to end through payoutflow's REST API, as a backend does: create, wait for
// awaiting_approval, confirm, wait for succeeded.
type Payoutflow struct {
	URL, Key string
	HTTP     *http.Client
	// LongPoll waits with GET /v1/payouts/{id}?wait=30s&until=…; otherwise a GET every PollEvery.
	LongPoll  bool
	PollEvery time.Duration
	Temporal  client.Client // reads histories
	Logf      func(format string, args ...any)
}

// note counts an error the payout got past, and logs the first of its kind.
func (p *Payoutflow) note(rec *Recorder, f *Failure) {
	if rec.Error(f.Kind) == 1 && p.Logf != nil {
		p.Logf("payoutflow: first %q: %v", f.Kind, f)
	}
}

// NewHTTPClient is a keep-alive client for n requests at once over loopback.
func NewHTTPClient(n int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = n+10, n+10
	return &http.Client{Transport: t, Timeout: 2 * time.Minute}
}

func (p *Payoutflow) Name() string { return "payoutflow" }

// Payout runs one payout.
func (p *Payoutflow) Payout(ctx context.Context, key string, rec *Recorder) (string, error) {
	var created struct {
		ID string `json:"id"`
	}
	status, err := p.call(ctx, http.MethodPost, "/v1/payouts", key, CardPayout, &created)
	if err != nil {
		return "", failure("create", status, err)
	}
	if status != http.StatusCreated && status != http.StatusOK {
		return "", failure("create", status, nil)
	}
	if err := p.await(ctx, created.ID, "awaiting_approval", rec); err != nil {
		return created.ID, err
	}
	for {
		status, err := p.call(ctx, http.MethodPost, "/v1/payouts/"+created.ID+"/confirm", "", `{"reason":"bench"}`, nil)
		if err == nil && status < 300 {
			break
		}
		if err == nil && status < 500 {
			return created.ID, failure("confirm", status, nil)
		}
		p.note(rec, failure("confirm (retried)", status, err)) // a decision is safe to send again
		if sleep(ctx, p.PollEvery) != nil {
			return created.ID, failure("confirm", status, err)
		}
	}
	return created.ID, p.await(ctx, created.ID, "succeeded", rec)
}

// await reads the payout until its status is want; a payout that ends otherwise is a failure.
func (p *Payoutflow) await(ctx context.Context, id, want string, rec *Recorder) error {
	path := "/v1/payouts/" + id
	if p.LongPoll {
		path += "?" + url.Values{"wait": {"30s"}, "until": {want}}.Encode()
	}
	for {
		var st struct {
			Status string `json:"status"`
		}
		status, err := p.call(ctx, http.MethodGet, path, "", "", &st)
		switch {
		case err == nil && status == http.StatusOK && st.Status == want:
			return nil
		case err == nil && status == http.StatusOK && final(st.Status):
			return &Failure{Kind: "ended " + st.Status + " (waiting for " + want + ")"}
		case ctx.Err() != nil:
			return failure("GET", status, ctx.Err())
		case err != nil || status != http.StatusOK:
			p.note(rec, failure("GET", status, err))
		}
		if !p.LongPoll || err != nil || status != http.StatusOK {
			if err := sleep(ctx, p.PollEvery); err != nil {
				return failure("GET", status, err)
			}
		}
	}
}

func final(status string) bool {
	return status == "succeeded" || status == "failed" || status == "cancelled"
}

// call sends one request; status is 0 when none came back.
func (p *Payoutflow) call(ctx context.Context, method, path, key, body string, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, p.URL+path, bytes.NewReader([]byte(body)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+p.Key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := p.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode < 300 && out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// failure is a failed call, counted by its HTTP status or, without one, as a connection error.
func failure(what string, status int, err error) *Failure {
	if status == 0 {
		return &Failure{Kind: what + ": no answer", Err: err}
	}
	return &Failure{Kind: fmt.Sprintf("%s: HTTP %d", what, status), Err: err}
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// Events counts a payout's history.
func (p *Payoutflow) Events(ctx context.Context, id string) (int, error) {
	return historyLength(ctx, p.Temporal, id)
}

func historyLength(ctx context.Context, c client.Client, id string) (int, error) {
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for it.HasNext() {
		if _, err := it.Next(); err != nil {
			return 0, fmt.Errorf("history of %s: %w", id, err)
		}
		n++
	}
	return n, nil
}

// ProbeLongPoll tells whether the API holds GET /v1/payouts/{id}?wait=…&until=… until the status comes: it creates
// a payout and asks for succeeded, which it cannot reach unconfirmed. A server without long-poll answers at once.
// The payout is then confirmed and run to its end with the mode found, as the first check that all parts work.
func (p *Payoutflow) ProbeLongPoll(ctx context.Context, key string) (bool, error) {
	var created struct {
		ID string `json:"id"`
	}
	status, err := p.call(ctx, http.MethodPost, "/v1/payouts", key, CardPayout, &created)
	if err != nil || status >= 300 {
		return false, fmt.Errorf("create a first payout: %w", failure("create", status, err))
	}
	var st struct {
		Status string `json:"status"`
	}
	began := time.Now()
	status, err = p.call(ctx, http.MethodGet, "/v1/payouts/"+created.ID+"?wait=2s&until=succeeded", "", "", &st)
	held := time.Since(began)
	if err != nil {
		return false, fmt.Errorf("read the first payout: %w", err)
	}
	p.LongPoll = status == http.StatusOK && held >= time.Second && !final(st.Status)
	if err := p.await(ctx, created.ID, "awaiting_approval", &Recorder{}); err != nil {
		return p.LongPoll, fmt.Errorf("the first payout: %w", err)
	}
	if status, err := p.call(ctx, http.MethodPost, "/v1/payouts/"+created.ID+"/confirm", "", `{"reason":"bench"}`, nil); err != nil || status >= 300 {
		return p.LongPoll, fmt.Errorf("confirm the first payout: %w", failure("confirm", status, err))
	}
	if err := p.await(ctx, created.ID, "succeeded", &Recorder{}); err != nil {
		return p.LongPoll, fmt.Errorf("the first payout: %w", err)
	}
	return p.LongPoll, nil
}
