package integration

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/client"
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
// on listening for its provider's word: the watcher of a payout that needs attention follows its history. A wait
// shorter than the end-only watcher's recheck (5 s) answers the mark too (outside review: it answered the
// needs_attention the payout had left, wait not met).
func TestWait_AGetWaitingForThePayoutsEndIsAnsweredByAnOperatorsMark(t *testing.T) {
	for _, wait := range []string{"30s", "5s"} {
		t.Run(wait, func(t *testing.T) {
			base, id, _ := heldPayout(t)
			got := make(chan response, 1)
			go func() {
				got <- do(t, base, http.MethodGet, "/v1/payouts/"+id+"?wait="+wait+"&until=succeeded", nil, "")
			}()
			time.Sleep(300 * time.Millisecond)
			res := resolveAs(t, base, "bob", id, `{"action":"mark_failed","reason":"no funds until Monday"}`)
			require.Equal(t, http.StatusAccepted, res.Status, string(res.Body))
			marked := time.Now()
			require.Equal(t, payout.StatusFailed, waitFor(t, id, payout.StatusFailed).Status)

			r := <-got
			require.Equal(t, http.StatusOK, r.Status, string(r.Body))
			require.Equal(t, payout.StatusFailed, r.state(t).Status,
				"answered %s after the mark, with the state the payout had left (Payout-Wait-Met: %s)",
				time.Since(marked), r.Header.Get("Payout-Wait-Met"))
			require.Equal(t, "true", r.Header.Get("Payout-Wait-Met"))
			require.Equal(t, "marked_failed", r.state(t).Failure.Code)
			require.True(t, workflowRunning(t, id), "the marked payout's run goes on")
		})
	}
}

// A GET waiting for the payout's end answers as soon as the payout succeeded, though its run stays open while its
// events are still being delivered to a backend that does not take them (EVENTS_URL): as a GET waiting for a
// status on the way (which follows the payout's history) is answered, not at the next recheck of the payout
// (outside review: it answered 10.6 s later).
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
	end := wait("wait=30s&until=succeeded")                      // end only
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
