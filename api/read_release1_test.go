package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bank131"
)

// Found by review (failed before its fix). review2Client is a Temporal client for one payout started by today's API and run by a release-1 worker (the
// deploy order README "Deploying a new version" asks for: the API first, then the workers). Release 1's workflow
// never upserts the memo (publish: `if p.v2()`), so the memo holds forever the initial state the API wrote at
// start. Its worker answers queries, but slower than 150 ms (it replays the history first, or is loaded).
type review2Client struct {
	client.Client
	mu   sync.Mutex
	memo map[string]any
	live payout.State
	hang bool // no worker answers queries at all
}

func (c *review2Client) ExecuteWorkflow(_ context.Context, opts client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.memo = opts.Memo
	return nil, nil
}

func (c *review2Client) QueryWorkflow(ctx context.Context, _, _, _ string, _ ...any) (converter.EncodedValue, error) {
	wait := 400 * time.Millisecond // a worker replaying the payout's history
	if c.hang {
		wait = time.Hour
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(wait):
	}
	p, _ := converter.GetDefaultDataConverter().ToPayload(c.live)
	return review2Value{p}, nil
}

func (c *review2Client) DescribeWorkflowExecution(_ context.Context, id, _ string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fields := map[string]*commonpb.Payload{}
	for k, v := range c.memo {
		p, err := converter.GetDefaultDataConverter().ToPayload(v)
		if err != nil {
			return nil, err
		}
		fields[k] = p
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflow.WorkflowExecutionInfo{
		Execution: &commonpb.WorkflowExecution{WorkflowId: id}, Memo: &commonpb.Memo{Fields: fields},
		HistoryLength: 20}}, nil // its worker has run it
}

// GetWorkflowHistory is the history of a payout whose first workflow task completed (release 1's worker ran it).
func (c *review2Client) GetWorkflowHistory(context.Context, string, string, bool, enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	return &eventsOf{events: []*historypb.HistoryEvent{{EventId: 1, EventType: enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED},
		{EventId: 2, EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED}, {EventId: 3, EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED},
		{EventId: 4, EventType: enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED}}}
}

func (c *review2Client) SignalWorkflow(context.Context, string, string, string, any) error {
	return nil
}

type review2Value struct{ p *commonpb.Payload }

func (v review2Value) HasValue() bool { return v.p != nil }
func (v review2Value) Get(ptr any) error {
	return converter.GetDefaultDataConverter().FromPayload(v.p, ptr)
}

func TestRead_PayoutRunByARelease1WorkerIsReadByAskingItsWorkflow(t *testing.T) {
	sum := sha256.Sum256([]byte("secret"))
	keys, err := NewKeys([]Key{{Name: "ops", SHA256: hex.EncodeToString(sum[:]), Scopes: allScopes}})
	if err != nil {
		t.Fatal(err)
	}
	fc := &review2Client{}
	reg := providers.NewRegistry()
	if err := reg.Add(bank131.NewProvider(nil), nil); err != nil {
		t.Fatal(err)
	}
	h := New(Config{Client: fc, Keys: keys, FingerprintKeys: [][]byte{[]byte("f")}, DecisionKey: []byte("d"), Providers: reg})
	do := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer secret")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "order-123")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := do(http.MethodPost, "/v1/payouts", `{"provider": "bank131", "amount": {"value": 10000, "currency": "RUB"},
		"destination": {"type": "card", "card": {"number": "4242424242424242"}},
		"recipient": {"full_name": "Ivanov Ivan"}, "description": "Payout for order 123"}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	var created payout.State
	_ = json.Unmarshal(rec.Body.Bytes(), &created)
	if _, ok := fc.memo[memoInitialState]; !ok {
		t.Fatal("premise: today's API writes the initial state to the memo")
	}

	// The release-1 worker ran the payout to its end (paid); being release 1, it published nothing to the memo.
	fc.live = created
	fc.live.Status = payout.StatusSucceeded
	fc.live.UpdatedAt = created.UpdatedAt.Add(time.Hour)

	rec = do(http.MethodGet, "/v1/payouts/"+created.ID, "")
	var got payout.State
	_ = json.Unmarshal(rec.Body.Bytes(), &got)
	t.Logf("GET: %d source=%s as_of=%s status=%s", rec.Code, rec.Header().Get("Payout-State-Source"),
		rec.Header().Get("Payout-State-As-Of"), got.Status)
	if got.Status != payout.StatusSucceeded {
		t.Errorf("GET of a paid payout run by release 1 answered status %q from the memo (source %q), which release 1 "+
			"never updates; a payout whose workflow publishes nothing must be read by asking its workflow",
			got.Status, rec.Header().Get("Payout-State-Source"))
	}

	rec = do(http.MethodPost, "/v1/payouts/"+created.ID+"/cancel", `{"reason": "customer asked"}`)
	t.Logf("cancel: %d %s", rec.Code, rec.Body)
	if rec.Code == http.StatusAccepted {
		t.Errorf("cancel of a paid payout was accepted (202), checked against the frozen memo state")
	}
}

// Found by the cluster test (a GET hung ten minutes after a worker was killed): a payout that published no state and
// whose workflow no worker answers is refused at once as unavailable, not held until the caller gives up.
func TestRead_PayoutThatPublishedNothingAndNoWorkerAnswersIs503(t *testing.T) {
	sum := sha256.Sum256([]byte("secret"))
	keys, err := NewKeys([]Key{{Name: "ops", SHA256: hex.EncodeToString(sum[:]), Scopes: allScopes}})
	if err != nil {
		t.Fatal(err)
	}
	fc := &review2Client{hang: true}
	h := New(Config{Client: fc, Keys: keys, FingerprintKeys: [][]byte{[]byte("f")}, DecisionKey: []byte("d"), Providers: providers.NewRegistry()})
	req := httptest.NewRequest(http.MethodGet, "/v1/payouts/po_0123456789abcdef0123456789abcdef", nil)
	req.Header.Set("Authorization", "Bearer secret")
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() { h.ServeHTTP(rec, req); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("GET of a payout no worker answers did not return within a minute")
	}
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"payout_unavailable"`) {
		t.Fatalf("GET: %d %s; want 503 payout_unavailable", rec.Code, rec.Body)
	}
	if rec.Header().Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
}
