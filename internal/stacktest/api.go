package stacktest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	pfclient "github.com/payoutflow/payoutflow/client"
)

// WriteAPIKeys writes an API keys file (README, "API keys") for names, the first of them the backend (every
// scope), the others operators who read and approve, and returns each name's secret.
func WriteAPIKeys(path, backend string, operators ...string) (map[string]string, error) {
	type key struct {
		Name   string   `json:"name"`
		SHA256 string   `json:"sha256"`
		Scopes []string `json:"scopes"`
	}
	secrets := map[string]string{}
	var keys []key
	for i, name := range append([]string{backend}, operators...) {
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return nil, err
		}
		secret := "pf_" + base64.RawURLEncoding.EncodeToString(raw)
		sum := sha256.Sum256([]byte(secret))
		scopes := []string{"read", "approve"}
		if i == 0 {
			scopes = []string{"create", "read", "approve"}
		}
		keys = append(keys, key{Name: name, SHA256: hex.EncodeToString(sum[:]), Scopes: scopes})
		secrets[name] = secret
	}
	b, err := json.MarshalIndent(map[string]any{"keys": keys}, "", "  ")
	if err != nil {
		return nil, err
	}
	return secrets, os.WriteFile(path, b, 0o600)
}

// API calls payoutflow's REST API as its callers, by the names of their keys.
type API struct {
	URL  string
	Keys map[string]string
	HTTP *http.Client
}

// Client is a client of the API with caller's key, sending through a.HTTP when it is set, that repeats what it may
// repeat until the call's context ends (the API or a worker may be restarting). An unknown caller is a test's
// mistake: it panics.
func (a *API) Client(caller string, opts ...pfclient.Option) *pfclient.Client {
	opts = append([]pfclient.Option{pfclient.WithRetry(UntilDone)}, opts...)
	if a.HTTP != nil {
		opts = append([]pfclient.Option{pfclient.WithHTTPClient(a.HTTP)}, opts...)
	}
	c, err := pfclient.New(a.URL, a.Keys[caller], opts...)
	if err != nil {
		panic(fmt.Sprintf("stacktest: client for %q: %v", caller, err))
	}
	return c
}

// UntilDone is the tests' retry policy: a call is repeated, where the client may repeat it, until its context ends.
var UntilDone = pfclient.RetryPolicy{MaxAttempts: -1, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}

// Call sends one raw request as caller (for what the client does not send: a release's API of other ways, a
// malformed request), again after a connection error or a 5xx (the API or a worker may be
// restarting; every call of the tests is safe to repeat), until ctx ends.
func (a *API) Call(ctx context.Context, caller, method, path string, headers map[string]string, body string) (int, []byte, error) {
	status, b, _, err := a.CallH(ctx, caller, method, path, headers, body)
	return status, b, err
}

// CallH is Call, returning the answer's headers too.
func (a *API) CallH(ctx context.Context, caller, method, path string, headers map[string]string, body string) (int, []byte, http.Header, error) {
	hc := a.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	var last string
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, a.URL+path, strings.NewReader(body))
		if err != nil {
			return 0, nil, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+a.Keys[caller])
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := hc.Do(req)
		if err == nil {
			b, readErr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if readErr == nil && resp.StatusCode < 500 {
				return resp.StatusCode, b, resp.Header, nil
			}
			last = fmt.Sprintf("%s: %s", resp.Status, bytes.TrimSpace(b))
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return 0, nil, nil, fmt.Errorf("%s %s: %w (last answer: %s)", method, path, ctx.Err(), last)
		case <-time.After(min(time.Duration(attempt+1)*100*time.Millisecond, time.Second)):
		}
	}
}

// Create creates a payout as caller under the idempotency key from a JSON body (read strictly as the client's
// request), through the client, and returns it as the API answered.
func (a *API) Create(ctx context.Context, caller, key, body string) (Payout, error) {
	var req pfclient.CreateRequest
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return Payout{}, fmt.Errorf("create %s: the body is not a client request: %w", key, err)
	}
	p, err := a.Client(caller).Create(ctx, req, &pfclient.CreateOptions{IdempotencyKey: key})
	if err != nil {
		return Payout{}, fmt.Errorf("create %s: %w", key, err)
	}
	return Payout{*p}, nil
}

// Get reads a payout as caller, through the client.
func (a *API) Get(ctx context.Context, caller, id string) (Payout, error) {
	p, err := a.Client(caller).Get(ctx, id)
	if err != nil {
		return Payout{}, err
	}
	return Payout{*p}, nil
}

// Payout is a payout as the client reads it, with what a test's failure message shows of it.
type Payout struct{ pfclient.Payout }

// Final reports whether the payout has ended.
func (p Payout) Final() bool { return p.Status.Final() }

