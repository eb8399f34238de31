package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/workflows"
)

// awaitSubmitted waits until the payout's submit has completed and the workflow task after it too: the payout is
// submitted and waits for the provider's ready_to_confirm (no webhook comes in these tests).
func awaitSubmitted(t *testing.T, id string) {
	t.Helper()
	require.Eventually(t, func() bool {
		submitted := false
		for _, ev := range runsOf(t, id)[0] {
			switch ev.GetEventType() {
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
				submitted = true
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
				if submitted {
					return true
				}
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond, "payout %s was not submitted", id)
}

// publishedStatus reads the payout as a backend does, and requires that it was read from what its workflow
// published, not from a query.
func publishedStatus(t *testing.T, base, id string) payout.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := apiClient(base, "backend").Get(ctx, id)
	require.NoError(t, err, "read without waiting for a worker")
	require.Equal(t, "published", got.Response.Header.Get("Payout-State-Source"))
	return asState(t, got).Status
}

func TestRead_PayoutRunButNotYetPublishedIsReadFromItsStartWithoutAWorker(t *testing.T) {
	st.sandbox.SetNoWebhooks(true)
	t.Cleanup(func() { st.sandbox.SetNoWebhooks(false) })
	cfg := st.cfg
	cfg.TaskQueue = "payouts-quiet-read"
	w := startWorker(t, cfg.TaskQueue)
	base := newServer(t, st.newAPI(cfg))

	id := createNew(t, base, t.Name(), cardPayout(cardSucceeds))
	awaitSubmitted(t, id)
	w.Stop()

	// The worker ran two workflow tasks and published nothing (the submitted status waits for the next change a
	// backend acts on): the read answers the state the API started the payout with, at once, with no worker.
	start := time.Now()
	require.Equal(t, payout.StatusCreated, publishedStatus(t, base, id))
	require.Less(t, time.Since(start), 5*time.Second, "a read does not wait for a worker")

	w = startWorker(t, cfg.TaskQueue)
	t.Cleanup(w.Stop)
	mustDecide(t, base, "alice", id, "cancel", "test over")
	waitFor(t, id, payout.StatusCancelled)
}

func TestPublication_AChangeNoBackendActsOnIsPublishedByTheFirstTaskQuietForAfterIt(t *testing.T) {
	st.sandbox.SetNoWebhooks(true)
	t.Cleanup(func() { st.sandbox.SetNoWebhooks(false) })
	id := createNew(t, st.api.URL, t.Name(), cardPayout(cardSucceeds))
	awaitSubmitted(t, id)
	submitted := time.Now()
	// A signal that changes nothing (an action_required without a redirect) makes a workflow task of its own.
	nudge := func() {
		t.Helper()
		before := len(runsOf(t, id)[0])
		require.NoError(t, st.client.SignalWorkflow(context.Background(), id, "", workflows.SignalActionRequired, providers.Event{}))
		require.Eventually(t, func() bool {
			events := runsOf(t, id)[0]
			return len(events) > before+1 && events[len(events)-1].GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED &&
				events[len(events)-1].GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED
		}, 10*time.Second, 20*time.Millisecond)
	}

	nudge()
	require.Equal(t, payout.StatusCreated, publishedStatus(t, st.api.URL, id), "submitted waits: published with the next urgent change")

	time.Sleep(time.Until(submitted.Add(11 * time.Second)))
	nudge()
	require.Equal(t, payout.StatusSubmitted, publishedStatus(t, st.api.URL, id), "published by the first workflow task 10 s after it")
	requirePublishedIsLive(t, id)

	mustDecide(t, st.api.URL, "alice", id, "cancel", "test over")
	waitFor(t, id, payout.StatusCancelled)
}
