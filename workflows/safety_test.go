package workflows

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/payoutflow/payoutflow/activities"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
)

// Money safety over a payout's whole life: slow providers, operators, and Temporal's own buttons (issue "Money
// safety, part 2"). Each test failed on release 1's workflow code.

var unknownOutcome = temporal.NewApplicationError("timeout", activities.ErrUnknownOutcome, nil)

// hasNote reports whether a note of the payout's timeline contains part.
func hasNote(st payout.State, part string) bool {
	return slices.ContainsFunc(notes(st), func(n string) bool { return strings.Contains(n, part) })
}

// bePaidOutcome is what bePaid says of transaction uid.
func bePaidOutcome(uid string, s providers.State) providers.Outcome {
	return providers.Outcome{Ref: providers.Ref{PayoutID: payoutID, SessionID: uid}, State: s}
}

func TestPayout_VerifyApprovesOneTransactionPerPayoutWhileTheSubmitsAnswerIsLost(t *testing.T) {
	e := newEnvWithoutSession(t)
	// Attempt 1 reaches bePaid and is still processing when the client gives up; bePaid lists nothing by
	// tracking_id for a while; a second transaction appears (a resend, or bePaid's own retry).
	start := e.Now()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(func(_ context.Context, c activities.Call) (providers.Outcome, error) {
		switch {
		case c.Ref.SessionID == "":
			return providers.Outcome{Ref: c.Ref, State: providers.StateCreated}, nil
		case e.Now().Sub(start) < time.Hour:
			return bePaidOutcome(c.Ref.SessionID, providers.StatePending), nil
		}
		return bePaidOutcome(c.Ref.SessionID, providers.StateSucceeded), nil
	})
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(providers.Outcome{}, unknownOutcome).Once()
	amount := payout.Amount{Value: 10000, Currency: "RUB"}
	answers := map[string]providers.VerificationAnswer{}
	ask := func(uid string, at time.Duration) {
		e.RegisterDelayedCallback(func() {
			e.verify(providers.Verification{Provider: "bepaid", PayoutID: payoutID, TransactionID: uid, Amount: amount},
				func(a providers.VerificationAnswer, err error) {
					require.NoError(t, err)
					answers[uid] = a
				})
		}, at)
	}
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
	ask("1-first", 2*time.Minute)
	ask("1-second", 3*time.Minute)
	ask("1-first", 4*time.Minute) // bePaid asks again: the same transaction is approved again

	st := e.runBeforeSubmit()
	require.True(t, answers["1-first"].Approved)
	require.False(t, answers["1-second"].Approved, "a second transaction of one payout is never approved")
	require.Contains(t, answers["1-second"].Message, "1-first")
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.Equal(t, "1-first", st.ProviderRefs["session_id"], "the approved transaction is the payout")
}

func TestPayout_DuplicateCheckRefusalIsNeverSentAgain(t *testing.T) {
	e := newEnvWithoutSession(t)
	exists := temporal.NewNonRetryableApplicationError("duplicate", activities.ErrExists, nil,
		activities.Rejection{Code: "duplicate_request"})
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(providers.Outcome{}, exists).Once()
	lookups := 0
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(func(_ context.Context, c activities.Call) (providers.Outcome, error) {
		lookups++
		if lookups < 20 { // bePaid lists it only after a long while: hours
			return providers.Outcome{Ref: c.Ref, State: providers.StateCreated}, nil
		}
		return bePaidOutcome("1-abc", providers.StateSucceeded), nil
	})
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})

	st := e.runBeforeSubmit()
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.True(t, hasNote(st, "refused a repeat as a duplicate"), "an operator was told meanwhile")
}

func TestPayout_UnknownSubmitIsSentAgainOnlyAfterTheProviderShowedNothingForItsSettlingPeriod(t *testing.T) {
	e := newEnvWithoutSession(t)
	var sent []time.Time
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(func(context.Context, activities.SubmitCall) (providers.Outcome, error) {
		sent = append(sent, e.Now())
		if len(sent) == 1 {
			return providers.Outcome{}, unknownOutcome
		}
		return bePaidOutcome("1-abc", providers.StatePending), nil
	}).Twice()
	var asked []time.Time
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(func(_ context.Context, c activities.Call) (providers.Outcome, error) {
		if c.Ref.SessionID != "" {
			return bePaidOutcome(c.Ref.SessionID, providers.StateSucceeded), nil
		}
		asked = append(asked, e.Now())
		return providers.Outcome{Ref: c.Ref, State: providers.StateCreated}, nil
	})
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})

	st := e.runBeforeSubmit()
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.Len(t, sent, 2)
	require.GreaterOrEqual(t, sent[1].Sub(sent[0]), DefaultSettleFor, "resent only after the settling period")
	require.GreaterOrEqual(t, len(asked), 4, "asked several times before the resend, not once")
	// An operator (or a backend) reading the payout meanwhile is told why nothing happens for ten minutes.
	until := sent[0].Add(DefaultSettleFor).UTC().Format("15:04:05")
	require.True(t, hasNote(st, "submit did not succeed (OutcomeUnknown): not sent again before "+until+
		" UTC (the provider's settling period, 10m0s: a payout sent may take that long to show); asking the provider meanwhile"),
		"notes: %q", notes(st))
}

