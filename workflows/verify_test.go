package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
)

// Failed before its fix (CI, TestCluster): a worker was killed while bePaid asked to verify a payout; the API
// stopped waiting and told bePaid no, and the payout, taking the question on another worker later, recorded the
// transaction as accepted and as its own. A verification taken after its AnswerBy is declined, and said so.
func TestPayout_VerificationTakenAfterItsAnswerByIsDeclined(t *testing.T) {
	tests := []struct {
		name string
		// answerBy is AnswerBy relative to when the payout takes the question; 0: none.
		answerBy time.Duration
		approved bool
		note     string
	}{
		{name: "in time", answerBy: time.Second, approved: true, note: "verification of transaction 1-abc accepted"},
		{name: "no deadline", approved: true, note: "verification of transaction 1-abc accepted"},
		{name: "too late", answerBy: -time.Second, note: "verification of transaction 1-abc answered too late, declined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnvWithoutSession(t)
			e.askedFirst()
			uid := "1-abc"
			e.OnActivity(acts.Submit, mock.Anything, mock.Anything).Return(providers.Outcome{
				Ref: providers.Ref{PayoutID: payoutID, SessionID: uid}, State: providers.StatePending}, nil).Once()
			final := providers.StateSucceeded
			if !tt.approved {
				final = providers.StateFailed // bePaid fails a payout whose verification was declined
			}
			e.OnActivity(acts.Status, mock.Anything, mock.Anything).Return(providers.Outcome{
				Ref: providers.Ref{PayoutID: payoutID, SessionID: uid}, State: final}, nil).Maybe()
			e.at(time.Minute, SignalConfirm, payout.Decision{By: "alice"})
			var answer *providers.VerificationAnswer
			e.RegisterDelayedCallback(func() {
				v := providers.Verification{Provider: "bepaid", PayoutID: payoutID, TransactionID: uid,
					Amount: payout.Amount{Value: 10000, Currency: "RUB"}}
				if tt.answerBy != 0 {
					v.AnswerBy = e.Now().Add(tt.answerBy)
				}
				e.verify(v, func(a providers.VerificationAnswer, err error) {
					require.NoError(t, err)
					answer = &a
				})
			}, 2*time.Minute)
			e.at(3*time.Minute, SignalPaymentFinish, providers.Event{Kind: providers.EventPaymentFinished, Outcome: providers.Outcome{
				Ref: providers.Ref{PayoutID: payoutID, SessionID: uid}, State: final}})

			st := e.runBeforeSubmit()
			t.Logf("status %s, notes:\n%v", st.Status, notes(st))
			require.NotNil(t, answer, "the verification was answered")
			require.Equal(t, tt.approved, answer.Approved, answer.Message)
			require.True(t, hasNote(st, tt.note), "the history says what the provider was told")
			if tt.approved {
				require.Equal(t, uid, st.ProviderRefs["verified_transaction"])
				return
			}
			require.Equal(t, "answered too late", answer.Message)
			require.Empty(t, st.ProviderRefs["verified_transaction"], "a transaction declined is not the payout's")
			require.False(t, hasNote(st, "accepted"), "nothing in the history says accepted")
		})
	}
}