// String is the payout as a failure message shows it: status, reason, and its timeline.
func (p Payout) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "payout %s (%s) is %s", p.ID, p.Provider, p.Status)
	if p.Attention != "" {
		fmt.Fprintf(&b, " (attention: %s)", p.Attention)
	}
	if p.Failure != nil {
		fmt.Fprintf(&b, " (failure: %s %s)", p.Failure.Code, p.Failure.Description)
	}
	b.WriteString("; timeline:")
	for _, e := range p.Timeline {
		fmt.Fprintf(&b, "\n    %s  %-17s %s", e.At.UTC().Format("15:04:05.000"), e.Status, e.Note)
	}
	return b.String()
}

// Ledgers counts each payout's entries across the sandboxes' ledgers (money that moved), by payout id: Bank 131
// keeps it as the metadata, bePaid as the tracking_id, Mandarin as the order_id. sandbox maps a provider to its
// sandbox's base URL.
func Ledgers(sandbox map[string]string) (map[string]int, error) {
	paid := map[string]int{}
	for provider, field := range map[string]string{"bank131": "metadata", "bepaid": "tracking_id", "mandarin": "order_id"} {
		var entries []map[string]any
		if err := GetJSON(sandbox[provider]+"/_sandbox/ledger", &entries); err != nil {
			return nil, fmt.Errorf("%s ledger: %w", provider, err)
		}
		for _, e := range entries {
			if id, ok := e[field].(string); ok {
				paid[id]++
			}
		}
	}
	return paid, nil
}

// GetJSON decodes the answer of a GET of url, which must be 200.
func GetJSON(url string, v any) error {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// HistoryReport is what the histories of one payout's workflow runs say about the workers that ran it.
type HistoryReport struct {
	Runs int
	// Failed describes each WorkflowTaskFailed event (a non-deterministic replay among them); TimedOut counts
	// workflow tasks that timed out (a worker stopped while it held one).
	Failed   []string
	TimedOut int
	// Workers are the identities that started its workflow tasks.
	Workers map[string]bool
	// Pending describes a workflow task retried after failures (failed again on every attempt: stuck).
	Pending string
}

// RanOn reports whether a worker process took one of the payout's workflow tasks (its identity is "pid@host@").
func (h HistoryReport) RanOn(pid int) bool {
	for id := range h.Workers {
		if strings.HasPrefix(id, fmt.Sprintf("%d@", pid)) {
			return true
		}
	}
	return false
}

// Histories reads every run of the payout's workflow in namespace (histories are encrypted; event types, worker
// identities and workflow task failure causes are not).
func Histories(c client.Client, namespace, id string) (HistoryReport, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep := HistoryReport{Workers: map[string]bool{}}
	runs := []string{""} // the latest run, if visibility cannot list them
	if list, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: namespace, Query: fmt.Sprintf("WorkflowId = '%s'", id),
	}); err == nil && len(list.GetExecutions()) > 0 {
		runs = runs[:0]
		for _, e := range list.GetExecutions() {
			runs = append(runs, e.GetExecution().GetRunId())
		}
	}
	for _, run := range runs {
		rep.Runs++
		it := c.GetWorkflowHistory(ctx, id, run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return rep, fmt.Errorf("history of %s run %q: %w", id, run, err)
			}
			switch ev.GetEventType() {
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
				rep.Workers[ev.GetWorkflowTaskStartedEventAttributes().GetIdentity()] = true
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED:
				a := ev.GetWorkflowTaskFailedEventAttributes()
				rep.Failed = append(rep.Failed, fmt.Sprintf("run %s event %d: WorkflowTaskFailed, cause %s, by %s: %s",
					run, ev.GetEventId(), a.GetCause(), a.GetIdentity(), a.GetFailure().GetMessage()))
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
				rep.TimedOut++
			}
		}
		desc, err := c.DescribeWorkflowExecution(ctx, id, run)
		if err != nil {
			return rep, fmt.Errorf("describe %s run %q: %w", id, run, err)
		}
		if pt := desc.GetPendingWorkflowTask(); pt != nil && pt.GetAttempt() > 1 {
			rep.Pending = fmt.Sprintf("run %s: a workflow task is on attempt %d (it fails on every attempt)", run, pt.GetAttempt())
		}
	}
	return rep, nil
}

// Polling reports whether the worker process pid polls taskQueue's workflow tasks (its identity is "pid@host@").
func Polling(c client.Client, taskQueue string, pid int) bool {
	if c == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	resp, err := c.DescribeTaskQueue(ctx, taskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return false
	}
	for _, p := range resp.GetPollers() {
		if strings.HasPrefix(p.GetIdentity(), fmt.Sprintf("%d@", pid)) {
			return true
		}
	}
	return false
}
