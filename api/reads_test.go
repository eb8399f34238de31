package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
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
	sum := sha256.Sum256([]byte("secret"))
	keys, err := NewKeys([]Key{{Name: "ops", SHA256: hex.EncodeToString(sum[:]), Scopes: allScopes}})
	require.NoError(t, err)
	fc := &publishedClient{state: st}
	return New(Config{Client: fc, Keys: keys, FingerprintKeys: [][]byte{[]byte("f")}, DecisionKey: []byte("d"),
		Providers: providers.NewRegistry()}), fc
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