func TestPayout_UnknownLastSubmitPromisesNoResendItWillNotMake(t *testing.T) {
	e := newEnvWithoutSession(t)
	var sent []time.Time
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(func(context.Context, activities.SubmitCall) (providers.Outcome, error) {
		sent = append(sent, e.Now())
		return providers.Outcome{}, unknownOutcome
	})
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(func(_ context.Context, c activities.Call) (providers.Outcome, error) {
		return providers.Outcome{Ref: c.Ref, State: providers.StateCreated}, nil
	})
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
	e.at(3*time.Hour, SignalCancel, payout.Decision{By: "bob", Reason: "never arrived"})

	st := e.runBeforeSubmit()
	require.Len(t, sent, maxAttempts, "sent once per attempt, never after the last")
	promises := 0
	for _, n := range notes(st) {
		if strings.Contains(n, "not sent again before") {
			promises++
		}
	}
	// Each note "not sent again before <time>" reads as: it will be sent again then. After the last attempt
	// nothing is ever sent again (an operator is asked to cancel it), so that note must not say so.
	require.Equal(t, len(sent)-1, promises, "a resend is promised only where one follows; notes: %q", notes(st))
	require.True(t, hasNote(st, "the last of 3 attempts: asking the provider until"), "notes: %q", notes(st))
	require.True(t, hasNote(st, "submit failed 3 times and the provider has no payout"), "an operator was asked")
}

func TestPayout_FirstSubmitToAProviderWithoutAStepBeforeItAsksFirst(t *testing.T) {
	// After a workflow reset, or a new run under the same payout id once retention dropped the old one, the payout
	// may be paid already.
	e := newEnvWithoutSession(t)
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(bePaidOutcome("1-paid", providers.StateSucceeded), nil)
	sends := 0
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(func(context.Context, activities.SubmitCall) (providers.Outcome, error) {
		sends++
		return providers.Outcome{}, unknownOutcome
	}).Maybe()
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})

	st := e.runBeforeSubmit()
	require.Zero(t, sends, "the provider had it: nothing is sent")
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.Equal(t, "1-paid", st.ProviderRefs["session_id"])
}

func TestPayout_ResubmitAsLookupStopsAtTheProvidersDedupWindow(t *testing.T) {
	e := newMandarinEnv(t)
	exists := temporal.NewNonRetryableApplicationError("duplicate", activities.ErrExists, nil,
		activities.Rejection{Code: "duplicate_order_id"})
	var sent []time.Time
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(func(context.Context, activities.SubmitCall) (providers.Outcome, error) {
		sent = append(sent, e.Now())
		if len(sent) == 1 {
			return providers.Outcome{}, unknownOutcome
		}
		return providers.Outcome{}, exists
	})
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
	// Nothing names the payout for a day; then Mandarin's callback does.
	e.at(24*time.Hour, SignalPaymentFinish, providers.Event{Kind: providers.EventPaymentFinished, Provider: "mandarin",
		Outcome: providers.Outcome{Ref: providers.Ref{PayoutID: payoutID, SessionID: txID}, State: providers.StateSucceeded}})
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(mandarinOutcome(providers.StateSucceeded), nil)

	card := sbpWithoutName()
	card.Destination = payout.Destination{Type: payout.DestinationCard, Card: &payout.Card{Token: "tok"}}
	st := e.runMandarin(Input{Request: card, ApproveBeforeSubmit: true})
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.Less(t, len(sent), 10, "the money-moving create is not sent again and again for a day")
	require.Less(t, sent[len(sent)-1].Sub(sent[0]), time.Hour, "and never once its deduplication cannot cover the first")
	require.True(t, hasNote(st, "nothing more is sent"))
}

