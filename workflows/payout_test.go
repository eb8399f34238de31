package workflows

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/payoutflow/payoutflow/activities"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/policy"
	"github.com/payoutflow/payoutflow/providers"
)

// These tests drive the workflow's state machine in the SDK test environment, with the provider activities
// stubbed. The integration tests prove the same paths against the Bank 131 sandbox on a real Temporal server.

var acts *activities.Activities

const (
	payoutID  = "po_test"
	sessionID = "ps_1"
)

func request() payout.Request {
	return payout.Request{
		Provider:    "bank131",
		Amount:      payout.Amount{Value: 10000, Currency: "RUB"},
		Destination: payout.Destination{Type: payout.DestinationCard, Card: &payout.Card{Number: "4242424242424242"}},
		Recipient:   payout.Recipient{FullName: "Ivanov Ivan"},
		Description: "Payout for order 123",
	}
}

func ref() providers.Ref { return providers.Ref{PayoutID: payoutID, SessionID: sessionID} }

func outcome(s providers.State) providers.Outcome {
	r := ref()
	r.PaymentID = "po_2018"
	return providers.Outcome{Ref: r, State: s, Amount: &payout.Amount{Value: 10000, Currency: "RUB"}}
}

func event(kind string, s providers.State) providers.Event {
	return providers.Event{Kind: kind, Provider: "bank131", Outcome: outcome(s)}
}

func failed(code string) providers.Outcome {
	o := outcome(providers.StateFailed)
	o.ErrorCode, o.ErrorDescription = code, "said the bank"
	return o
}

type env struct {
	*testsuite.TestWorkflowEnvironment
	t *testing.T
}

func newEnv(t *testing.T) env {
	var s testsuite.WorkflowTestSuite
	e := s.NewTestWorkflowEnvironment()
	e.RegisterWorkflowWithOptions(PayoutWorkflow, workflowRegisterOptions())
	e.RegisterActivity(acts)
	e.OnActivity(acts.Open, mock.Anything, mock.Anything).Return(ref(), nil).Once()
	return env{e, t}
}

func (e env) at(d time.Duration, name string, arg any) {
	e.RegisterDelayedCallback(func() { e.SignalWorkflow(name, arg) }, d)
}

func (e env) run() payout.State {
	e.ExecuteWorkflow(PayoutWorkflow, Input{ID: payoutID, Request: request(), ApprovalTimeout: time.Hour, PollAfter: 10 * time.Minute})
	require.True(e.t, e.IsWorkflowCompleted())
	require.NoError(e.t, e.GetWorkflowError())
	var st payout.State
	require.NoError(e.t, e.GetWorkflowResult(&st))
	e.AssertExpectations(e.t)
	return st
}

func notes(st payout.State) []string {
	var out []string
	for _, e := range st.Timeline {
		out = append(out, e.Note)
	}
	return out
}

func TestPayout_ConfirmedPayoutSucceeds(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(outcome(providers.StateSucceeded), nil).Once()
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice", Reason: "checked"})
	e.at(2*time.Minute, SignalPaymentFinish, event(providers.EventPaymentFinished, providers.StateSucceeded))

	st := e.run()
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.NotNil(t, st.Approval)
	require.True(t, st.Approval.Approved)
	require.Equal(t, "alice", st.Approval.By)
	require.Equal(t, map[string]string{"session_id": sessionID, "payment_id": "po_2018"}, st.ProviderRefs)
	require.Equal(t, &payout.MaskedCard{Brand: "visa", Last4: "4242"}, st.Destination.Card)
	var statuses []payout.Status
	for _, en := range st.Timeline {
		if len(statuses) == 0 || statuses[len(statuses)-1] != en.Status {
			statuses = append(statuses, en.Status)
		}
	}
	require.Equal(t, []payout.Status{payout.StatusCreated, payout.StatusSubmitted, payout.StatusAwaitingApproval,
		payout.StatusConfirmed, payout.StatusSucceeded}, statuses)
}

