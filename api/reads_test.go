package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/workflows"
)

// publishedClient is a Temporal client for one payout whose workflow has published its state to its memo; it
// counts the queries it is asked, which need a worker.
type publishedClient struct {
	client.Client
	state   payout.State
	queries atomic.Int64
}

func (c *publishedClient) QueryWorkflow(context.Context, string, string, string, ...any) (converter.EncodedValue, error) {
	c.queries.Add(1)
	p, _ := converter.GetDefaultDataConverter().ToPayload(c.state)
	return review2Value{p}, nil
}

func (c *publishedClient) DescribeWorkflowExecution(_ context.Context, id, _ string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	p, err := converter.GetDefaultDataConverter().ToPayload(c.state)
	if err != nil {
		return nil, err
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflow.WorkflowExecutionInfo{
		Execution: &commonpb.WorkflowExecution{WorkflowId: id}, HistoryLength: 12,
		Memo: &commonpb.Memo{Fields: map[string]*commonpb.Payload{workflows.MemoState: p}}}}, nil
}

func (c *publishedClient) SignalWorkflow(context.Context, string, string, string, any) error {
	return nil
}

func publishedServer(t *testing.T, st payout.State) (http.Handler, *publishedClient) {
	t.Helper()
	fc := &publishedClient{state: st}
	return opsServer(t, fc), fc
}

// opsServer is the API over the Temporal client c, with one key: "secret", of every scope.
func opsServer(t *testing.T, c client.Client) http.Handler {
	t.Helper()
	sum := sha256.Sum256([]byte("secret"))
	keys, err := NewKeys([]Key{{Name: "ops", SHA256: hex.EncodeToString(sum[:]), Scopes: allScopes}})
	require.NoError(t, err)
	return New(Config{Client: c, Keys: keys, FingerprintKeys: [][]byte{[]byte("f")}, DecisionKey: []byte("d"),
		Providers: providers.NewRegistry()})
}

func serve(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer secret")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// A GET, a confirm and a cancel read the state the workflow published with its last task: strongly consistent
// with its history, and answered without a worker, so none of them asks the workflow (a query, which a worker must
// answer, replaying the payout first when it is not in its cache).
func TestRead_APublishedPayoutIsReadAndDecidedWithoutAskingItsWorkflow(t *testing.T) {
	const id = "po_0123456789abcdef0123456789abcdef"
	now := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	st := payout.State{ID: id, Status: payout.StatusAwaitingApproval, Provider: "bank131", UpdatedAt: now, ApprovalsRequired: 1}
	h, fc := publishedServer(t, st)

	rec := serve(h, http.MethodGet, "/v1/payouts/"+id, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "published", rec.Header().Get("Payout-State-Source"))
	require.Equal(t, now.Format(time.RFC3339Nano), rec.Header().Get("Payout-State-As-Of"))

	rec = serve(h, http.MethodPost, "/v1/payouts/"+id+"/confirm", `{"reason": "checked"}`)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	rec = serve(h, http.MethodPost, "/v1/payouts/"+id+"/cancel", `{"reason": "wrong card"}`)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())

	require.Zero(t, fc.queries.Load(), "queries asked of the workflow")
}

// startedClient is a Temporal client for one payout the API has just started, whose first workflow task has not
// completed: it timed out once on a busy worker and was scheduled again, so its history is longer than three
// events, yet its workflow has published nothing. No worker answers queries.
type startedClient struct {
	client.Client
	initial payout.State
	queries atomic.Int64
}

func (c *startedClient) DescribeWorkflowExecution(_ context.Context, id, _ string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	p, err := converter.GetDefaultDataConverter().ToPayload(c.initial)
	if err != nil {
		return nil, err
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflow.WorkflowExecutionInfo{
		Execution: &commonpb.WorkflowExecution{WorkflowId: id, RunId: "run"}, HistoryLength: 6,
		Memo: &commonpb.Memo{Fields: map[string]*commonpb.Payload{memoInitialState: p}}}}, nil
}

func (c *startedClient) QueryWorkflow(ctx context.Context, _, _, _ string, _ ...any) (converter.EncodedValue, error) {
	c.queries.Add(1)
	<-ctx.Done()
	return nil, ctx.Err()
}

func (c *startedClient) GetWorkflowHistory(context.Context, string, string, bool, enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	types := []enumspb.EventType{enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED, enumspb.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
		enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED}
	events := make([]*historypb.HistoryEvent, len(types))
	for i, t := range types {
		events[i] = &historypb.HistoryEvent{EventId: int64(i + 1), EventType: t}
	}
	return &eventsOf{events: events}
}

type eventsOf struct{ events []*historypb.HistoryEvent }

func (e *eventsOf) HasNext() bool { return len(e.events) > 0 }
func (e *eventsOf) Next() (*historypb.HistoryEvent, error) {
	ev := e.events[0]
	e.events = e.events[1:]
	return ev, nil
}