func TestPayout_TemporalCancellationRequestIsACancel(t *testing.T) {
	t.Run("awaiting approval: cancelled at the provider", func(t *testing.T) {
		e := newEnv(t)
		e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
		e.OnActivity(acts.Cancel, mock.Anything, mock.Anything).Return(outcome(providers.StateCancelled), nil).Once()
		e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
		e.RegisterDelayedCallback(e.CancelWorkflow, time.Minute)
		st := e.run()
		require.Equal(t, payout.StatusCancelled, st.Status)
	})
	t.Run("confirmed: seen through to the provider's final word", func(t *testing.T) {
		e := newEnv(t)
		e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
		e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
		e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(outcome(providers.StateSucceeded), nil).Once()
		e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
		e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
		e.RegisterDelayedCallback(e.CancelWorkflow, 2*time.Minute)
		e.at(3*time.Minute, SignalPaymentFinish, event(providers.EventPaymentFinished, providers.StateSucceeded))
		st := e.run()
		require.Equal(t, payout.StatusSucceeded, st.Status, "the payout the bank executes is reported as it ends")
		require.True(t, hasNote(st, "cancel by Temporal cancellation request ignored"))
	})
}

func TestPayout_CancelOfAPayoutAProviderThatPaysOnSubmitHasIsRefused(t *testing.T) {
	e := newMandarinEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(providers.Outcome{}, unknownOutcome).Once()
	exists := temporal.NewNonRetryableApplicationError("duplicate", activities.ErrExists, nil,
		activities.Rejection{Code: "duplicate_order_id"})
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(providers.Outcome{}, exists)
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(mandarinOutcome(providers.StateSucceeded), nil)
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
	e.at(2*time.Hour, SignalCancel, payout.Decision{By: "bob", Reason: "taking too long"})
	e.at(3*time.Hour, SignalPaymentFinish, providers.Event{Kind: providers.EventPaymentFinished, Provider: "mandarin",
		Outcome: providers.Outcome{Ref: providers.Ref{PayoutID: payoutID, SessionID: txID}, State: providers.StateSucceeded}})

	card := sbpWithoutName()
	card.Destination = payout.Destination{Type: payout.DestinationCard, Card: &payout.Card{Token: "tok"}}
	st := e.runMandarin(Input{Request: card, ApproveBeforeSubmit: true})
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.True(t, st.Approval.Approved, "the approval is not overwritten by a cancel that could not stop anything")
	require.True(t, hasNote(st, "cancel by bob refused"))
}

func TestPayout_PendingTooLongIsFlaggedAndStillAsked(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	start := e.Now()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(func(context.Context, activities.Call) (providers.Outcome, error) {
		if e.Now().Sub(start) < 5*time.Hour {
			return outcome(providers.StatePending), nil
		}
		return outcome(providers.StateSucceeded), nil
	})
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})

	st := e.runWith(Input{PendingLimit: time.Hour})
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.True(t, hasNote(st, "longer than it should"), "an operator was told while the bank kept it pending")
}

// signedMarks has the decision check take "signed-<who>" as the API's proof of who.
func (e env) signedMarks() {
	e.OnActivity(acts.VerifyDecision, mock.Anything, mock.Anything).Return(
		func(_ context.Context, c activities.DecisionCheck) (bool, error) {
			return c.Proof == "signed-"+c.By, nil
		}).Maybe()
}

func signedMark(action, by string) Resolution {
	return Resolution{Action: action, By: by, Reason: "checked", Reference: "ref-1", Proof: "signed-" + by}
}

// confirmedThenSilent is a Bank 131 payout confirmed at the bank whose status the bank then cannot tell (needs
// attention); tell switches the status lookups to the bank's answer.
func confirmedThenSilent(e env) (tell func(providers.State)) {
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	var says providers.State
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(func(context.Context, activities.Call) (providers.Outcome, error) {
		if says == "" {
			return providers.Outcome{}, temporal.NewApplicationError("502", activities.ErrUnknownOutcome, nil)
		}
		return outcome(says), nil
	})
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
	return func(s providers.State) { says = s }
}

