package activities

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/payoutflow/payoutflow/providers"
)

// pendingProvider is a provider whose payouts stay pending: its status is all Watch asks of it.
type pendingProvider struct{ providers.Provider }

func (pendingProvider) Name() string { return "pending" }

func (pendingProvider) Status(_ context.Context, ref providers.Ref) (providers.Outcome, error) {
	return providers.Outcome{Ref: ref, State: providers.StatePending}, nil
}

type noSignals struct{}

func (noSignals) SignalWorkflow(context.Context, string, string, string, any) error { return nil }

func TestWatch_ReturnsWhenItsWorkerStopsForAnotherWorkerToWatch(t *testing.T) {
	// A worker told to stop lets its calls under way finish (WORKER_STOP_TIMEOUT); a watch never finishes on its
	// own, so it gives way at once: the watch is retried on another worker, and the stop does not wait for it.
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	stop := make(chan struct{})
	env.SetWorkerStopChannel(stop)
	env.SetTestTimeout(5 * time.Second)
	a := New(nil, pendingProvider{})
	a.Signaler = noSignals{}
	env.RegisterActivity(a)
	time.AfterFunc(300*time.Millisecond, func() { close(stop) })

	started := time.Now()
	_, err := env.ExecuteActivity(a.Watch, WatchCall{Call: Call{Provider: "pending", Ref: providers.Ref{PayoutID: "po_1"}},
		Every: time.Hour, Signal: "sbp_status"})
	require.ErrorContains(t, err, "the worker is stopping")
	require.Less(t, time.Since(started), 5*time.Second, "it gave way at the stop, not after its next ask")
}