func TestPayout_CancelledWhileAwaitingApproval(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Cancel, mock.Anything, mock.Anything).Return(outcome(providers.StateCancelled), nil).Once()
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.at(time.Minute, SignalCancel, payout.Decision{By: "bob", Reason: "wrong card"})

	st := e.run()
	require.Equal(t, payout.StatusCancelled, st.Status)
	require.Equal(t, &payout.Approval{Approved: false, By: "bob", Reason: "wrong card", At: st.Approval.At}, st.Approval)
}

func TestPayout_ApprovalDeadlineCancelsAtProvider(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Cancel, mock.Anything, mock.Anything).Return(outcome(providers.StateCancelled), nil).Once()
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))

	start := e.Now()
	st := e.run()
	require.Equal(t, payout.StatusCancelled, st.Status)
	require.Equal(t, SystemActor, st.Approval.By)
	require.Equal(t, "approval deadline passed", st.Approval.Reason)
	require.GreaterOrEqual(t, st.Approval.At.Sub(start), time.Hour)
}

func TestPayout_FailedAtProviderKeepsTheProvidersReason(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(failed("provider_issuer_unavailable"), nil).Once()
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
	e.at(2*time.Minute, SignalPaymentFinish, providers.Event{Kind: providers.EventPaymentFinished, Outcome: failed("provider_issuer_unavailable")})

	st := e.run()
	require.Equal(t, payout.StatusFailed, st.Status)
	require.Equal(t, &payout.Failure{Code: payout.FailureProviderUnavailable, Description: "said the bank",
		ProviderCode: "provider_issuer_unavailable", ProviderMessage: "said the bank"}, st.Failure)
}

func TestPayout_DuplicateAndOutOfOrderSignalsChangeNothing(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(outcome(providers.StateSucceeded), nil).Once()
	ready := event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm)
	foreign := ready
	foreign.Outcome.Ref.SessionID = "ps_other"
	e.at(time.Second, SignalConfirm, payout.Decision{By: "early", Reason: "too soon"})
	e.at(2*time.Second, SignalReadyToConfirm, foreign)
	e.at(3*time.Second, SignalReadyToConfirm, ready)
	e.at(4*time.Second, SignalReadyToConfirm, ready)
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
	e.at(time.Minute+time.Second, SignalConfirm, payout.Decision{By: "carol"})
	e.at(time.Minute+2*time.Second, SignalCancel, payout.Decision{By: "dave"})
	e.at(time.Minute+3*time.Second, SignalReadyToConfirm, ready)
	e.at(2*time.Minute, SignalPaymentFinish, event(providers.EventPaymentFinished, providers.StateSucceeded))
	e.at(2*time.Minute+time.Second, SignalPaymentFinish, event(providers.EventPaymentFinished, providers.StateSucceeded))

	st := e.run()
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.Equal(t, "alice", st.Approval.By)
	all := notes(st)
	require.Contains(t, all, "confirm by early ignored: payout is submitted, not awaiting_approval")
	require.Contains(t, all, "ready_to_confirm for another session (ps_other) ignored")
	require.Contains(t, all, "confirm by carol ignored: already decided by alice")
	require.Contains(t, all, "cancel by dave ignored: already decided by alice")
}

func TestPayout_DecisionWithoutNameIsIgnored(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Cancel, mock.Anything, mock.Anything).Return(outcome(providers.StateCancelled), nil).Once()
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.at(time.Minute, SignalConfirm, payout.Decision{})
	e.at(2*time.Minute, SignalCancel, payout.Decision{By: "bob"})

	st := e.run()
	require.Equal(t, payout.StatusCancelled, st.Status)
	require.Contains(t, notes(st), `confirm ignored: it must say who decides, as {"by": "name", "reason": "..."}`)
}

func TestPayout_RejectedSubmitFailsWithoutConfirm(t *testing.T) {
	e := newEnv(t)
	rejection := temporal.NewNonRetryableApplicationError("declined", activities.ErrRejected, nil,
		activities.Rejection{Code: "declined_by_issuer_bank", Description: "Declined by issuer bank"})
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(providers.Outcome{}, rejection).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(providers.Outcome{Ref: ref(), State: providers.StateCreated}, nil).Once()

	st := e.run()
	require.Equal(t, payout.StatusFailed, st.Status)
	require.Equal(t, payout.FailureDeclinedByIssuer, st.Failure.Code)
	require.Equal(t, "declined_by_issuer_bank", st.Failure.ProviderCode)
}

