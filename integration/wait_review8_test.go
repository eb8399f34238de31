package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/client"
	"github.com/payoutflow/payoutflow/payout"
)

// A GET waiting for the payout's end answers as soon as the payout succeeded, though its run stays open while its
// events are still being delivered to a backend that does not take them (EVENTS_URL): as a GET waiting for a
// status on the way (which follows the payout's history) is answered, not at the next recheck of the payout.
func TestWait_AGetForThePayoutsEndAnswersWhenItSucceededThoughItsEventsAreStillBeingDelivered(t *testing.T) {
	rcv := newReceiver(t, func(ev client.Event, _ int) int {
		if ev.Type == client.EventPayoutSucceeded {
			return 0 // a backend that does not answer: the delivery is tried again and again
		}
		return http.StatusOK
	})
	base := eventsAPI(t, rcv)
	r := create(t, base, t.Name(), cardPayout(cardSucceeds))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	id := r.state(t).ID
	waitFor(t, id, payout.StatusAwaitingApproval)

	type answer struct {
		r  response
		at time.Time
	}
	wait := func(query string) <-chan answer {
		got := make(chan answer, 1)
		go func() {
			r := do(t, base, http.MethodGet, "/v1/payouts/"+id+"?"+query, nil, "")
			got <- answer{r, time.Now()}
		}()
		return got
	}
	end := wait("wait=30s&until=succeeded")                      // end only: close-event long poll
	onTheWay := wait("wait=30s&until=needs_attention,succeeded") // follows the history
	time.Sleep(300 * time.Millisecond)
	mustDecide(t, base, "alice", id, "confirm", "checked")

	control, got := <-onTheWay, <-end
	for _, a := range []answer{control, got} {
		require.Equal(t, http.StatusOK, a.r.Status, string(a.r.Body))
		require.Equal(t, "true", a.r.Header.Get("Payout-Wait-Met"))
		require.Equal(t, payout.StatusSucceeded, a.r.state(t).Status)
	}
	require.True(t, workflowRunning(t, id), "the run goes on delivering payout.succeeded")
	require.Less(t, got.at.Sub(control.at), 2*time.Second,
		"the GET waiting for the end answered %s after the one following the history", got.at.Sub(control.at))
}

// A GET that waits less than the recheck (here 5 s) for the payout's end, while an operator marks it failed, answers
// the state of the moment its wait passed at the latest (README: "or when wait has passed, with the state of that
// moment"): failed, not the needs_attention the payout left seconds before.
func TestWait_AShortGetForThePayoutsEndAnswersAnOperatorsMarkMadeWhileItWaited(t *testing.T) {
	base, id, _ := heldPayout(t)
	got := make(chan response, 1)
	go func() { got <- do(t, base, http.MethodGet, "/v1/payouts/"+id+"?wait=5s&until=succeeded", nil, "") }()
	time.Sleep(300 * time.Millisecond)
	res := resolveAs(t, base, "bob", id, `{"action":"mark_failed","reason":"no funds until Monday"}`)
	require.Equal(t, http.StatusAccepted, res.Status, string(res.Body))
	marked := time.Now()
	require.Equal(t, payout.StatusFailed, waitFor(t, id, payout.StatusFailed).Status)
	t.Logf("the payout read failed %s after the mark", time.Since(marked))

	r := <-got
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, payout.StatusFailed, r.state(t).Status,
		"answered %s after the mark, with the state the payout had left (Payout-Wait-Met: %s)",
		time.Since(marked), r.Header.Get("Payout-Wait-Met"))
	require.Equal(t, "true", r.Header.Get("Payout-Wait-Met"))
}
