package integration

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/policy"
)

func TestDecision_OnAFinishedPayoutSaysItIsFinished(t *testing.T) {
	// The backend key both creates and approves (one approver, as make run's dev key): once the payout succeeded, a
	// second confirm was told "backend already approved …; another person must".
	succeeded := create(t, st.api.URL, t.Name()+"-succeeded", cardPayout(cardSucceeds)).state(t).ID
	waitFor(t, succeeded, payout.StatusAwaitingApproval)
	require.Equal(t, http.StatusAccepted, decide(t, st.api.URL, "backend", succeeded, "confirm", "checked").Status)
	waitFor(t, succeeded, payout.StatusSucceeded)

	cancelled := create(t, st.api.URL, t.Name()+"-cancelled", cardPayout(cardSucceeds)).state(t).ID
	waitFor(t, cancelled, payout.StatusAwaitingApproval)
	require.Equal(t, http.StatusAccepted, decide(t, st.api.URL, "bob", cancelled, "cancel", "wrong card").Status)
	waitFor(t, cancelled, payout.StatusCancelled)

	tests := []struct {
		name, who, id, verb, says string
	}{
		{"confirm by who approved it", "backend", succeeded, "confirm", "succeeded"},
		{"confirm by another person", "alice", succeeded, "confirm", "succeeded"},
		{"cancel of a succeeded payout", "alice", succeeded, "cancel", "succeeded"},
		{"confirm of a cancelled payout", "alice", cancelled, "confirm", "cancelled by bob: wrong card"},
		{"cancel of a cancelled payout", "bob", cancelled, "cancel", "cancelled by bob: wrong card"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := decide(t, st.api.URL, tt.who, tt.id, tt.verb, "again")
			require.Equal(t, http.StatusConflict, r.Status, string(r.Body))
			code, _ := r.apiError(t)
			require.Equal(t, "payout_finished", code)
			require.Contains(t, string(r.Body), "is finished")
			require.Contains(t, string(r.Body), tt.says)
			require.NotContains(t, string(r.Body), "another person must")
		})
	}
}

func TestAPI_AWrongMethodOnAPathIs405WithAllow(t *testing.T) {
	id := payout.ID("no such payout")
	tests := []struct {
		method, path, allow string
	}{
		{http.MethodPut, "/v1/payouts", "GET, POST"},
		{http.MethodDelete, "/v1/payouts", "GET, POST"},
		{http.MethodDelete, "/v1/payouts/" + id, "GET"},
		{http.MethodPatch, "/v1/payouts/" + id, "GET"},
		{http.MethodGet, "/v1/payouts/" + id + "/confirm", "POST"},
		{http.MethodGet, "/v1/payouts/" + id + "/cancel", "POST"},
		{http.MethodGet, "/v1/payouts/" + id + "/resolve", "POST"},
		{http.MethodPost, "/v1/sbp/banks", "GET"},
		{http.MethodPost, "/v1/balances", "GET"},
		{http.MethodGet, "/webhooks/bank131", "POST"},
		{http.MethodPost, "/healthz", "GET"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := do(t, st.api.URL, tt.method, tt.path, nil, "")
			require.Equal(t, http.StatusMethodNotAllowed, r.Status, string(r.Body))
			code, _ := r.apiError(t)
			require.Equal(t, "method_not_allowed", code)
			for _, m := range strings.Split(tt.allow, ", ") {
				require.Contains(t, r.Header.Get("Allow"), m)
				require.Contains(t, string(r.Body), m, "the message names the methods allowed")
			}
		})
	}
	r := do(t, st.api.URL, http.MethodGet, "/v1/nothing-here", nil, "")
	require.Equal(t, http.StatusNotFound, r.Status, "a path that does not exist is still 404")
	code, _ := r.apiError(t)
	require.Equal(t, "not_found", code)
}

func TestPolicy_ADeclinedPayoutIsAnsweredWithItsFinalState(t *testing.T) {
	// A payout that policy declines outright was answered 201 status created, then cancelled silently: the backend
	// learned of the decline only by polling.
	base := policyAPI(t, testPolicy)
	tests := map[string]struct{ body, reason string }{
		"above the limit":   {amountPayout(9000001), "above"},
		"blocked recipient": {strings.Replace(cardPayout(cardSucceeds), "Ivanov Ivan", "Blocked Person", 1), "decline list"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r := create(t, base, t.Name(), tt.body)
			require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
			got := r.state(t)
			require.Equal(t, payout.StatusCancelled, got.Status, "the answer is the payout's final state")
			require.NotNil(t, got.Approval)
			require.Equal(t, policy.Actor, got.Approval.By)
			require.Contains(t, got.Approval.Reason, tt.reason)
			require.NotNil(t, got.Failure)
			require.Equal(t, payout.FailureCancelledByPolicy, got.Failure.Code)

			again := create(t, base, t.Name(), tt.body)
			require.Equal(t, http.StatusOK, again.Status, "a retry gets the same final state")
			require.Equal(t, payout.StatusCancelled, again.state(t).Status)
			require.Equal(t, got.ID, again.state(t).ID)
		})
	}
}