func TestPayout_RefusalAfterAnUnknownAttemptIsNotTakenAsFinal(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(providers.Outcome{}, unknownOutcome).Once()
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(providers.Outcome{}, rejected("session_wrong_state")).Once()
	// The bank shows the first attempt only after the settling period, when the repeat was refused.
	start := e.Now()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(func(context.Context, activities.Call) (providers.Outcome, error) {
		if e.Now().Sub(start) < DefaultSettleFor+time.Minute {
			return providers.Outcome{Ref: ref(), State: providers.StateCreated}, nil
		}
		return outcome(providers.StatePending), nil
	})
	e.OnActivity(acts.Cancel, mock.Anything, mock.Anything).Return(outcome(providers.StateCancelled), nil).Once()
	e.at(time.Hour, SignalCancel, payout.Decision{By: "bob"})

	st := e.run()
	require.Equal(t, payout.StatusCancelled, st.Status, "the bank had the payout: it was cancelled there, not marked failed")
	require.Contains(t, notes(st), "the provider has the payout (found by lookup)")
}

func TestPayout_CancelThatTheProviderOutranIsNotReportedAsCancelled(t *testing.T) {
	e := newEnv(t)
	unknown := temporal.NewApplicationError("timeout", activities.ErrUnknownOutcome, nil)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Cancel, mock.Anything, mock.Anything).Return(providers.Outcome{}, unknown).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(outcome(providers.StateSucceeded), nil).Once()
	e.at(time.Second, SignalCancel, payout.Decision{By: "bob"})

	st := e.run()
	require.Equal(t, payout.StatusSucceeded, st.Status, "the money moved: the payout says so")
}

func TestPayout_CancelWithUnknownOutcomeIsRetriedUntilTheProviderTakesIt(t *testing.T) {
	e := newEnv(t)
	unknown := temporal.NewApplicationError("timeout", activities.ErrUnknownOutcome, nil)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Cancel, mock.Anything, mock.Anything).Return(providers.Outcome{}, unknown).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(outcome(providers.StateAwaitingConfirm), nil).Once()
	e.OnActivity(acts.Cancel, mock.Anything, mock.Anything).Return(outcome(providers.StateCancelled), nil).Once()
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.at(time.Minute, SignalCancel, payout.Decision{By: "bob"})

	require.Equal(t, payout.StatusCancelled, e.run().Status)
}

func TestPayout_UnknownSubmitOutcomeIsLookedUpNotResent(t *testing.T) {
	e := newEnv(t)
	unknown := temporal.NewApplicationError("timeout", activities.ErrUnknownOutcome, errors.New("read timeout"))
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(providers.Outcome{}, unknown).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(outcome(providers.StateSucceeded), nil).Once()
	e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
	e.at(2*time.Minute, SignalPaymentFinish, event(providers.EventPaymentFinished, providers.StateSucceeded))

	st := e.run()
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.Contains(t, notes(st), "the provider has the payout (found by lookup)")
}

func TestPayout_NoWebhookFallsBackToPolling(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StateCreated), nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(outcome(providers.StateAwaitingConfirm), nil).Once()
	e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(outcome(providers.StateSucceeded), nil).Once()
	e.at(50*time.Minute, SignalConfirm, payout.Decision{By: "alice"})

	st := e.run()
	require.Equal(t, payout.StatusSucceeded, st.Status)
}

func TestPayout_WebhookFinalClaimIsCheckedWithProvider(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(failed("declined_by_issuer_bank"), nil).Once()
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
	e.at(2*time.Minute, SignalPaymentFinish, event(providers.EventPaymentFinished, providers.StateSucceeded))

	st := e.run()
	require.Equal(t, payout.StatusFailed, st.Status, "the provider's word wins over the webhook's")
	require.Contains(t, notes(st), "a webhook said succeeded, the provider says pending: waiting")
}

