package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"

	"github.com/payoutflow/payoutflow/payout"
	bank131sandbox "github.com/payoutflow/payoutflow/providers/bank131/sandbox"
)

// historyBudget is the most events one run of a payout's workflow may have (README, "Months of waiting").
const historyBudget = 2000

// runsOf returns the histories of every run of the payout's workflow, the first run first, following each run's
// link to the one it continued.
func runsOf(t *testing.T, id string) [][]*historypb.HistoryEvent {
	t.Helper()
	ctx := context.Background()
	var runs [][]*historypb.HistoryEvent
	for runID := ""; ; {
		var events []*historypb.HistoryEvent
		it := st.raw.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(t, err)
			events = append(events, ev)
		}
		require.NotEmpty(t, events)
		runs = append([][]*historypb.HistoryEvent{events}, runs...)
		runID = events[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId()
		if runID == "" {
			return runs
		}
	}
}

// requireNoTaskFailure checks that no workflow task of the run failed (a non-determinism, a panic).
func requireNoTaskFailure(t *testing.T, events []*historypb.HistoryEvent) {
	t.Helper()
	for _, ev := range events {
		require.NotEqual(t, enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED, ev.GetEventType(), "event %d", ev.GetEventId())
	}
}

func TestHistory_LongWaitContinuesAsNewWithinTheBudgetAndFinishes(t *testing.T) {
	st.sandbox.SetNoWebhooks(true)
	t.Cleanup(func() { st.sandbox.SetNoWebhooks(false) })
	cfg := st.cfg
	cfg.PollAfter, cfg.PollMax = 5*time.Millisecond, 5*time.Millisecond // months of asking, in seconds
	cfg.PollsPerRun = 3
	base := newServer(t, st.newAPI(cfg))
	id := createNew(t, base, t.Name(), cardPayout(bank131sandbox.SandboxCardErrorThenSucceeds))
	waitFor(t, id, payout.StatusAwaitingApproval)
	mustDecide(t, base, "alice", id, "confirm", "checked")

	s := waitFor(t, id, payout.StatusSucceeded)
	require.Equal(t, "alice", s.Approval.By, "the state came through every run")
	require.Len(t, ledgerFor(id), 1)
	runs := runsOf(t, id)
	kinds := map[string]int{}
	for _, ev := range runs[len(runs)-1] {
		kinds[ev.GetEventType().String()]++
	}
	require.GreaterOrEqual(t, len(runs), 2, "the wait continued as new: %v %v", kinds, notes(s))
	for i, events := range runs {
		require.LessOrEqual(t, len(events), historyBudget, "run %d", i+1)
		requireNoTaskFailure(t, events)
	}
	t.Logf("%d runs, events per run: %v", len(runs), func() []int {
		var n []int
		for _, e := range runs {
			n = append(n, len(e))
		}
		return n
	}())
}

func TestHistory_HappyPathEventsStayWithinBudget(t *testing.T) {
	id := createID(t, st.api.URL, t.Name(), cardPayout(cardSucceeds))
	waitFor(t, id, payout.StatusAwaitingApproval)
	mustDecide(t, st.api.URL, "alice", id, "confirm", "")
	waitFor(t, id, payout.StatusSucceeded)
	require.Eventually(t, func() bool { return !workflowRunning(t, id) }, 10*time.Second, 50*time.Millisecond)
	runs := runsOf(t, id)
	require.Len(t, runs, 1)
	requireNoTaskFailure(t, runs[0])
	kinds := map[string]int{}
	for _, ev := range runs[0] {
		kinds[ev.GetEventType().String()]++
	}
	t.Logf("Bank 131 card payout, confirmed by API: %d events: %v", len(runs[0]), kinds)
	// Release 1 wrote 50. Now: +5 memo publications (reads without a worker), +3 timers cancelled once not needed
	// (left alone, each fires later for 4 events), +1 version marker, -1 search attributes not set again at start.
	require.LessOrEqual(t, len(runs[0]), 58)
}
