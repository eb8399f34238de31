package integration

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
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
	// Release 1 wrote 50, version 3 58 (+5 memo publications, +3 timers cancelled, +1 version marker, -1 search
	// attributes not set again at start). Version 5 (workflows/lean.go): open and status as local activities, one
	// publication per workflow task, the approval deadline left to lapse unseen: 47 when each webhook comes in a
	// workflow task of its own. Version 6: what no backend acts on waits for the next publication (the first task's
	// session, the submitted status): 44. The version marker and its TemporalChangeVersion upsert stay (2 events):
	// the worker that runs a payout's first task must record what it ran, since in a rolling deploy it may be an
	// older release's (TestDeploy_PayoutsInFlightFinishOnTheNewRelease).
	require.LessOrEqual(t, len(runs[0]), 44, "events:\n%s", describeEvents(runs[0]))
	for _, task := range tasksOf(runs[0]) {
		require.LessOrEqual(t, task[enumspb.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED], 1,
			"one memo publication per workflow task:\n%s", describeEvents(runs[0]))
		require.LessOrEqual(t, task[enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES], 1,
			"one search-attribute publication per workflow task:\n%s", describeEvents(runs[0]))
	}
	require.Zero(t, kinds[enumspb.EVENT_TYPE_TIMER_FIRED.String()], "no timer fires:\n%s", describeEvents(runs[0]))
}

// tasksOf counts, for each completed workflow task, the events of each type its commands wrote.
func tasksOf(events []*historypb.HistoryEvent) []map[enumspb.EventType]int {
	var tasks []map[enumspb.EventType]int
	for _, ev := range events {
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
			tasks = append(tasks, map[enumspb.EventType]int{})
			continue
		}
		if len(tasks) > 0 {
			tasks[len(tasks)-1][ev.GetEventType()]++
		}
	}
	return tasks
}

// describeEvents lists a history one event a line, with what names it: the marker, activity, signal, timer,
// search attributes or memo fields.
func describeEvents(events []*historypb.HistoryEvent) string {
	var b strings.Builder
	for _, ev := range events {
		var what []string
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			what = append(what, ev.GetMarkerRecordedEventAttributes().GetMarkerName())
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			what = append(what, ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName())
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			what = append(what, ev.GetWorkflowExecutionSignaledEventAttributes().GetSignalName())
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			what = append(what, ev.GetTimerStartedEventAttributes().GetStartToFireTimeout().AsDuration().String())
		case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
			what = slices.Sorted(maps.Keys(ev.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes().GetIndexedFields()))
		case enumspb.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
			what = slices.Sorted(maps.Keys(ev.GetWorkflowPropertiesModifiedEventAttributes().GetUpsertedMemo().GetFields()))
		}
		fmt.Fprintf(&b, "%3d %s %s\n", ev.GetEventId(), ev.GetEventType(), strings.Join(what, " "))
	}
	return b.String()
}