func TestPayout_AmountMismatchAtProviderIsCancelled(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Cancel, mock.Anything, mock.Anything).Return(outcome(providers.StateCancelled), nil).Once()
	ready := event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm)
	ready.Outcome.Amount = &payout.Amount{Value: 1000000, Currency: "RUB"}
	e.at(time.Second, SignalReadyToConfirm, ready)

	st := e.run()
	require.Equal(t, payout.StatusCancelled, st.Status)
	require.Equal(t, SystemActor, st.Approval.By)
	require.Contains(t, st.Approval.Reason, "10000.00 RUB")
}

func TestPayout_QueryShowsAwaitingApprovalWithDeadline(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Cancel, mock.Anything, mock.Anything).Return(outcome(providers.StateCancelled), nil).Once()
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.RegisterDelayedCallback(func() {
		v, err := e.QueryWorkflow(QueryState)
		require.NoError(t, err)
		var st payout.State
		require.NoError(t, v.Get(&st))
		require.Equal(t, payout.StatusAwaitingApproval, st.Status)
		require.NotNil(t, st.Deadline)
		require.Equal(t, "Visa •4242", st.Destination.Card.String())
		e.SignalWorkflow(SignalCancel, payout.Decision{By: "bob"})
	}, time.Minute)

	require.Equal(t, payout.StatusCancelled, e.run().Status)
}

func rejected(code string) error {
	return temporal.NewNonRetryableApplicationError(code, activities.ErrRejected, nil, activities.Rejection{Code: code})
}

func TestPayout_RefusedConfirmationWaitsForTheProvidersFinalWord(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(providers.Outcome{}, rejected("session_wrong_state")).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(outcome(providers.StateAwaitingConfirm), nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(failed("confirm_timeout"), nil).Once()
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})

	st := e.run()
	require.Equal(t, payout.StatusFailed, st.Status)
	require.Equal(t, payout.FailureProviderUnavailable, st.Failure.Code)
	require.Equal(t, "confirm_timeout", st.Failure.ProviderCode)
	require.Contains(t, notes(st), "the provider did not take the confirmation (session_wrong_state); waiting for its final word")
}

func TestPayout_OperatorCancelsAPayoutThatNeedsAttention(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(providers.Outcome{}, rejected("session_wrong_state")).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(outcome(providers.StateAwaitingConfirm), nil)
	e.OnActivity(acts.Cancel, mock.Anything, mock.Anything).Return(outcome(providers.StateCancelled), nil).Once()
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
	e.at(5*time.Minute, SignalCancel, payout.Decision{By: "night-operator", Reason: "bank refused, closing"})

	st := e.run()
	require.Equal(t, payout.StatusCancelled, st.Status)
	require.Equal(t, "night-operator", st.Approval.By)
}

func TestPayout_SubmitThatNeverReachesTheProviderWaitsForAnOperator(t *testing.T) {
	e := newEnv(t)
	unknown := temporal.NewApplicationError("502", activities.ErrUnknownOutcome, nil)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(providers.Outcome{}, unknown).Times(maxAttempts)
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(providers.Outcome{Ref: ref(), State: providers.StateCreated}, nil)
	e.OnActivity(acts.Cancel, mock.Anything, mock.Anything).Return(outcome(providers.StateCancelled), nil).Once()
	e.RegisterDelayedCallback(func() {
		v, err := e.QueryWorkflow(QueryState)
		require.NoError(t, err)
		var st payout.State
		require.NoError(t, v.Get(&st))
		require.Equal(t, payout.StatusNeedsAttention, st.Status)
		require.Contains(t, st.Attention, "cancel it to close it")
		e.SignalWorkflow(SignalCancel, payout.Decision{By: "night-operator"})
	}, 6*time.Hour)

	require.Equal(t, payout.StatusCancelled, e.run().Status)
}