func TestPayout_MarkWithoutTheAPIsProofIsRefused(t *testing.T) {
	e := newEnv(t)
	e.signedMarks()
	tell := confirmedThenSilent(e)
	e.at(3*time.Hour, SignalResolve, Resolution{Action: ResolveMarkFailed, By: "mallory", Reason: "typed in the UI"})
	e.at(4*time.Hour, SignalResolve, Resolution{Action: ResolveLookUp, By: "operator@ui"})
	e.RegisterDelayedCallback(func() { tell(providers.StateSucceeded) }, 5*time.Hour)
	e.at(6*time.Hour, SignalResolve, Resolution{Action: ResolveLookUp, By: "operator@ui"})

	st := e.run()
	require.Equal(t, payout.StatusSucceeded, st.Status, "the mark from the UI changed nothing; the bank's word counts")
	require.True(t, hasNote(st, "mark_failed by mallory refused: a mark must come through the API"))
	require.Contains(t, notes(st), "look-up asked by operator@ui", "a look-up from the UI is allowed")
}

func TestPayout_MarkIsCheckedWithTheProvider(t *testing.T) {
	tests := []struct {
		name   string
		says   providers.State
		mark   string
		status payout.Status
		note   string
	}{
		{"mark_failed of a payout the bank paid", providers.StateSucceeded, ResolveMarkFailed, payout.StatusSucceeded,
			"mark_failed by bob refused: the provider says the payout succeeded"},
		{"mark_succeeded of a payout the bank failed", providers.StateFailed, ResolveMarkSucceeded, payout.StatusFailed,
			"mark_succeeded by bob refused: the provider says the payout failed"},
		{"mark_failed the bank agrees with", providers.StateFailed, ResolveMarkFailed, payout.StatusFailed,
			"mark_failed by bob: the provider says failed too"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.signedMarks()
			tell := confirmedThenSilent(e)
			e.RegisterDelayedCallback(func() { tell(tt.says) }, 3*time.Hour)
			e.at(3*time.Hour+time.Second, SignalResolve, signedMark(tt.mark, "bob"))
			st := e.run()
			require.Equal(t, tt.status, st.Status)
			require.Contains(t, notes(st), tt.note)
		})
	}
}

func TestPayout_MarkThatTheProviderCannotCheckNeedsTwoPeopleAndAContradictionIsRecorded(t *testing.T) {
	e := newEnv(t)
	e.signedMarks()
	tell := confirmedThenSilent(e)
	e.at(3*time.Hour, SignalResolve, signedMark(ResolveMarkFailed, "bob"))
	e.at(4*time.Hour, SignalResolve, signedMark(ResolveMarkFailed, "BOB")) // the same person again
	e.RegisterDelayedCallback(func() {
		v, err := e.QueryWorkflow(QueryState)
		require.NoError(t, err)
		var st payout.State
		require.NoError(t, v.Get(&st))
		require.Equal(t, payout.StatusNeedsAttention, st.Status, "one person's word is not enough")
	}, 5*time.Hour)
	e.at(6*time.Hour, SignalResolve, signedMark(ResolveMarkFailed, "carol"))
	// Days later the bank says it paid after all.
	e.RegisterDelayedCallback(func() { tell(providers.StateSucceeded) }, 72*time.Hour)
	e.at(72*time.Hour+time.Minute, SignalPaymentFinish, event(providers.EventPaymentFinished, providers.StateSucceeded))

	st := e.run()
	require.Equal(t, payout.StatusFailed, st.Status)
	require.Equal(t, "marked_failed", st.Failure.Code)
	require.True(t, hasNote(st, "the word of bob and carol; the provider could not tell"), notes(st))
	require.NotNil(t, st.Contradiction, "the bank's later word is recorded, not dropped")
	require.Equal(t, payout.StatusFailed, st.Contradiction.Ended)
	require.Equal(t, "succeeded", st.Contradiction.ProviderSays)
}

func TestPayout_MarkOfAPayoutNeverSentIsCheckedWithoutAsking(t *testing.T) {
	e := newMandarinEnv(t)
	e.signedMarks()
	e.OnActivity(acts.Balance, mock.Anything, mock.Anything).Return(payout.Amount{Value: 1, Currency: "RUB"}, nil)
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
	e.at(time.Hour, SignalResolve, signedMark(ResolveMarkSucceeded, "bob"))
	e.at(2*time.Hour, SignalResolve, signedMark(ResolveMarkFailed, "bob"))

	card := sbpWithoutName()
	card.Destination = payout.Destination{Type: payout.DestinationCard, Card: &payout.Card{Token: "tok"}}
	st := e.runMandarin(Input{Request: card, ApproveBeforeSubmit: true, BalanceCheck: BalanceHold})
	require.Equal(t, payout.StatusFailed, st.Status)
	require.Contains(t, notes(st), "mark_succeeded by bob refused: the provider has no such payout")
	require.True(t, hasNote(st, "marked failed by bob: checked (the provider has no such payout)"))
}

