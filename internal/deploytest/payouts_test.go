package deploytest

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
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// payoutState is what the test reads of GET /v1/payouts/{id}.
type payoutState struct {
	ID        string            `json:"id"`
	Status    string            `json:"status"`
	Attention string            `json:"attention"`
	Refs      map[string]string `json:"provider_refs"`
	Failure   *struct {
		Code        string `json:"code"`
		Description string `json:"description"`
	} `json:"failure"`
	PayerAction *struct {
		RedirectURL string `json:"redirect_url"`
	} `json:"payer_action"`
	NameCheck *struct {
		BankName string `json:"bank_name"`
		Matches  bool   `json:"matches"`
	} `json:"name_check"`
	ApprovalsRequired int               `json:"approvals_required"`
	Approvals         []json.RawMessage `json:"approvals"`
	Timeline          []struct {
		At     time.Time `json:"at"`
		Status string    `json:"status"`
		Note   string    `json:"note"`
	} `json:"timeline"`
}

func (s payoutState) final() bool {
	return s.Status == "succeeded" || s.Status == "failed" || s.Status == "cancelled"
}

// String is the payout as a failure message shows it: status, reason, and its timeline.
func (s payoutState) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "payout %s is %s", s.ID, s.Status)
	if s.Attention != "" {
		fmt.Fprintf(&b, " (attention: %s)", s.Attention)
	}
	if s.Failure != nil {
		fmt.Fprintf(&b, " (failure: %s %s)", s.Failure.Code, s.Failure.Description)
	}
	b.WriteString("; timeline:")
	for _, e := range s.Timeline {
		fmt.Fprintf(&b, "\n    %s  %-17s %s", e.At.UTC().Format("15:04:05.000"), e.Status, e.Note)
	}
	return b.String()
}

// apiKeys are the API's callers: the backend that creates payouts, and two people who approve them.
type apiKeys map[string]string // name → secret

