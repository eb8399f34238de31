package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/activities"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
)

func TestDeliveryOptions_ProductionRetriesForThreeDaysWithBackOffUpToAnHour(t *testing.T) {
	o := deliveryOptions(EventsInput{})
	require.GreaterOrEqual(t, o.ScheduleToCloseTimeout, 72*time.Hour, "a delivery is tried for at least three days")
	require.Equal(t, time.Second, o.RetryPolicy.InitialInterval)
	require.Equal(t, time.Hour, o.RetryPolicy.MaximumInterval)
	require.Equal(t, 2.0, o.RetryPolicy.BackoffCoefficient)
	require.Zero(t, o.RetryPolicy.MaximumAttempts, "no limit on attempts within the three days")
	require.Empty(t, o.RetryPolicy.NonRetryableErrorTypes)

	short := deliveryOptions(EventsInput{RetryMax: 200 * time.Millisecond})
	require.Equal(t, 200*time.Millisecond, short.RetryPolicy.MaximumInterval)
	require.Equal(t, 200*time.Millisecond, short.RetryPolicy.InitialInterval)
	require.Equal(t, o.ScheduleToCloseTimeout, short.ScheduleToCloseTimeout, "configuration shortens the waits, never the three days")
}

func TestEvents_PendingDeliveriesAreCarriedAcrossContinueAsNewInOrder(t *testing.T) {
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	const endpoint = "https://backend.example/payoutflow"
	in := Input{ID: payoutID, Request: request(), ApprovalTimeout: time.Hour, PollAfter: time.Minute, PollMax: time.Minute,
		PollsPerRun: 3, Events: EventsInput{Endpoints: []string{endpoint}, RetryMax: time.Minute}}
	var delivered []payout.Event
	attempts := map[string]int{}
	run := 0
	st, runs := runAcrossRuns(t, in, start, func(e env, runStart time.Time) {
		run++
		thisRun := run
		e.OnActivity(acts.Open, mock.Anything, mock.Anything).Return(ref(), nil).Maybe()
		e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Maybe()
		e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Maybe()
		e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(func(context.Context, activities.Call) (providers.Outcome, error) {
			if e.Now().Sub(start) < 30*time.Minute {
				return outcome(providers.StatePending), nil
			}
			return outcome(providers.StateSucceeded), nil
		})
		e.OnActivity(acts.DeliverEvent, mock.Anything, mock.Anything).Return(func(_ context.Context, d activities.Delivery) error {
			require.Equal(t, endpoint, d.URL)
			attempts[d.Event.ID]++
			if thisRun == 1 {
				return errors.New("the backend is down") // it is down for the whole first run
			}
			delivered = append(delivered, d.Event)
			return nil
		})
		if runStart.Equal(start) {
			e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
			e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice", Reason: "checked"})
		}
	})
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.Greater(t, runs, 2, "the payout continued as new while its events were undelivered")
	var types []payout.EventType
	for i, ev := range delivered {
		require.Equal(t, i+1, ev.Sequence, "delivered in sequence order, each once")
		require.Equal(t, payoutID, ev.PayoutID)
		types = append(types, ev.Type)
	}
	require.Equal(t, []payout.EventType{payout.EventCreated, payout.EventAwaitingApproval, payout.EventConfirmed,
		payout.EventSucceeded}, types)
	require.Greater(t, attempts[delivered[0].ID], 1, "payout.created was tried in the first run, then again under its id")
}
