package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/client"
	"github.com/payoutflow/payoutflow/payout"
)

// Review 14: requests the other tests do not make, on the real stack, through the contract transport (do).
func TestReview14_OddRequestsAreAnsweredAsTheContractSays(t *testing.T) {
	for _, tc := range []struct {
		name, method, path string
		status             int
	}{
		{"a bad page token is 400", http.MethodGet, "/v1/payouts?page_token=garbage", http.StatusBadRequest},
		{"an unknown payout is 404", http.MethodGet, "/v1/payouts/po_0123456789abcdef0123456789abcdef", http.StatusNotFound},
		{"a cursor from the future lists nothing", http.MethodGet, "/v1/events?after=evt_9999999999999999_po_x_0001", http.StatusOK},
		{"HEAD of the contract", http.MethodHead, "/v1/openapi.json", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r := do(t, st.api.URL, tc.method, tc.path, nil, "")
			require.Equal(t, tc.status, r.Status, string(r.Body))
			require.Less(t, time.Since(start), 3*time.Second)
		})
	}
}

// Review 14: a payout cancelled while it awaits approval tells created, awaiting_approval, cancelled, gapless.
func TestReview14_ACancelledPayoutsEventsAreGapless(t *testing.T) {
	r := create(t, st.api.URL, t.Name(), cardPayout(cardSucceeds))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	id := r.state(t).ID
	waitFor(t, id, payout.StatusAwaitingApproval)
	r = decide(t, st.api.URL, "alice", id, "cancel", "changed my mind")
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
	waitFor(t, id, payout.StatusCancelled)
	want := []string{client.EventPayoutCreated, client.EventPayoutAwaitingApproval, client.EventPayoutCancelled}
	var list []client.Event
	require.Eventually(t, func() bool { list = pulled(t, st.api.URL, id, ""); return len(list) >= len(want) }, 15*time.Second, 100*time.Millisecond)
	var types []string
	for i, ev := range list {
		require.Equal(t, i+1, ev.Sequence)
		types = append(types, ev.Type)
	}
	require.Equal(t, want, types)
}