func TestPayout_UnreachableProviderAtOpenFailsCleanly(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	e := s.NewTestWorkflowEnvironment()
	e.RegisterWorkflowWithOptions(PayoutWorkflow, workflowRegisterOptions())
	e.RegisterActivity(acts)
	e.OnActivity(acts.Open, mock.Anything, mock.Anything).Return(providers.Ref{},
		temporal.NewApplicationError("connection refused", activities.ErrUnknownOutcome, nil))
	e.ExecuteWorkflow(PayoutWorkflow, Input{ID: payoutID, Request: request()})
	require.NoError(t, e.GetWorkflowError())
	var st payout.State
	require.NoError(t, e.GetWorkflowResult(&st))
	require.Equal(t, payout.StatusFailed, st.Status)
	require.Equal(t, "provider_unavailable", st.Failure.Code)
}

func (e env) runBeforeSubmit() payout.State {
	e.ExecuteWorkflow(PayoutWorkflow, Input{ID: payoutID, Request: request(), ApprovalTimeout: time.Hour,
		PollAfter: 10 * time.Minute, ApproveBeforeSubmit: true})
	require.True(e.t, e.IsWorkflowCompleted())
	require.NoError(e.t, e.GetWorkflowError())
	var st payout.State
	require.NoError(e.t, e.GetWorkflowResult(&st))
	e.AssertExpectations(e.t)
	return st
}

func newEnvWithoutSession(t *testing.T) env {
	var s testsuite.WorkflowTestSuite
	e := s.NewTestWorkflowEnvironment()
	e.RegisterWorkflowWithOptions(PayoutWorkflow, workflowRegisterOptions())
	e.RegisterActivity(acts)
	e.OnActivity(acts.Open, mock.Anything, mock.Anything).Return(providers.Ref{PayoutID: payoutID}, nil).Once()
	return env{e, t}
}

// askedFirst answers the ask before the first submit to a provider without a step before it: nothing there yet.
func (e env) askedFirst() {
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(providers.Outcome{Ref: providers.Ref{PayoutID: payoutID},
		State: providers.StateCreated}, nil).Once()
}

// verify sends the verify update; done gets its answer or error when the workflow has handled it.
func (e env) verify(v providers.Verification, done func(providers.VerificationAnswer, error)) {
	e.UpdateWorkflow(UpdateVerify, "", &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { done(providers.VerificationAnswer{}, err) },
		OnComplete: func(result any, err error) {
			if err != nil {
				done(providers.VerificationAnswer{}, err)
				return
			}
			done(result.(providers.VerificationAnswer), nil)
		},
	}, v)
}

func TestPayout_WithoutConfirmStepNothingIsSentBeforeApproval(t *testing.T) {
	e := newEnvWithoutSession(t)
	e.askedFirst()
	start := e.Now()
	var sentAt time.Time
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(func(_ context.Context, _ activities.SubmitCall) (providers.Outcome, error) {
		sentAt = e.Now()
		return providers.Outcome{Ref: providers.Ref{PayoutID: payoutID, SessionID: "1-abc"}, State: providers.StatePending}, nil
	}).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(providers.Outcome{Ref: providers.Ref{PayoutID: payoutID, SessionID: "1-abc"}, State: providers.StateSucceeded}, nil).Once()
	e.at(time.Hour/2, SignalConfirm, payout.Decision{By: "alice"})
	e.at(time.Hour, SignalPaymentFinish, providers.Event{Kind: providers.EventPaymentFinished, Outcome: providers.Outcome{
		Ref: providers.Ref{PayoutID: payoutID, SessionID: "1-abc"}, State: providers.StateSucceeded}})

	st := e.runBeforeSubmit()
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.GreaterOrEqual(t, sentAt.Sub(start), time.Hour/2, "submitted only after approval")
	require.Equal(t, "1-abc", st.ProviderRefs["session_id"])
}

func TestPayout_WithoutConfirmStepCancelBeforeApprovalCallsNoProvider(t *testing.T) {
	e := newEnvWithoutSession(t)
	e.at(time.Minute, SignalCancel, payout.Decision{By: "bob"})
	st := e.runBeforeSubmit()
	require.Equal(t, payout.StatusCancelled, st.Status)
}