// runAcrossRuns runs a payout through every run it continues as new into, each in a new test environment that
// setup prepares, starting when the one before stopped. It returns the final state and how many runs it took.
func runAcrossRuns(t *testing.T, in Input, start time.Time, setup func(e env, runStart time.Time)) (payout.State, int) {
	t.Helper()
	now := start
	for runs := 1; ; runs++ {
		var s testsuite.WorkflowTestSuite
		te := s.NewTestWorkflowEnvironment()
		te.SetStartTime(now)
		te.RegisterWorkflowWithOptions(PayoutWorkflow, workflowRegisterOptions())
		te.RegisterActivity(acts)
		e := env{te, t}
		setup(e, now)
		te.ExecuteWorkflow(PayoutWorkflow, in)
		require.True(t, te.IsWorkflowCompleted())
		err := te.GetWorkflowError()
		var next *workflow.ContinueAsNewError
		if errors.As(err, &next) {
			require.Equal(t, WorkflowName, next.WorkflowType.Name)
			in = Input{}
			require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(next.Input, &in))
			require.NotNil(t, in.Resume, "a continued run carries the payout's state")
			require.Equal(t, runs, in.Resume.Runs)
			now = te.Now()
			continue
		}
		require.NoError(t, err)
		var st payout.State
		require.NoError(t, te.GetWorkflowResult(&st))
		return st, runs
	}
}

func TestPayout_PendingForHalfAYearContinuesAsNewKeepsItsStateAndSucceeds(t *testing.T) {
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	const pending = 180 * 24 * time.Hour
	polls, maxPollsInARun := 0, 0
	in := Input{ID: payoutID, Request: request(), ApprovalTimeout: time.Hour, PollAfter: 2 * time.Minute,
		PollMax: 30 * time.Minute}
	st, runs := runAcrossRuns(t, in, start, func(e env, runStart time.Time) {
		inRun := 0
		e.OnActivity(acts.Open, mock.Anything, mock.Anything).Return(ref(), nil).Maybe()
		e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Maybe()
		e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Maybe()
		e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(func(context.Context, activities.Call) (providers.Outcome, error) {
			polls++
			inRun++
			maxPollsInARun = max(maxPollsInARun, inRun)
			if e.Now().Sub(start) < pending {
				return outcome(providers.StatePending), nil
			}
			return outcome(providers.StateSucceeded), nil
		})
		if runStart.Equal(start) {
			e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
			e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice", Reason: "checked"})
		}
	})
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.Equal(t, "alice", st.Approval.By, "the state is carried across runs")
	require.Equal(t, sessionID, st.ProviderRefs["session_id"])
	require.True(t, hasNote(st, "longer than it should"), "flagged once the pending limit passed")
	require.LessOrEqual(t, maxPollsInARun, DefaultPollsPerRun+1, "every run asks a bounded number of times")
	require.Greater(t, runs, 50, "half a year of asking every 30 minutes takes many runs")
	t.Logf("180 days pending: %d polls in %d runs, at most %d in one run", polls, runs, maxPollsInARun)
}

func TestPayout_SignalsArrivingAsTheRunContinuesAreNotLost(t *testing.T) {
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	in := Input{ID: payoutID, Request: request(), ApprovalTimeout: time.Hour, PollAfter: time.Minute, PollMax: time.Minute}
	var finishedAt time.Time
	st, runs := runAcrossRuns(t, in, start, func(e env, runStart time.Time) {
		e.OnActivity(acts.Open, mock.Anything, mock.Anything).Return(ref(), nil).Maybe()
		e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Maybe()
		e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Maybe()
		e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(func(context.Context, activities.Call) (providers.Outcome, error) {
			if !finishedAt.IsZero() {
				return outcome(providers.StateSucceeded), nil
			}
			return outcome(providers.StatePending), nil
		})
		if runStart.Equal(start) {
			e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
			e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
			return
		}
		// The bank's webhook comes in the very first moment of the second run.
		if finishedAt.IsZero() {
			e.RegisterDelayedCallback(func() {
				finishedAt = e.Now()
				e.SignalWorkflow(SignalPaymentFinish, event(providers.EventPaymentFinished, providers.StateSucceeded))
			}, 0)
		}
	})
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.Equal(t, 2, runs, "the webhook that came into the new run finished the payout")
}
