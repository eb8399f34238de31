package integration

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/payoutflow/payoutflow/internal/app"
	"github.com/payoutflow/payoutflow/internal/config"
	"github.com/payoutflow/payoutflow/payout"
)

// holdingTransport holds each request whose path ends in path for hold before it sends it, and says on reached that
// one is held; a request whose context ends meanwhile is not sent.
type holdingTransport struct {
	path    string
	hold    time.Duration
	reached chan struct{}
}

func (h holdingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, h.path) {
		select {
		case h.reached <- struct{}{}:
		default:
		}
		select {
		case <-time.After(h.hold):
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	return http.DefaultTransport.RoundTrip(req)
}

func TestWorker_StoppedForADeployLetsTheSubmitUnderWayFinish(t *testing.T) {
	// A deploy stops the old worker (SIGTERM) while a call that moves money is under way. Cut short, its outcome
	// would be unknown, and the payout would wait out the provider's settling period before asking again; given
	// WORKER_STOP_TIMEOUT, the call ends as it would have, and the new worker goes on from its answer.
	cfg := st.cfg
	cfg.TaskQueue = "payouts-graceful-stop"
	cfg.Perf.Worker = config.DefaultWorker // a process's worker, as configured when no WORKER_* variable is set
	base := newServer(t, st.newAPI(cfg))
	held := holdingTransport{path: "session/start/payout", hold: 3 * time.Second, reached: make(chan struct{}, 1)}
	ps, err := st.newProviders(st.api.URL, &http.Client{Transport: held})
	require.NoError(t, err)
	old := app.NewWorkerWithOptions(st.client, cfg.TaskQueue, app.WorkerOptions(cfg), st.codecKeys, cfg.Events, ps...)
	require.NoError(t, old.Start())

	id := createNew(t, base, t.Name(), cardPayout(cardSucceeds))
	select {
	case <-held.reached:
	case <-time.After(30 * time.Second):
		t.Fatal("the submit never reached Bank 131")
	}
	next := startWorker(t, cfg.TaskQueue) // the new release's worker, then the old one stopped
	t.Cleanup(next.Stop)
	stopped := time.Now()
	old.Stop()
	require.GreaterOrEqual(t, time.Since(stopped), 2*time.Second, "the stop waited for the call under way")

	waitFor(t, id, payout.StatusAwaitingApproval)
	mustDecide(t, base, "alice", id, "confirm", "graceful stop")
	done := waitFor(t, id, payout.StatusSucceeded)
	require.Len(t, ledgerFor(id), 1, "paid once")
	for _, n := range notes(done) {
		require.NotContains(t, n, "did not succeed", "the submit was not cut short")
	}
	it := st.client.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		require.NotContains(t, []enumspb.EventType{enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED, enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
			enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED}, ev.GetEventType(), "event %d", ev.GetEventId())
	}
}
