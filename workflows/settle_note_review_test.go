package workflows

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/activities"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
)

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
}
