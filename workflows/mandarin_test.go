package workflows

import (
	"context"
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

// Mandarin's paths in the SDK test environment: SBP without the name (name check, then confirm), the duplicate
// orderId as the lookup, and the balance check. The integration tests prove them against the Mandarin sandbox.

const txID = "43913ddc000c4d3990fddbd3980c1725"

func sbpWithoutName() payout.Request {
	return payout.Request{
		Provider:    "mandarin",
		Amount:      payout.Amount{Value: 1000, Currency: "RUB"},
		Destination: payout.Destination{Type: payout.DestinationSBP, SBP: &payout.SBP{Phone: "+79007654321", BankID: "100000000111", WithoutName: true}},
		Recipient:   payout.Recipient{FullName: "Иванов Петр Сергеевич"},
	}
}

func mandarinRef() providers.Ref {
	return providers.Ref{PayoutID: payoutID, SessionID: txID, PaymentID: txID}
}

func mandarinOutcome(s providers.State) providers.Outcome {
	return providers.Outcome{Ref: mandarinRef(), State: s}
}

func namedBy(name string) providers.Event {
	o := mandarinOutcome(providers.StateAwaitingConfirm)
	o.Details = map[string]string{providers.DetailRecipientName: name}
	return providers.Event{Kind: providers.EventSBPStatus, Provider: "mandarin", Outcome: o}
}

func newMandarinEnv(t *testing.T) env {
	var s testsuite.WorkflowTestSuite
	e := s.NewTestWorkflowEnvironment()
	e.RegisterWorkflowWithOptions(PayoutWorkflow, workflowRegisterOptions())
	e.RegisterActivity(acts)
	e.OnActivity(acts.Open, mock.Anything, mock.Anything).Return(providers.Ref{PayoutID: payoutID}, nil).Once()
	// The watcher's signal is sent by each test at the time it chooses.
	e.OnActivity(acts.Watch, mock.Anything, mock.Anything).Return(providers.Outcome{}, nil).Maybe()
	return env{e, t}
}

func (e env) runMandarin(in Input) payout.State {
	in.ID = payoutID
	if in.Request.Provider == "" {
		in.Request = sbpWithoutName()
	}
	in.ApprovalTimeout, in.PollAfter, in.LookupBySubmit = time.Hour, 10*time.Minute, true
	e.ExecuteWorkflow(PayoutWorkflow, in)
	require.True(e.t, e.IsWorkflowCompleted())
	require.NoError(e.t, e.GetWorkflowError())
	var st payout.State
	require.NoError(e.t, e.GetWorkflowResult(&st))
	e.AssertExpectations(e.t)
	return st
}

func TestPayout_SBPWithoutNameMatchingNameIsConfirmedByPolicy(t *testing.T) {
	e := newMandarinEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(mandarinOutcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(mandarinOutcome(providers.StatePending), nil).Once()
	// The signal is a hint: the name that counts is the one the provider gives when asked.
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(namedBy("Петр Сергеевич И.").Outcome, nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(mandarinOutcome(providers.StateSucceeded), nil).Once()
	e.at(3*time.Second, SignalSBPStatus, namedBy("Иванов Петр Сергеевич"))

	st := e.runMandarin(Input{Policy: policy.Verdict{Approvers: 1, AutoApprove: "10.00 RUB is within the limit"}})
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.Equal(t, &payout.NameCheck{BankName: "Петр Сергеевич И.", Matches: true}, st.NameCheck)
	require.Equal(t, policy.Actor, st.Approval.By)
	require.Contains(t, st.Approval.Reason, "matches the recipient")
}

func TestPayout_SBPWithoutNameMatchingNameStillWaitsForAPersonWithoutAutoApproval(t *testing.T) {
	e := newMandarinEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(mandarinOutcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(namedBy("Петр Сергеевич И.").Outcome, nil).Once()
	e.OnActivity(acts.Cancel, mock.Anything, mock.Anything).Return(mandarinOutcome(providers.StateCancelled), nil).Once()
	e.at(3*time.Second, SignalSBPStatus, namedBy("Петр Сергеевич И."))
	e.at(time.Hour/2, SignalCancel, payout.Decision{By: "alice"})

	st := e.runMandarin(Input{Policy: policy.Verdict{Approvers: 1}})
	require.Equal(t, payout.StatusCancelled, st.Status)
	require.True(t, st.NameCheck.Matches)
	require.Equal(t, "alice", st.Approval.By)
}

func TestPayout_SBPWithoutNameMismatchGoesToAPerson(t *testing.T) {
	e := newMandarinEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(mandarinOutcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(namedBy("Мария Петровна К.").Outcome, nil).Once()
	e.OnActivity(acts.Cancel, mock.Anything, mock.Anything).Return(mandarinOutcome(providers.StateCancelled), nil).Once()
	e.at(3*time.Second, SignalSBPStatus, namedBy("Мария Петровна К."))
	e.RegisterDelayedCallback(func() {
		v, err := e.QueryWorkflow(QueryState)
		require.NoError(t, err)
		var st payout.State
		require.NoError(t, v.Get(&st))
		require.Equal(t, payout.StatusAwaitingApproval, st.Status, "a mismatch is never approved by policy")
		e.SignalWorkflow(SignalCancel, payout.Decision{By: "alice", Reason: "not our recipient"})
	}, time.Minute)

	// Even a policy that would approve the amount alone leaves a mismatch to people.
	st := e.runMandarin(Input{Policy: policy.Verdict{Approvers: 1, AutoApprove: "small"}})
	require.Equal(t, payout.StatusCancelled, st.Status)
	require.False(t, st.NameCheck.Matches)
	require.Equal(t, "alice", st.Approval.By)
	require.Contains(t, notes(st), `the recipient's bank gives the name "Мария Петровна К.", which does not match "Иванов Петр Сергеевич": a person must decide`)
}

func TestPayout_LostSubmitIsAskedByTheSameOrderIDAndNeverMadeTwice(t *testing.T) {
	e := newMandarinEnv(t)
	unknown := temporal.NewApplicationError("504", activities.ErrUnknownOutcome, nil)
	duplicate := temporal.NewNonRetryableApplicationError("duplicate", activities.ErrExists, nil,
		activities.Rejection{Code: "duplicate_order_id"})
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(providers.Outcome{}, unknown).Once()
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(providers.Outcome{}, duplicate).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(
		func(_ context.Context, c activities.Call) (providers.Outcome, error) {
			require.Equal(t, txID, c.Ref.SessionID, "asked by the id the callback gave")
			return mandarinOutcome(providers.StateSucceeded), nil
		}).Once()
	callback := providers.Event{Kind: providers.EventPaymentFinished, Provider: "mandarin",
		Outcome: providers.Outcome{Ref: providers.Ref{PayoutID: payoutID, SessionID: txID}, State: providers.StateSucceeded}}
	e.at(5*time.Minute, SignalPaymentFinish, callback)
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})

	card := sbpWithoutName()
	card.Destination = payout.Destination{Type: payout.DestinationCard, Card: &payout.Card{Token: "tok"}}
	st := e.runMandarin(Input{Request: card, ApproveBeforeSubmit: true})
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.Equal(t, txID, st.ProviderRefs["session_id"])
	require.Contains(t, notes(st), "the provider has the payout already (duplicate_order_id): waiting for its result")
}

func TestPayout_BalanceThatCannotCoverFailsBeforeSubmit(t *testing.T) {
	e := newMandarinEnv(t)
	e.OnActivity(acts.Balance, mock.Anything, mock.Anything).Return(payout.Amount{Value: 999, Currency: "RUB"}, nil).Once()
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
	card := sbpWithoutName()
	card.Destination = payout.Destination{Type: payout.DestinationCard, Card: &payout.Card{Token: "tok"}}

	st := e.runMandarin(Input{Request: card, ApproveBeforeSubmit: true, BalanceCheck: BalanceFail})
	require.Equal(t, payout.StatusFailed, st.Status)
	require.Equal(t, payout.FailureInsufficientFunds, st.Failure.Code)
	require.Contains(t, st.Failure.Description, "does not cover the payout (10.00 RUB)")
}

func TestPayout_BalanceHoldWaitsForFunds(t *testing.T) {
	e := newMandarinEnv(t)
	e.OnActivity(acts.Balance, mock.Anything, mock.Anything).Return(payout.Amount{Value: 0, Currency: "RUB"}, nil).Once()
	e.OnActivity(acts.Balance, mock.Anything, mock.Anything).Return(payout.Amount{Value: 5000, Currency: "RUB"}, nil).Once()
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(mandarinOutcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(mandarinOutcome(providers.StateSucceeded), nil).Once()
	e.at(time.Second, SignalConfirm, payout.Decision{By: "alice"})
	e.RegisterDelayedCallback(func() {
		v, err := e.QueryWorkflow(QueryState)
		require.NoError(t, err)
		var st payout.State
		require.NoError(t, v.Get(&st))
		require.Equal(t, payout.StatusNeedsAttention, st.Status)
		require.Contains(t, st.Attention, "held until it does")
	}, 5*time.Second)
	card := sbpWithoutName()
	card.Destination = payout.Destination{Type: payout.DestinationCard, Card: &payout.Card{Token: "tok"}}

	st := e.runMandarin(Input{Request: card, ApproveBeforeSubmit: true, BalanceCheck: BalanceHold})
	require.Equal(t, payout.StatusSucceeded, st.Status)
	require.Contains(t, notes(st), "the balance covers the payout now")
}

func TestPayout_RefusalAfterALostSubmitIsNotTakenAsFinal(t *testing.T) {
	e := newMandarinEnv(t)
	unknown := temporal.NewApplicationError("504", activities.ErrUnknownOutcome, nil)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(providers.Outcome{}, unknown).Once()
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(providers.Outcome{}, rejected("bad_request")).Once()
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(mandarinOutcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(mandarinOutcome(providers.StateSucceeded), nil).Once()
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
	card := sbpWithoutName()
	card.Destination = payout.Destination{Type: payout.DestinationCard, Card: &payout.Card{Token: "tok"}}

	st := e.runMandarin(Input{Request: card, ApproveBeforeSubmit: true})
	require.Equal(t, payout.StatusSucceeded, st.Status, "the refusal after a lost answer was not taken as the end")
	require.Contains(t, strings.Join(notes(st), "\n"), "after an attempt whose outcome is unknown")
}

func TestPayout_TransferStartedWithoutTheAPIsProofIsIgnored(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	e := env{s.NewTestWorkflowEnvironment(), t}
	e.RegisterWorkflowWithOptions(PayoutWorkflow, workflowRegisterOptions())
	e.RegisterActivity(acts) // no decision key: no proof verifies
	forged := TransferStarted{Outcome: providers.Outcome{Ref: providers.Ref{PayoutID: payoutID, SessionID: "ps_9"},
		State: providers.StateSucceeded}, Proof: "forged"}
	e.at(time.Second, SignalTransferStarted, forged)
	e.RegisterDelayedCallback(func() {
		v, err := e.QueryWorkflow(QueryState)
		require.NoError(t, err)
		var st payout.State
		require.NoError(t, v.Get(&st))
		require.Equal(t, payout.StatusNeedsAttention, st.Status, "nothing believed; an operator is asked to look")
		require.Contains(t, notes(st), "transfer_started ignored: it does not carry the API's proof")
		e.CancelWorkflow()
	}, time.Hour)
	req := request()
	req.Transfer = &payout.Transfer{}
	e.ExecuteWorkflow(PayoutWorkflow, Input{ID: payoutID, Request: req})
	require.True(t, e.IsWorkflowCompleted())
}