func TestPayout_VerificationIsAnsweredByApprovalAmountAndTransaction(t *testing.T) {
	e := newEnvWithoutSession(t)
	e.askedFirst()
	uid := "1-abc"
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(providers.Outcome{Ref: providers.Ref{PayoutID: payoutID, SessionID: uid}, State: providers.StatePending}, nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(providers.Outcome{Ref: providers.Ref{PayoutID: payoutID, SessionID: uid}, State: providers.StateSucceeded}, nil).Once()
	ok := providers.Verification{Provider: "bepaid", PayoutID: payoutID, TransactionID: uid, Amount: payout.Amount{Value: 10000, Currency: "RUB"}}
	more := ok
	more.Amount.Value = 99999
	other := ok
	other.TransactionID = "1-other"
	type answer struct {
		approved bool
		message  string
	}
	got := map[string]answer{}
	ask := func(name string, v providers.Verification, at time.Duration) {
		e.RegisterDelayedCallback(func() {
			e.verify(v, func(a providers.VerificationAnswer, err error) {
				require.NoError(t, err, name)
				got[name] = answer{a.Approved, a.Message}
			})
		}, at)
	}
	ask("before approval", ok, time.Minute)
	e.at(2*time.Minute, SignalConfirm, payout.Decision{By: "alice"})
	ask("amount mismatch", more, 3*time.Minute)
	ask("other transaction", other, 4*time.Minute)
	ask("the approved one", ok, 5*time.Minute)
	e.at(6*time.Minute, SignalPaymentFinish, providers.Event{Kind: providers.EventPaymentFinished, Outcome: providers.Outcome{
		Ref: providers.Ref{PayoutID: payoutID, SessionID: uid}, State: providers.StateSucceeded}})

	st := e.runBeforeSubmit()
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.Equal(t, answer{false, "the payout is not approved"}, got["before approval"])
	require.False(t, got["amount mismatch"].approved)
	require.Contains(t, got["amount mismatch"].message, "999.99 RUB")
	require.False(t, got["other transaction"].approved)
	require.Equal(t, answer{true, ""}, got["the approved one"])
	require.Contains(t, notes(st), "verification of transaction 1-abc accepted")
}

func TestPayout_VerificationForAnotherPayoutIsRejected(t *testing.T) {
	e := newEnvWithoutSession(t)
	var rejection error
	e.RegisterDelayedCallback(func() {
		e.verify(providers.Verification{PayoutID: "po_other"}, func(_ providers.VerificationAnswer, err error) { rejection = err })
	}, time.Minute)
	e.at(2*time.Minute, SignalCancel, payout.Decision{By: "bob"})
	require.Equal(t, payout.StatusCancelled, e.runBeforeSubmit().Status)
	require.ErrorContains(t, rejection, "sent to payout")
}

func (e env) runWith(in Input) payout.State {
	in.ID, in.Request = payoutID, request()
	if in.ApprovalTimeout == 0 {
		in.ApprovalTimeout = time.Hour
	}
	in.PollAfter = 10 * time.Minute
	e.ExecuteWorkflow(PayoutWorkflow, in)
	require.True(e.t, e.IsWorkflowCompleted())
	require.NoError(e.t, e.GetWorkflowError())
	var st payout.State
	require.NoError(e.t, e.GetWorkflowResult(&st))
	e.AssertExpectations(e.t)
	return st
}

func TestPayout_PolicyDeclineStopsBeforeAnyProviderCall(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	e := env{s.NewTestWorkflowEnvironment(), t}
	e.RegisterWorkflowWithOptions(PayoutWorkflow, workflowRegisterOptions())
	e.RegisterActivity(acts)
	st := e.runWith(Input{Policy: policy.Verdict{Decline: "the recipient is on the policy's decline list"}})
	require.Equal(t, payout.StatusCancelled, st.Status)
	require.Equal(t, policy.Actor, st.Approval.By)
	require.Equal(t, "the recipient is on the policy's decline list", st.Approval.Reason)
}

func TestPayout_PolicyApprovesAlone(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(outcome(providers.StateSucceeded), nil).Once()
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.at(time.Minute, SignalPaymentFinish, event(providers.EventPaymentFinished, providers.StateSucceeded))

	st := e.runWith(Input{Policy: policy.Verdict{Approvers: 1, AutoApprove: "within the limit"}})
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.Equal(t, &payout.Approval{Approved: true, By: policy.Actor, Reason: "within the limit", At: st.Approval.At}, st.Approval)
}

func TestPayout_TwoDifferentPeopleMustApproveAndNotTheCreator(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(outcome(providers.StateSucceeded), nil).Once()
	// The API's proof, as the test's stand-in for the HMAC the activity checks: "signed-" + who.
	e.OnActivity(acts.VerifyDecision, mock.Anything, mock.Anything).Return(
		func(_ context.Context, c activities.DecisionCheck) (bool, error) {
			return c.Proof == "signed-"+c.By, nil
		})
	signed := func(by string) payout.Decision { return payout.Decision{By: by, Proof: "signed-" + by} }
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.at(time.Minute, SignalConfirm, signed("maker"))
	e.at(90*time.Second, SignalConfirm, payout.Decision{By: "carol", Reason: "typed in the UI"})
	e.at(100*time.Second, SignalConfirm, payout.Decision{By: "dave", Proof: "forged"})
	e.at(110*time.Second, SignalConfirm, payout.Decision{By: "Policy"})
	e.at(2*time.Minute, SignalConfirm, signed("alice"))
	e.at(3*time.Minute, SignalConfirm, signed(" ALICE "))
	e.RegisterDelayedCallback(func() {
		v, err := e.QueryWorkflow(QueryState)
		require.NoError(t, err)
		var st payout.State
		require.NoError(t, v.Get(&st))
		require.Equal(t, payout.StatusAwaitingApproval, st.Status, "one approval of two is not enough")
		require.Len(t, st.Approvals, 1)
	}, 4*time.Minute)
	e.at(5*time.Minute, SignalConfirm, signed("bob"))
	e.at(6*time.Minute, SignalPaymentFinish, event(providers.EventPaymentFinished, providers.StateSucceeded))

	st := e.runWith(Input{CreatedBy: "maker", Policy: policy.Verdict{Approvers: 2}})
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.Equal(t, "alice and bob", st.Approval.By)
	require.Equal(t, 2, st.ApprovalsRequired)
	require.Len(t, st.Approvals, 2)
	all := notes(st)
	require.Contains(t, all, "confirm by maker ignored: who created the payout cannot approve it")
	require.Contains(t, all, "approved by alice (1 of 2)")
	require.Contains(t, all, "confirm by ALICE ignored: ALICE already approved; another person must")
	require.Contains(t, all, "confirm by carol ignored: where two people must approve, each approval must come "+
		"through the API, which knows who is calling; a name typed into a signal proves nothing")
	require.Contains(t, all, "confirm by dave ignored: where two people must approve, each approval must come "+
		"through the API, which knows who is calling; a name typed into a signal proves nothing")
	require.Contains(t, all, `confirm by "Policy" ignored: that name is reserved for payoutflow's own decisions`)
}

func TestPayout_DecisionTextIsMaskedAndBounded(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Cancel, mock.Anything, mock.Anything).Return(outcome(providers.StateCancelled), nil).Once()
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.at(time.Minute, SignalCancel, payout.Decision{By: "bob", Reason: "card 4242424242424242 " + strings.Repeat("x", 1000)})
	st := e.runWith(Input{})
	require.Equal(t, payout.StatusCancelled, st.Status)
	require.NotContains(t, st.Approval.Reason, "4242424242424242")
	require.Contains(t, st.Approval.Reason, "424242******4242")
	require.LessOrEqual(t, len([]rune(st.Approval.Reason)), 500)
}

