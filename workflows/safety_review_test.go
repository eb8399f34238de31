package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/payoutflow/payoutflow/activities"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
)

// Found by review (failed before its fix): a second person's mark that is being checked (its proof's local activity) when the run reaches its
// polls per run is handled in the drain before continue-as-new; the mark ends the payout (resolved), but the next
// run does not know it was ended by a mark: it keeps waiting and ends as the provider says, with no contradiction
// recorded.
func TestPayout_MarkTakenDuringTheContinueAsNewDrainIsKept(t *testing.T) {
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	card := sbpWithoutName()
	card.Destination = payout.Destination{Type: payout.DestinationCard, Card: &payout.Card{Token: "tok"}}
	in := Input{ID: payoutID, Request: card, ApprovalTimeout: time.Hour, PollAfter: time.Minute, PollMax: time.Minute,
		LookupBySubmit: true, ApproveBeforeSubmit: true, PollsPerRun: 5, DedupFor: 3 * time.Minute}
	exists := temporal.NewNonRetryableApplicationError("duplicate", activities.ErrExists, nil,
		activities.Rejection{Code: "duplicate_order_id"})
	run, sends, checks := 0, 0, 0
	st, runs := runAcrossRuns(t, in, start, func(e env, runStart time.Time) {
		run++
		e.OnActivity(acts.Open, mock.Anything, mock.Anything).Return(providers.Ref{PayoutID: payoutID}, nil).Maybe()
		e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(func(context.Context, activities.SubmitCall) (providers.Outcome, error) {
			sends++
			if sends == 1 {
				return providers.Outcome{}, unknownOutcome
			}
			return providers.Outcome{}, exists
		}).Maybe()
		e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(mandarinOutcome(providers.StateSucceeded), nil).Maybe()
		e.OnActivity(acts.VerifyDecision, mock.Anything, mock.Anything).Return(
			func(_ context.Context, c activities.DecisionCheck) (bool, error) {
				return c.Proof == "signed-"+c.By, nil
			}).
			AfterFn(func() time.Duration {
				checks++
				if checks == 2 {
					return 5*time.Minute + 7*time.Second // the second person's proof takes a while to check
				}
				return 0
			}).Maybe()
		switch run {
		case 1:
			e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
		case 2:
			e.at(10*time.Second, SignalResolve, signedMark(ResolveMarkFailed, "bob"))
			e.at(2*time.Minute, SignalResolve, signedMark(ResolveMarkFailed, "carol"))
			// Mandarin's callback names the payout: it paid after all.
			e.at(time.Hour, SignalPaymentFinish, providers.Event{Kind: providers.EventPaymentFinished, Provider: "mandarin",
				Outcome: providers.Outcome{Ref: providers.Ref{PayoutID: payoutID, SessionID: txID}, State: providers.StateSucceeded}})
		}
	})
	t.Logf("runs %d, status %s, notes:\n%v", runs, st.Status, notes(st))
	require.True(t, hasNote(st, "the word of bob and carol"), "the mark was taken")
	require.Equal(t, payout.StatusFailed, st.Status, "a payout ended by operators' mark stays as marked")
	require.NotNil(t, st.Contradiction, "the provider's later word contradicting the mark is recorded")
}

// Found by review (failed before its fix): bePaid asked to verify transaction 1-a and was approved, so bePaid has the payout and pays it; an
// operator's cancel while the payout needs attention (bePaid's status API failing) must be refused and the
// approval must stand.
func TestPayout_CancelAfterVerifyApprovedIsRefused(t *testing.T) {
	e := newEnvWithoutSession(t)
	start := e.Now()
	asks := 0
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(func(_ context.Context, c activities.Call) (providers.Outcome, error) {
		if c.Ref.SessionID == "" {
			asks++
			if asks == 1 {
				return providers.Outcome{Ref: c.Ref, State: providers.StateCreated}, nil // asked before the first send
			}
			return providers.Outcome{}, temporal.NewApplicationError("502", activities.ErrUnknownOutcome, nil)
		}
		if e.Now().Sub(start) < 3*time.Hour {
			return providers.Outcome{}, temporal.NewApplicationError("502", activities.ErrUnknownOutcome, nil)
		}
		return bePaidOutcome(c.Ref.SessionID, providers.StateSucceeded), nil
	})
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(providers.Outcome{}, unknownOutcome).Once()
	cancels := 0
	e.OnActivity(acts.Cancel, mock.Anything, mock.Anything).Return(func(context.Context, activities.Call) (providers.Outcome, error) {
		cancels++
		return providers.Outcome{}, unknownOutcome
	}).Maybe()
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
	var answer providers.VerificationAnswer
	e.RegisterDelayedCallback(func() {
		e.verify(providers.Verification{Provider: "bepaid", PayoutID: payoutID, TransactionID: "1-a",
			Amount: payout.Amount{Value: 10000, Currency: "RUB"}},
			func(a providers.VerificationAnswer, err error) { require.NoError(t, err); answer = a })
	}, 30*time.Minute)
	e.RegisterDelayedCallback(func() {
		v, err := e.QueryWorkflow(QueryState)
		require.NoError(t, err)
		var st payout.State
		require.NoError(t, v.Get(&st))
		t.Logf("at 2h: status %s, cancel_refused %q", st.Status, st.CancelRefused)
		e.SignalWorkflow(SignalCancel, payout.Decision{By: "bob", Reason: "needs attention for too long"})
	}, 2*time.Hour)

	st := e.runBeforeSubmit()
	t.Logf("status %s, approval %+v, notes:\n%v", st.Status, st.Approval, notes(st))
	require.True(t, answer.Approved, "bePaid's transaction 1-a was approved: bePaid pays it")
	require.Equal(t, payout.StatusSucceeded, st.Status)
	assert.True(t, st.Approval.Approved, "the approval stands: the cancel could not stop anything")
	assert.True(t, hasNote(st, "cancel by bob refused"))
	assert.Zero(t, cancels, "no cancel is sent to a provider that pays on submit, least of all after it paid")
}

// Found by review (failed before its fix): the README's continue-as-new covers "a provider that cannot tell": a Bank 131 payout whose status API
// fails for two days must still continue as new after PollsPerRun asks, not ask hundreds of times in one run.
func TestPayout_ProviderThatCannotTellStillContinuesAsNew(t *testing.T) {
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	in := Input{ID: payoutID, Request: request(), ApprovalTimeout: time.Hour, PollAfter: time.Minute,
		PollMax: time.Minute, PollsPerRun: 5}
	maxAsksInARun := 0
	st, runs := runAcrossRuns(t, in, start, func(e env, runStart time.Time) {
		asks := 0
		e.OnActivity(acts.Open, mock.Anything, mock.Anything).Return(ref(), nil).Maybe()
		e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Maybe()
		e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Maybe()
		e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(func(ctx context.Context, _ activities.Call) (providers.Outcome, error) {
			if activity.GetInfo(ctx).Attempt == 1 {
				asks++
				maxAsksInARun = max(maxAsksInARun, asks)
			}
			if e.Now().Sub(start) < 48*time.Hour {
				return providers.Outcome{}, temporal.NewApplicationError("502", activities.ErrUnknownOutcome, nil)
			}
			return outcome(providers.StateSucceeded), nil
		})
		if runStart.Equal(start) {
			e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
			e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
		}
	})
	t.Logf("runs %d, at most %d asks in one run", runs, maxAsksInARun)
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.LessOrEqual(t, maxAsksInARun, 5+1, "every run asks a bounded number of times")
}
