package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/policy"
	"github.com/payoutflow/payoutflow/providers"
)

// The tests' provider's failure table, as its registry would record it: the workflow names no provider's codes.
func init() {
	payout.SetFailureTable("bank131", payout.FailureTable{
		"declined_by_issuer_bank":     payout.FailureDeclinedByIssuer,
		"provider_issuer_unavailable": payout.FailureProviderUnavailable,
		"confirm_timeout":             payout.FailureProviderUnavailable,
	})
}

func TestActors_AreTheOnesPayoutReadsCancellationsBy(t *testing.T) {
	require.Equal(t, payout.ActorPolicy, policy.Actor)
	require.Equal(t, payout.ActorSystem, SystemActor)
}

func TestPayout_UnknownProviderCodeFailsAsProviderRejectedWithTheProvidersWords(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(failed("brand_new_code"), nil).Once()
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
	e.at(2*time.Minute, SignalPaymentFinish, providers.Event{Kind: providers.EventPaymentFinished, Outcome: failed("brand_new_code")})

	st := e.run()
	require.Equal(t, payout.StatusFailed, st.Status)
	require.Equal(t, &payout.Failure{Code: payout.FailureProviderRejected, Description: "said the bank",
		ProviderCode: "brand_new_code", ProviderMessage: "said the bank"}, st.Failure)
	require.Contains(t, notes(st), "failed at the provider: provider_rejected (brand_new_code)")
}

func TestPayout_ReleasedVersionsKeepRecordingTheProvidersCodeAsTheCode(t *testing.T) {
	e := newEnv(t)
	e.OnGetVersion(versionChange, versionRelease1, latestVersion).Return(versionMoneySafety2)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(failed("declined_by_issuer_bank"), nil).Once()
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
	e.at(2*time.Minute, SignalPaymentFinish, providers.Event{Kind: providers.EventPaymentFinished, Outcome: failed("declined_by_issuer_bank")})

	st := e.run()
	require.Equal(t, &payout.Failure{Code: "declined_by_issuer_bank", Description: "said the bank"}, st.Failure)
	st.NormaliseFailure()
	require.Equal(t, payout.FailureDeclinedByIssuer, st.Failure.Code, "read in the vocabulary")
}

func TestPayout_CancelledPayoutSaysWhoCancelledIt(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil).Once()
	e.OnActivity(acts.Cancel, mock.Anything, mock.Anything).Return(outcome(providers.StateCancelled), nil).Once()
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.at(time.Minute, SignalCancel, payout.Decision{By: "bob", Reason: "wrong card"})

	st := e.run()
	require.Equal(t, payout.StatusCancelled, st.Status)
	require.Equal(t, &payout.Failure{Code: payout.FailureCancelledByOperator, Description: "cancelled by bob: wrong card"}, st.Failure)
}

func TestPayout_PayoutDeclinedByPolicySaysSo(t *testing.T) {
	e := newEnv(t)
	e.ExecuteWorkflow(PayoutWorkflow, Input{ID: payoutID, Request: request(), ApprovalTimeout: time.Hour,
		PollAfter: 10 * time.Minute, Policy: policy.Verdict{Decline: "amount over the limit"}})
	require.True(t, e.IsWorkflowCompleted())
	require.NoError(t, e.GetWorkflowError())
	var st payout.State
	require.NoError(t, e.GetWorkflowResult(&st))
	require.Equal(t, payout.StatusCancelled, st.Status)
	require.Equal(t, &payout.Failure{Code: payout.FailureCancelledByPolicy, Description: "amount over the limit"}, st.Failure)
}

func TestPayout_TransferRefusedWithoutACodeIsNotTakenForTheProvidersCode(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	e := env{s.NewTestWorkflowEnvironment(), t}
	e.RegisterWorkflowWithOptions(PayoutWorkflow, workflowRegisterOptions())
	e.RegisterActivity(acts)
	e.OnActivity(acts.VerifyDecision, mock.Anything, mock.Anything).Return(true, nil)
	e.at(time.Second, SignalTransferStarted, TransferStarted{Error: TransferRefused, Description: "build request: bad url",
		Known: true, Proof: "signed"})
	req := request()
	req.Transfer = &payout.Transfer{}
	e.ExecuteWorkflow(PayoutWorkflow, Input{ID: payoutID, Request: req})
	require.True(t, e.IsWorkflowCompleted())
	var st payout.State
	require.NoError(t, e.GetWorkflowResult(&st))
	require.Equal(t, payout.StatusFailed, st.Status)
	require.Equal(t, &payout.Failure{Code: payout.FailureProviderRejected, Description: "build request: bad url"}, st.Failure)
}
