package integration

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/workflows"
)

// TestOperatorSignal_EncodedThroughTheCodecEndpointIsUnderstood does what Temporal UI does when an operator sends
// the confirm signal with a codec endpoint configured: it posts the typed JSON to the codec's /encode, then sends the
// encoded payloads unchanged with SignalWorkflowExecution.
func TestOperatorSignal_EncodedThroughTheCodecEndpointIsUnderstood(t *testing.T) {
	id := createID(t, st.api.URL, t.Name(), cardPayout(cardSucceeds))
	waitFor(t, id, payout.StatusAwaitingApproval)

	typed := &commonpb.Payloads{Payloads: []*commonpb.Payload{{
		Metadata: map[string][]byte{"encoding": []byte("json/plain")},
		Data:     []byte(`{"by": "night-operator", "reason": "called the recipient"}`),
	}}}
	body, err := protojson.Marshal(typed)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, st.codecURL+"/encode", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", st.ts.GetDefaultNamespace())
	req.Header.Set("Origin", "http://127.0.0.1:8233")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "http://127.0.0.1:8233", res.Header.Get("Access-Control-Allow-Origin"), "the UI's origin may call the codec")
	encoded, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	var payloads commonpb.Payloads
	require.NoError(t, protojson.Unmarshal(encoded, &payloads))
	require.NotContains(t, string(payloads.Payloads[0].Data), "night-operator", "the codec encrypted it")

	_, err = st.raw.WorkflowService().SignalWorkflowExecution(context.Background(), &workflowservice.SignalWorkflowExecutionRequest{
		Namespace:         st.ts.GetDefaultNamespace(),
		WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: id},
		SignalName:        workflows.SignalConfirm,
		Input:             &payloads,
		Identity:          "temporal-ui",
	})
	require.NoError(t, err)
	done := waitFor(t, id, payout.StatusSucceeded)
	require.Equal(t, "night-operator", done.Approval.By)
	require.Equal(t, "called the recipient", done.Approval.Reason)
	require.Len(t, ledgerFor(id), 1)
}

func TestOperatorView_SearchAttributesFindWhatWaitsForApproval(t *testing.T) {
	id := createID(t, st.api.URL, t.Name(), cardPayout(cardSucceeds))
	waitFor(t, id, payout.StatusAwaitingApproval)

	ctx := context.Background()
	query := `PayoutStatus = 'awaiting_approval' AND AwaitingApproval = true AND PayoutProvider = 'bank131' AND PayoutAmount >= 10000`
	require.Eventually(t, func() bool {
		res, err := st.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		require.NoError(t, err)
		for _, e := range res.Executions {
			if e.GetExecution().GetWorkflowId() == id {
				return true
			}
		}
		return false
	}, 10*time.Second, 100*time.Millisecond, "the operator's query finds the payout")

	desc, err := st.client.DescribeWorkflowExecution(ctx, id, "")
	require.NoError(t, err)
	var summary string
	require.NoError(t, st.dc.FromPayload(desc.GetExecutionConfig().GetUserMetadata().GetSummary(), &summary))
	require.Equal(t, "100.00 RUB to Visa •4242 via Bank 131", summary)

	mustDecide(t, st.api.URL, "test", id, "cancel", "")
	waitFor(t, id, payout.StatusCancelled)
}