// Found by the load test (GETs and confirms of payouts created under load waited 10 s for a query and failed): a
// payout whose first workflow task has not completed, though it was tried more than once, is what the API started
// it with; it is read from the memo the API wrote, not asked of a workflow that has not run yet.
func TestRead_APayoutWhoseFirstTaskHasNotCompletedIsReadFromWhatTheAPIStartedItWith(t *testing.T) {
	const id = "po_0123456789abcdef0123456789abcdef"
	initial := payout.State{ID: id, Status: payout.StatusCreated, Provider: "bank131", ApprovalsRequired: 1,
		UpdatedAt: time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)}
	fc := &startedClient{initial: initial}
	h := opsServer(t, fc)

	start := time.Now()
	rec := serve(h, http.MethodGet, "/v1/payouts/"+id, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "published", rec.Header().Get("Payout-State-Source"))
	require.Contains(t, rec.Body.String(), `"status":"created"`)
	rec = serve(h, http.MethodPost, "/v1/payouts/"+id+"/cancel", `{"reason": "wrong card"}`)
	require.Equal(t, http.StatusAccepted, rec.Code, rec.Body.String())
	require.Zero(t, fc.queries.Load(), "queries asked of a workflow that has not run")
	require.Less(t, time.Since(start), time.Second)
}

func (c *startedClient) SignalWorkflow(context.Context, string, string, string, any) error {
	return nil
}

// busyClient is a Temporal client that refuses every call for want of capacity, and counts them.
type busyClient struct {
	client.Client
	err   error
	calls atomic.Int32
}

func (c *busyClient) DescribeWorkflowExecution(context.Context, string, string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	c.calls.Add(1)
	return nil, c.err
}

func (c *busyClient) CountWorkflow(context.Context, *workflowservice.CountWorkflowExecutionsRequest) (*workflowservice.CountWorkflowExecutionsResponse, error) {
	c.calls.Add(1)
	return nil, c.err
}

func (c *busyClient) ListWorkflow(context.Context, *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	c.calls.Add(1)
	return nil, c.err
}

// Found by the load test (GETs answered 500 while Temporal was overloaded): Temporal's refusal for want of
// capacity or time is asked again within the request's budget (BusyBudget), then a retryable 503
// temporal_unavailable with Retry-After, never a 500. A Temporal that cannot be connected to is 503 at once.
func TestRead_TemporalOverloadedIsAskedAgainThen503WithRetryAfter(t *testing.T) {
	const budget = 300 * time.Millisecond
	for name, tc := range map[string]struct {
		err       error
		askedOnce bool
	}{
		"resource exhausted": {err: serviceerror.NewResourceExhausted(enumspb.RESOURCE_EXHAUSTED_CAUSE_RPS_LIMIT, "namespace rate limit exceeded")},
		"unavailable":        {err: serviceerror.NewUnavailable("frontend is shutting down")},
		"deadline exceeded":  {err: fmt.Errorf("describe payout: %w", context.DeadlineExceeded)},
		"unreachable": {err: serviceerror.NewUnavailable(`connection error: desc = "transport: Error while dialing: dial tcp ` +
			`127.0.0.1:7233: connect: connection refused"`), askedOnce: true},
	} {
		t.Run(name, func(t *testing.T) {
			sum := sha256.Sum256([]byte("secret"))
			keys, kerr := NewKeys([]Key{{Name: "ops", SHA256: hex.EncodeToString(sum[:]), Scopes: allScopes}})
			require.NoError(t, kerr)
			busy := &busyClient{err: tc.err}
			h := New(Config{Client: busy, Keys: keys, FingerprintKeys: [][]byte{[]byte("f")},
				DecisionKey: []byte("d"), Providers: providers.NewRegistry(), BusyBudget: budget})
			for _, r := range []struct{ method, path, body string }{
				{http.MethodGet, "/v1/payouts/po_0123456789abcdef0123456789abcdef", ""},
				{http.MethodPost, "/v1/payouts/po_0123456789abcdef0123456789abcdef/confirm", `{"reason": "checked"}`},
				{http.MethodGet, "/v1/payouts?limit=1", ""},
				{http.MethodGet, "/v1/events", ""},
			} {
				busy.calls.Store(0)
				start := time.Now()
				rec := serve(h, r.method, r.path, r.body)
				require.Equal(t, http.StatusServiceUnavailable, rec.Code, r.path+": "+rec.Body.String())
				require.Contains(t, rec.Body.String(), `"code":"temporal_unavailable"`)
				require.NotEmpty(t, rec.Header().Get("Retry-After"))
				if tc.askedOnce {
					require.EqualValues(t, 1, busy.calls.Load(), r.path+": an unreachable Temporal is not asked again")
					require.Less(t, time.Since(start), budget)
				} else {
					require.Greater(t, busy.calls.Load(), int32(2), r.path+": a busy Temporal is asked again")
					require.GreaterOrEqual(t, time.Since(start), budget)
				}
			}
		})
	}
}
