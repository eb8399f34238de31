package integration

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
)

// A GET with wait answers as soon as the payout reaches a status of until (or a final one), woken by what its
// workflow publishes; when wait passes first, it answers the state of that moment. Either way 200, and
// Payout-Wait-Met tells which.
func TestWait_AGetAnswersWhenThePayoutReachesAStatusOrWhenTheWaitPasses(t *testing.T) {
	base := st.api.URL
	id := createNew(t, base, t.Name(), cardPayout(cardSucceeds))

	start := time.Now()
	r := do(t, base, http.MethodGet, "/v1/payouts/"+id+"?wait=30s&until=awaiting_approval", nil, "")
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, payout.StatusAwaitingApproval, r.state(t).Status)
	require.Equal(t, "true", r.Header.Get("Payout-Wait-Met"))
	require.Less(t, time.Since(start), 25*time.Second, "answered when the payout got there, not when the wait passed")

	start = time.Now()
	r = do(t, base, http.MethodGet, "/v1/payouts/"+id+"?wait=700ms&until=confirmed", nil, "")
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, "false", r.Header.Get("Payout-Wait-Met"))
	require.Equal(t, payout.StatusAwaitingApproval, r.state(t).Status, "the state when the wait passed")
	require.GreaterOrEqual(t, time.Since(start), 700*time.Millisecond)

	// Several waiters of one payout share one watcher; each is answered once the payout ends.
	var wg sync.WaitGroup
	got := make([]response, 5)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = do(t, base, http.MethodGet, "/v1/payouts/"+id+"?wait=30s", nil, "")
		}()
	}
	time.Sleep(300 * time.Millisecond)
	mustDecide(t, base, "alice", id, "confirm", "checked")
	wg.Wait()
	for _, r := range got {
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		require.Equal(t, "true", r.Header.Get("Payout-Wait-Met"))
		require.Equal(t, payout.StatusSucceeded, r.state(t).Status)
		require.Equal(t, "published", r.Header.Get("Payout-State-Source"))
	}
	require.True(t, r.state(t).UpdatedAt.Before(got[0].state(t).UpdatedAt), "the waiters saw what came after")
}

func TestWait_BadWaitOrUntilIsRefusedNamingIt(t *testing.T) {
	id := createNew(t, st.api.URL, t.Name(), cardPayout(cardSucceeds))
	for _, tc := range []struct{ query, field, code string }{
		{"wait=61s", "wait", "invalid_wait"},
		{"wait=abc", "wait", "invalid_wait"},
		{"wait=-1s", "wait", "invalid_wait"},
		{"wait=0s", "wait", "invalid_wait"},
		{"wait=10s&until=awaiting_approval,paid", "until", "invalid_status"},
		{"until=succeeded", "until", "wait_required"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			r := do(t, st.api.URL, http.MethodGet, "/v1/payouts/"+id+"?"+tc.query, nil, "")
			require.Equal(t, http.StatusBadRequest, r.Status, string(r.Body))
			code, field := r.apiError(t)
			require.Equal(t, tc.code, code)
			require.Equal(t, tc.field, field)
		})
	}
	r := do(t, st.api.URL, http.MethodGet, "/v1/payouts/"+id+"?wait=10s&until=paid", nil, "")
	require.Contains(t, string(r.Body), `\"paid\"`, "the bad status is named")
}

// A GET that waits for the payout's end is answered when an operator marks it, though the marked payout's run goes
// on listening for its provider's word: the watcher of a payout that needs attention follows its history.
func TestWait_AGetWaitingForThePayoutsEndIsAnsweredByAnOperatorsMark(t *testing.T) {
	base, id, _ := heldPayout(t)
	got := make(chan response, 1)
	go func() { got <- do(t, base, http.MethodGet, "/v1/payouts/"+id+"?wait=30s&until=succeeded", nil, "") }()
	time.Sleep(300 * time.Millisecond)
	res := resolveAs(t, base, "bob", id, `{"action":"mark_failed","reason":"no funds until Monday"}`)
	require.Equal(t, http.StatusAccepted, res.Status, string(res.Body))

	r := <-got
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, "true", r.Header.Get("Payout-Wait-Met"))
	require.Equal(t, payout.StatusFailed, r.state(t).Status)
	require.Equal(t, "marked_failed", r.state(t).Failure.Code)
	require.True(t, workflowRunning(t, id), "the marked payout's run goes on")
}
