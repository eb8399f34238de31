package integration

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	pfclient "github.com/payoutflow/payoutflow/client"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/workflows"
)

func TestRead_PayoutIsReadableAndDecidableWithTheWorkerDown(t *testing.T) {
	cfg := st.cfg
	cfg.TaskQueue = "payouts-worker-down"
	w := startWorker(t, cfg.TaskQueue)
	base := newServer(t, st.newAPI(cfg))

	id := createNew(t, base, t.Name(), cardPayout(cardSucceeds))
	backend := apiClient(base, "backend")
	ctx := context.Background()
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := backend.Wait(waitCtx, id, pfclient.StatusAwaitingApproval)
	require.NoError(t, err)
	w.Stop()

	start := time.Now()
	got, err := backend.Get(ctx, id)
	elapsed := time.Since(start)
	require.NoError(t, err)
	s := asState(t, got)
	require.Equal(t, payout.StatusAwaitingApproval, s.Status, "the state its workflow last published")
	require.NotEmpty(t, s.ProviderRefs["session_id"])
	// Not a timing of the read (make bench has those): a read must not wait for a worker that may be gone for hours.
	require.Less(t, elapsed, 5*time.Second, "a read without a worker does not wait for one")
	require.Equal(t, "published", got.Response.Header.Get("Payout-State-Source"))
	asOf, err := time.Parse(time.RFC3339Nano, got.Response.Header.Get("Payout-State-As-Of"))
	require.NoError(t, err, "the answer says how fresh it is")
	require.WithinDuration(t, s.UpdatedAt, asOf, time.Millisecond)

	mustDecide(t, base, "alice", id, "confirm", "approved while the worker was down")
	require.Empty(t, ledgerFor(id), "nothing moves until a worker is back")

	w = startWorker(t, cfg.TaskQueue)
	t.Cleanup(w.Stop)
	done := waitFor(t, id, payout.StatusSucceeded)
	require.Equal(t, "approved while the worker was down", done.Approval.Reason)
	require.Len(t, ledgerFor(id), 1)
	// With a worker back, reads still need none: what they show is what the workflow holds.
	requirePublishedIsLive(t, id)
}

// requirePublishedIsLive waits until the payout's workflow has no task pending, then requires that a GET shows,
// from its memo, exactly the state its workflow answers to a query: whatever a task changes, it publishes.
func requirePublishedIsLive(t *testing.T, id string) payout.State {
	t.Helper()
	ctx := context.Background()
	var live, shown payout.State
	require.Eventually(t, func() bool {
		before, err := st.client.DescribeWorkflowExecution(ctx, id, "")
		require.NoError(t, err)
		if before.GetPendingWorkflowTask() != nil {
			return false
		}
		v, err := st.client.QueryWorkflow(ctx, id, "", workflows.QueryState)
		require.NoError(t, err)
		require.NoError(t, v.Get(&live))
		got, err := apiClient(st.api.URL, "test").Get(ctx, id)
		require.NoError(t, err)
		require.Equal(t, "published", got.Response.Header.Get("Payout-State-Source"))
		shown = asState(t, got)
		after, err := st.client.DescribeWorkflowExecution(ctx, id, "")
		require.NoError(t, err)
		return after.GetWorkflowExecutionInfo().GetHistoryLength() == before.GetWorkflowExecutionInfo().GetHistoryLength() &&
			after.GetPendingWorkflowTask() == nil
	}, 30*time.Second, 20*time.Millisecond, "payout %s never rested between tasks", id)
	live.NormaliseFailure()
	require.Equal(t, jsonOf(t, live), jsonOf(t, shown), "a GET shows what payout %s's workflow holds", id)
	return shown
}

// held is what the payout's workflow holds now, as its query answers. A note that changes no status (a decision
// ignored, a first mark recorded) is published with the payout's next status change: until then it is read here,
// and a GET shows it after.
func held(t *testing.T, id string) payout.State {
	t.Helper()
	v, err := st.client.QueryWorkflow(context.Background(), id, "", workflows.QueryState)
	require.NoError(t, err)
	var s payout.State
	require.NoError(t, v.Get(&s))
	return s
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	require.NoError(t, err)
	return string(b)
}

// A GET needs no worker, and shows what the payout's workflow holds after each of its tasks: the state the task
// that changed it published. Each path below rests at points where the payout waits for someone.
func TestRead_AGetShowsWhatTheWorkflowHoldsAfterEachTask(t *testing.T) {
	base := st.api.URL
	paid := createNew(t, base, t.Name()+"-paid", cardPayout(cardSucceeds))
	cancelled := createNew(t, base, t.Name()+"-cancelled", cardPayout(cardSucceeds))
	declined := createNew(t, base, t.Name()+"-declined", cardPayout(cardDeclined))

	waitFor(t, paid, payout.StatusAwaitingApproval)
	requirePublishedIsLive(t, paid)
	mustDecide(t, base, "alice", paid, "confirm", "checked")
	waitFor(t, paid, payout.StatusSucceeded)
	requirePublishedIsLive(t, paid)

	waitFor(t, cancelled, payout.StatusAwaitingApproval)
	// A decision typed into Temporal UI that names nobody changes no status: its note is published all the same.
	require.NoError(t, st.client.SignalWorkflow(context.Background(), cancelled, "", workflows.SignalConfirm, map[string]string{}))
	require.Eventually(t, func() bool { return hasNote(held(t, cancelled), "confirm ignored") }, 10*time.Second, 20*time.Millisecond)
	require.True(t, hasNote(requirePublishedIsLive(t, cancelled), "confirm ignored"))
	mustDecide(t, base, "alice", cancelled, "cancel", "wrong card")
	waitFor(t, cancelled, payout.StatusCancelled)
	requirePublishedIsLive(t, cancelled)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = apiClient(base, "backend").Wait(ctx, declined)
	requirePublishedIsLive(t, declined)
}
