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