func TestPayout_PolicyDeadlineOverridesTheDefault(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Cancel, mock.Anything, mock.Anything).Return(outcome(providers.StateCancelled), nil).Once()
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	start := e.Now()
	st := e.runWith(Input{ApprovalTimeout: 24 * time.Hour, Policy: policy.Verdict{Approvers: 1, ApprovalTimeout: 10 * time.Minute}})
	require.Equal(t, payout.StatusCancelled, st.Status)
	require.Less(t, st.Approval.At.Sub(start), time.Hour, "the policy's 10 minutes, not the default day")
}

func TestDescribe_TellsOperatorsWhatToDo(t *testing.T) {
	at := time.Date(2026, 11, 22, 12, 4, 0, 0, time.UTC)
	deadline := at.Add(24 * time.Hour)
	s := payout.NewState("po_1", request(), at.Add(-time.Minute))
	s.Status, s.Deadline, s.ApprovalsRequired = payout.StatusAwaitingApproval, &deadline, 1
	s.Timeline = append(s.Timeline, payout.Entry{At: at, Status: payout.StatusAwaitingApproval, Note: "ready"},
		payout.Entry{At: at.Add(7 * time.Minute), Status: payout.StatusAwaitingApproval, Note: "a later note"})
	s.UpdatedAt = at.Add(7 * time.Minute)
	require.Equal(t, `waiting for approval since 12:04 UTC (cancelled at 2026-11-23 12:04 UTC if nobody decides). `+
		`Send the "confirm" or "cancel" signal with {"by": "your name", "reason": "why"}.`, describe(s))
	s.ApprovalsRequired = 2
	s.Approvals = []payout.Approval{{Approved: true, By: "alice"}}
	require.Contains(t, describe(s), "waiting for 2 different people to approve (1 so far) since 12:04 UTC")
	require.Equal(t, "100.00 RUB to Visa •4242 via Bank 131", s.Summary())
}

