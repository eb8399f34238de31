package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
)

func TestLean_APayoutNamingItsVersionRunsUnderIt(t *testing.T) {
	e := newEnv(t)
	e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil)
	e.at(time.Second, SignalReadyToConfirm, event(providers.EventReadyToConfirm, providers.StateAwaitingConfirm))
	e.at(2*time.Second, SignalConfirm, payout.Decision{By: "alice"})
	e.OnActivity(acts.Confirm, mock.Anything, mock.Anything).Return(outcome(providers.StatePending), nil)
	e.at(3*time.Second, SignalPaymentFinish, event(providers.EventPaymentFinished, providers.StateSucceeded))
	e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(outcome(providers.StateSucceeded), nil)
	e.ExecuteWorkflow(PayoutWorkflow, Input{ID: payoutID, Request: request(), ApprovalTimeout: time.Hour,
		PollAfter: 10 * time.Minute, Version: StartVersion})
	require.True(t, e.IsWorkflowCompleted())
	require.NoError(t, e.GetWorkflowError())
	var s payout.State
	require.NoError(t, e.GetWorkflowResult(&s))
	require.Equal(t, payout.StatusSucceeded, s.Status)
}

func TestLean_AVersionThisWorkerDoesNotKnowFailsTheWorkflowTask(t *testing.T) {
	e := newEnv(t)
	e.ExecuteWorkflow(PayoutWorkflow, Input{ID: payoutID, Request: request(), Version: StartVersion + 1})
	require.Error(t, e.GetWorkflowError())
	require.Contains(t, e.GetWorkflowError().Error(), "TMPRL1100")
}
