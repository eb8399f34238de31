package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bank131"
	"github.com/payoutflow/payoutflow/workflows"
)

// startCapture is a Temporal client that records the input of the workflows it is asked to start.
type startCapture struct {
	client.Client
	inputs []workflows.Input
}

func (c *startCapture) ExecuteWorkflow(_ context.Context, _ client.StartWorkflowOptions, _ any, args ...any) (client.WorkflowRun, error) {
	c.inputs = append(c.inputs, args[0].(workflows.Input))
	return nil, nil
}

func (c *startCapture) DescribeWorkflowExecution(context.Context, string, string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	return nil, serviceerror.NewNotFound("no such payout")
}

// Two backends share payoutflow: the events of a payout go to its own backend's endpoint (and those for every
// payout), never to the other backend's, which would receive its recipients and metadata.
func TestCreate_APayoutsEventsGoOnlyToItsBackendsEndpoints(t *testing.T) {
	var ks []Key
	for _, name := range []string{"shop", "taxi"} {
		sum := sha256.Sum256([]byte("secret-" + name))
		ks = append(ks, Key{Name: name, SHA256: hex.EncodeToString(sum[:]), Scopes: []string{ScopeCreate, ScopeRead}})
	}
	keys, err := NewKeys(ks)
	require.NoError(t, err)
	reg := providers.NewRegistry()
	require.NoError(t, reg.Add(bank131.NewProvider(nil), nil))
	fc := &startCapture{}
	owners := map[string][]string{"shop": {"https://shop.example/hook", "https://ops.example/hook"},
		"taxi": {"https://taxi.example/hook", "https://ops.example/hook"}}
	h := New(Config{Client: fc, Keys: keys, FingerprintKeys: [][]byte{[]byte("f")}, DecisionKey: []byte("d"), Providers: reg,
		Events:    workflows.EventsInput{Endpoints: []string{"https://shop.example/hook", "https://taxi.example/hook", "https://ops.example/hook"}},
		EventsFor: func(creator string) []string { return owners[creator] }})
	for _, name := range []string{"shop", "taxi"} {
		req := httptest.NewRequest(http.MethodPost, "/v1/payouts", strings.NewReader(`{"provider": "bank131",
			"amount": {"value": 10000, "currency": "RUB"}, "destination": {"type": "card", "card": {"number": "4242424242424242"}},
			"recipient": {"full_name": "Ivanov Ivan"}, "description": "Payout for order 123"}`))
		req.Header.Set("Authorization", "Bearer secret-"+name)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "order-1")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	}
	require.Len(t, fc.inputs, 2)
	require.Equal(t, owners["shop"], fc.inputs[0].Events.Endpoints)
	require.Equal(t, owners["taxi"], fc.inputs[1].Events.Endpoints)
}