func TestPayout_ResolveIsIgnoredUnlessThePayoutNeedsAttention(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Cancel, mock.Anything, mock.Anything).Return(outcome(providers.StateCancelled), nil).Once()
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.at(time.Minute, SignalResolve, Resolution{Action: ResolveMarkSucceeded, By: "mallory", Reference: "x", Reason: "trust me"})
	e.at(2*time.Minute, SignalCancel, payout.Decision{By: "alice"})
	st := e.run()
	require.Equal(t, payout.StatusCancelled, st.Status)
	require.Contains(t, notes(st), "resolve mark_succeeded by mallory ignored: payout is awaiting_approval, not needs_attention")
}

func TestPayout_LookUpAsksTheProviderAtOnce(t *testing.T) {
	e := newEnv(t)
	unknown := temporal.NewApplicationError("502", activities.ErrUnknownOutcome, nil)
	asked := false
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(func(context.Context, activities.Call) (providers.Outcome, error) {
		if asked {
			return outcome(providers.StateSucceeded), nil
		}
		return providers.Outcome{}, unknown
	})
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
	e.RegisterDelayedCallback(func() {
		asked = true // the bank answers again
		e.SignalWorkflow(SignalResolve, Resolution{Action: ResolveLookUp, By: "night-operator"})
	}, 90*time.Minute)
	start := e.Now()
	st := e.run()
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.Contains(t, notes(st), "look-up asked by night-operator")
	require.Less(t, e.Now().Sub(start), 95*time.Minute, "asked at once, not after the next long wait")
}

func TestPayout_ReadyToConfirmThatOvertakesTheSubmitsAnswerCounts(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).After(time.Second).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(outcome(providers.StateSucceeded), nil).Once()
	// The bank's webhook comes before the answer of the start that caused it.
	e.at(time.Millisecond*500, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.RegisterDelayedCallback(func() {
		v, err := e.QueryWorkflow(QueryState)
		require.NoError(t, err)
		var st payout.State
		require.NoError(t, v.Get(&st))
		require.Equal(t, payout.StatusAwaitingApproval, st.Status, "not waiting for a poll to learn it again")
		e.SignalWorkflow(SignalConfirm, payout.Decision{By: "alice"})
	}, 5*time.Second)
	e.at(time.Minute, SignalPaymentFinish, event(providers.EventPaymentFinished, providers.StateSucceeded))
	require.Equal(t, payout.StatusSucceeded, e.run().Status)
}
