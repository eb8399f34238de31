package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/payoutflow/payoutflow/activities"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/policy"
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

func TestEvents_EachStatusBackendsActOnIsOneEventInOrder(t *testing.T) {
	const endpoint = "https://backend.example/payoutflow"
	created := time.Date(2026, 12, 6, 21, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		in    Input
		setup func(e env)
		want  []payout.EventType
	}{
		{"failed at the provider", Input{}, func(e env) {
			e.OnActivity(acts.Open, mock.Anything, mock.Anything).Return(ref(), nil).Once()
			e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
			e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
			e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(failed("declined_by_issuer_bank"), nil).Once()
			e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
			e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
			e.at(2*time.Minute, SignalPaymentFinish, providers.Event{Kind: providers.EventPaymentFinished, Outcome: failed("declined_by_issuer_bank")})
		}, []payout.EventType{payout.EventCreated, payout.EventAwaitingApproval, payout.EventConfirmed, payout.EventFailed}},
		{"declined by policy", Input{Policy: policy.Verdict{Decline: "on the decline list"}}, func(env) {},
			[]payout.EventType{payout.EventCreated, payout.EventCancelled}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			e := env{s.NewTestWorkflowEnvironment(), t}
			e.RegisterWorkflowWithOptions(PayoutWorkflow, workflowRegisterOptions())
			e.RegisterActivity(acts)
			tc.setup(e)
			var got []payout.Event
			e.OnActivity(acts.DeliverEvent, mock.Anything, mock.Anything).Return(func(_ context.Context, d activities.Delivery) error {
				got = append(got, d.Event)
				return nil
			})
			tc.in.Events = EventsInput{Endpoints: []string{endpoint}, Created: created}
			st := e.runWith(tc.in)
			var types []payout.EventType
			for i, ev := range got {
				require.Equal(t, i+1, ev.Sequence)
				require.Equal(t, payout.EventFor(ev.Data.Status), ev.Type, "data is the payout as it was then")
				types = append(types, ev.Type)
			}
			require.Equal(t, tc.want, types)
			require.Equal(t, payout.EventID(created, payoutID, 1), got[0].ID, "payout.created is the one the API published")
			require.Equal(t, created, st.CreatedAt, "the payout was created when the API says")
		})
	}
}

func TestEvents_AContradictionAfterAMarkIsAnEventOfItsOwn(t *testing.T) {
	e := newEnv(t)
	e.signedMarks()
	tell := confirmedThenSilent(e)
	var got []payout.EventType
	e.OnActivity(acts.DeliverEvent, mock.Anything, mock.Anything).Return(func(_ context.Context, d activities.Delivery) error {
		got = append(got, d.Event.Type)
		return nil
	})
	e.at(3*time.Hour, SignalResolve, signedMark(ResolveMarkFailed, "bob"))
	e.at(6*time.Hour, SignalResolve, signedMark(ResolveMarkFailed, "carol"))
	e.RegisterDelayedCallback(func() { tell(providers.StateSucceeded) }, 72*time.Hour)
	e.at(72*time.Hour+time.Minute, SignalPaymentFinish, event(providers.EventPaymentFinished, providers.StateSucceeded))

	st := e.runWith(Input{Events: EventsInput{Endpoints: []string{"https://backend.example/payoutflow"}}})
	require.NotNil(t, st.Contradiction)
	require.Equal(t, payout.EventFailed, got[len(got)-2])
	require.Equal(t, payout.EventContradiction, got[len(got)-1], "the provider's later word is told to backends")
	require.Contains(t, got, payout.EventNeedsAttention)
	require.Equal(t, payout.EventCreated, got[0], "without Events.Created the workflow publishes payout.created itself")
}