// writeAPIKeys writes an API keys file for names (the backend gets every scope, the others read and approve) and
// returns the secrets.
func writeAPIKeys(t *testing.T, path string, backend string, approvers ...string) apiKeys {
	t.Helper()
	type key struct {
		Name   string   `json:"name"`
		SHA256 string   `json:"sha256"`
		Scopes []string `json:"scopes"`
	}
	secrets := apiKeys{}
	var keys []key
	for i, name := range append([]string{backend}, approvers...) {
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			t.Fatal(err)
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
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return secrets
}

// api is the backend and the operators, calling the REST API.
type api struct {
	t    *testing.T
	url  string
	keys apiKeys
	http *http.Client
}

// call sends one request as caller, again after a connection error or a 5xx (the API answers 5xx for a payout
// of the old release while no worker can answer its query), until ctx ends.
func (a *api) call(ctx context.Context, caller, method, path string, headers map[string]string, body string) (int, []byte, error) {
	status, b, _, err := a.callH(ctx, caller, method, path, headers, body)
	return status, b, err
}

// callH is call, returning the answer's headers too.
func (a *api) callH(ctx context.Context, caller, method, path string, headers map[string]string, body string) (int, []byte, http.Header, error) {
	var last string
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, a.url+path, strings.NewReader(body))
		if err != nil {
			return 0, nil, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+a.keys[caller])
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := a.http.Do(req)
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

// create creates a payout as caller and returns its id.
func (a *api) create(caller, name, body string) string {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	status, b, err := a.call(ctx, caller, http.MethodPost, "/v1/payouts", map[string]string{"Idempotency-Key": "deploytest-" + name}, body)
	if err != nil || (status != http.StatusCreated && status != http.StatusOK) {
		a.t.Fatalf("create %s: %d %v %s", name, status, err, b)
	}
	var st payoutState
	if err := json.Unmarshal(b, &st); err != nil || st.ID == "" {
		a.t.Fatalf("create %s: %v %s", name, err, b)
	}
	return st.ID
}

// get reads a payout, retrying for up to timeout.
func (a *api) get(id string, timeout time.Duration) (payoutState, error) {
	st, _, err := a.read(id, timeout)
	return st, err
}

// read reads a payout, retrying for up to timeout, and says where the API read it from: "live" (its workflow
// answered, so a worker replayed it) or "published" (its memo, when no worker answered in time).
func (a *api) read(id string, timeout time.Duration) (payoutState, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	status, b, h, err := a.callH(ctx, "backend", http.MethodGet, "/v1/payouts/"+id, nil, "")
	if err != nil {
		return payoutState{}, "", err
	}
	if status != http.StatusOK {
		return payoutState{}, "", fmt.Errorf("GET /v1/payouts/%s: %d %s", id, status, b)
	}
	var st payoutState
	if err := json.Unmarshal(b, &st); err != nil {
		return st, "", fmt.Errorf("GET /v1/payouts/%s: %w: %s", id, err, b)
	}
	source := h.Get("Payout-State-Source")
	if source == "" {
		source = "live" // an API from before states were published reads only live
	}
	return st, source, nil
}

// waitFor polls a payout until cond holds, and fails the test with the payout's timeline when it does not within
// timeout or the payout ends otherwise.
func (a *api) waitFor(name, id, what string, timeout time.Duration, cond func(payoutState) bool) payoutState {
	a.t.Helper()
	deadline := time.Now().Add(timeout)
	var st payoutState
	var err error
	for time.Now().Before(deadline) {
		st, err = a.get(id, time.Until(deadline))
		if err == nil && cond(st) {
			return st
		}
		if err == nil && st.final() {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		a.t.Fatalf("%s: not %s within %s: %v", name, what, timeout, err)
	}
	a.t.Fatalf("%s: not %s within %s: %s", name, what, timeout, st)
	return st
}

// decide confirms or cancels a payout as caller and wants 202.
func (a *api) decide(caller, name, id, verb string) {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	status, b, err := a.call(ctx, caller, http.MethodPost, "/v1/payouts/"+id+"/"+verb, nil, `{"reason":"deploy test"}`)
	if err != nil || status != http.StatusAccepted {
		st, _ := a.get(id, 10*time.Second)
		a.t.Fatalf("%s: %s by %s: %d %v %s\n%s", name, verb, caller, status, err, b, st)
	}
}

// ledgers counts each payout's entries across the sandboxes' ledgers (money that moved).
func ledgers(sandbox map[string]string) (map[string]int, error) {
	paid := map[string]int{}
	read := func(provider, field string) error {
		var entries []map[string]any
		if err := getJSON(sandbox[provider]+"/_sandbox/ledger", &entries); err != nil {
			return fmt.Errorf("%s ledger: %w", provider, err)
		}
		for _, e := range entries {
			if id, ok := e[field].(string); ok {
				paid[id]++
			}
		}
		return nil
	}
	for provider, field := range map[string]string{"bank131": "metadata", "bepaid": "tracking_id", "mandarin": "order_id"} {
		if err := read(provider, field); err != nil {
			return nil, err
		}
	}
	return paid, nil
}

func getJSON(url string, v any) error {
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

// historyReport is what the histories of one payout's workflow runs say about the deploy.
type historyReport struct {
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

// ranOn reports whether a worker process took one of the payout's workflow tasks (its identity is "pid@host@").
func (h historyReport) ranOn(pid int) bool {
	for id := range h.Workers {
		if strings.HasPrefix(id, fmt.Sprintf("%d@", pid)) {
			return true
		}
	}
	return false
}

// histories reads every run of the payout's workflow (histories are encrypted, event types and workflow task
// failure causes are not).
func histories(c client.Client, id string) (historyReport, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep := historyReport{Workers: map[string]bool{}}
	runs := []string{""} // the latest run, if visibility cannot list them
	if list, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: "default", Query: fmt.Sprintf("WorkflowId = '%s'", id),
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
