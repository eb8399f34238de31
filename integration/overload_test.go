package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/temporal"
	"go.temporal.io/server/temporaltest"

	"github.com/payoutflow/payoutflow/codec"
	"github.com/payoutflow/payoutflow/internal/app"
	"github.com/payoutflow/payoutflow/internal/config"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/workflows"
)

// overloadRPS is the namespace rate (calls per second, burst as many) of the Temporal server of the overload test:
// far below what its payouts ask at once, so that it refuses calls (resource exhausted) as an overloaded server does.
const overloadRPS = 10

// Found by make bench (318 creates answered 503 at 500 in flight: their starts waited past the call's deadline for
// the embedded server's one SQLite connection): a Temporal that refuses calls for want of capacity slows payouts
// down but fails none. Creates, GETs and confirms sent at once to a server that takes 10 calls a second are all
// answered, none 503; each payout is one workflow, and is paid once.
func TestOverload_CreateGetAndConfirmAreServedWhileTemporalRefusesCallsForRate(t *testing.T) {
	const n = 24
	ts := temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseServerOptions(
		temporal.WithDynamicConfigClient(dynamicconfig.StaticClient{
			dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key():   true,
			dynamicconfig.FrontendMaxNamespaceRPSPerInstance.Key():        overloadRPS,
			dynamicconfig.FrontendMaxNamespaceBurstRatioPerInstance.Key(): 1.0,
		})))
	cl := ts.NewClientWithOptions(client.Options{
		DataConverter: st.dc, FailureConverter: codec.FailureConverter(st.dc), Logger: config.SDKLogger(st.logger()),
		ConnectionOptions: client.ConnectionOptions{GrpcCompression: &client.GrpcCompressionNone{}},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	require.NoError(t, workflows.EnsureSearchAttributes(ctx, cl, ts.GetDefaultNamespace()))
	w := app.NewWorker(cl, st.cfg.TaskQueue, st.codecKeys, st.providers...)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	// The bank's webhooks go to the shared stack's API, which knows none of these payouts: they ask the bank.
	cfg := st.cfg
	cfg.PollAfter = 500 * time.Millisecond
	api := newServer(t, app.NewAPI(cfg, app.API{Client: cl, DataConverter: st.dc, CodecKeys: st.codecKeys,
		Logger: st.logger(), Keys: st.keys, Policy: st.policy, Providers: st.registry()}))
	hc := &http.Client{Timeout: 2 * time.Minute}

	var tally loadTally
	ids, paid := make([]string, n), make([]payout.Status, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c := loadDo(hc, api, "backend", http.MethodPost, "/v1/payouts",
				map[string]string{"Idempotency-Key": fmt.Sprintf("%s-%d", t.Name(), i)}, cardPayout(cardSucceeds))
			tally.add("create", c)
			var p payout.State
			if c.status/100 == 2 && json.Unmarshal(c.body, &p) == nil {
				ids[i] = p.ID
			}
			if ids[i] == "" {
				return
			}
			tally.add("get", loadDo(hc, api, "backend", http.MethodGet, "/v1/payouts/"+ids[i], nil, ""))
			if awaitStatus(hc, api, &tally, ids[i], payout.StatusAwaitingApproval) != payout.StatusAwaitingApproval {
				return
			}
			tally.add("confirm", loadDo(hc, api, "alice", http.MethodPost, "/v1/payouts/"+ids[i]+"/confirm", nil, `{"reason":"overload"}`))
			paid[i] = awaitStatus(hc, api, &tally, ids[i], payout.StatusSucceeded)
		})
	}
	wg.Wait()
	t.Logf("answers at %d calls a second: %v; create p99 %s, confirm p99 %s", overloadRPS, tally.count,
		tally.percentile("create", 0.99).Round(time.Millisecond), tally.percentile("confirm", 0.99).Round(time.Millisecond))
	for key, body := range tally.failures {
		t.Errorf("%s: %s", key, body)
	}
	// A start that got through after its call's deadline is "already started" when made again: 200, the same payout.
	require.Equal(t, n, tally.count["create 201"]+tally.count["create 200"], "every create was answered with its payout")
	require.Equal(t, n, tally.count["get 200"], "every GET was answered")
	require.Equal(t, n, tally.count["confirm 202"], "every confirm was taken")
	require.Equal(t, slices.Repeat([]payout.Status{payout.StatusSucceeded}, n), paid, "every payout was paid")
	for _, id := range ids {
		var runs *workflowservice.ListWorkflowExecutionsResponse
		require.Eventually(t, func() bool {
			var err error
			runs, err = cl.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Namespace: ts.GetDefaultNamespace(), Query: fmt.Sprintf("WorkflowId = %q", id)})
			return err == nil && len(runs.GetExecutions()) > 0
		}, 30*time.Second, 100*time.Millisecond)
		require.Len(t, runs.GetExecutions(), 1, "payout %s is one workflow", id)
		require.Len(t, ledgerFor(id), 1, "payout %s is paid once", id)
	}
}
