package integration

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	tclient "go.temporal.io/sdk/client"

	"github.com/payoutflow/payoutflow/client"
	"github.com/payoutflow/payoutflow/internal/app"
	"github.com/payoutflow/payoutflow/internal/config"
	"github.com/payoutflow/payoutflow/payout"
	bank131sandbox "github.com/payoutflow/payoutflow/providers/bank131/sandbox"
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

// Review 14: a payout whose endpoint is down while it continues as new (a long wait for the provider) and while its
// worker is replaced still delivers each of its events under one id, in sequence, gapless, the ids GET /v1/events
// lists; no attempt carries an id the pull does not know.
func TestReview14_EventIDsHoldAcrossContinueAsNewAndAWorkerRestart(t *testing.T) {
	var mu sync.Mutex
	down := true
	rcv := newReceiver(t, func(client.Event, int) int {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	st.sandbox.SetNoWebhooks(true)
	t.Cleanup(func() { st.sandbox.SetNoWebhooks(false) })
	cfg := st.cfg
	cfg.TaskQueue = "events-" + strings.ReplaceAll(t.Name(), "/", "-")
	cfg.PollAfter, cfg.PollMax, cfg.PollsPerRun = 5*time.Millisecond, 5*time.Millisecond, 3
	cfg.Events = config.Events{Timeout: 500 * time.Millisecond, RetryMax: 200 * time.Millisecond, Settle: 300 * time.Millisecond, CommitBound: 3 * time.Second,
		Endpoints: []config.EventEndpoint{{URL: rcv.srv.URL + "/payoutflow", Secrets: []string{rcv.secret}, For: config.EveryPayout}}}
	w := app.NewWorkerWithEvents(st.client, cfg.TaskQueue, st.codecKeys, cfg.Events, st.providers...)
	require.NoError(t, w.Start())
	base := newServer(t, st.newAPI(cfg))

	id := createNew(t, base, t.Name(), cardPayout(bank131sandbox.SandboxCardErrorThenSucceeds))
	waitFor(t, id, payout.StatusAwaitingApproval)
	mustDecide(t, base, "alice", id, "confirm", "checked")
	time.Sleep(time.Second) // deliveries tried while down, the payout polling and continuing as new
	w.Stop()
	w2 := app.NewWorkerWithEvents(st.client, cfg.TaskQueue, st.codecKeys, cfg.Events, st.providers...)
	require.NoError(t, w2.Start())
	t.Cleanup(w2.Stop)
	s := waitFor(t, id, payout.StatusSucceeded)
	require.GreaterOrEqual(t, len(runsOf(t, id)), 2, "the payout continued as new: %v", notes(s))

	mu.Lock()
	down = false
	mu.Unlock()
	var list []client.Event
	require.Eventually(t, func() bool {
		list = pulled(t, base, id, "")
		return len(list) > 0 && list[len(list)-1].Type == client.EventPayoutSucceeded
	}, 20*time.Second, 100*time.Millisecond)
	var got []client.Event
	require.Eventually(t, func() bool { got, _, _ = rcv.events(); return len(got) >= len(list) }, 30*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool { return !workflowRunning(t, id) }, 20*time.Second, 50*time.Millisecond)
	got, attempts, refused := rcv.events()
	require.Zero(t, refused)
	ids := map[string]bool{}
	for i, ev := range list {
		require.Equal(t, i+1, ev.Sequence, "gapless: %v", list)
		ids[ev.ID] = true
	}
	for id := range attempts {
		require.True(t, ids[id], "an attempt carried event id %s, which GET /v1/events does not list", id)
	}
	var order []int
	seen := map[string]bool{}
	for _, ev := range got {
		if !seen[ev.ID] {
			seen[ev.ID] = true
			order = append(order, ev.Sequence)
		}
	}
	require.Len(t, order, len(list), "every listed event was delivered")
	require.IsIncreasing(t, order, "delivered in sequence order")
}

// slowStart is the stack's Temporal client whose ExecuteWorkflow is slow: Temporal under load, or the client
// retrying an unavailable frontend, as happens in production.
type slowStart struct {
	tclient.Client
	delay time.Duration
}

func (s slowStart) ExecuteWorkflow(ctx context.Context, opts tclient.StartWorkflowOptions, wf any, args ...any) (tclient.WorkflowRun, error) {
	time.Sleep(s.delay)
	return s.Client.ExecuteWorkflow(ctx, opts, wf, args...)
}

// Review 14: a backend that pulls GET /v1/events with its cursor must see every event once. The API stamps
// payout.created with its clock before it starts the workflow; when the start takes longer than EVENTS_SETTLE, the
// event appears with an id the backend's cursor has already passed (another payout's later event was listed
// meanwhile), and the backend never reads it.
func TestReview14_APullingBackendSeesEveryPayoutsCreatedEvent(t *testing.T) {
	cfg := st.cfg
	cfg.Events = config.Events{Settle: 300 * time.Millisecond}
	fast := newServer(t, st.newAPI(cfg))
	slow := newServer(t, app.NewAPI(cfg, app.API{Client: slowStart{Client: st.client, delay: 2 * time.Second},
		DataConverter: st.dc, CodecKeys: st.codecKeys, Logger: st.logger(), Keys: st.keys, Policy: st.policy,
		Providers: st.registry()}))

	// The backend follows the list from now on, as it does all day.
	c := apiClient(fast, "backend")
	cursor := ""
	for {
		page, err := c.Events(context.Background(), cursor, 100)
		require.NoError(t, err)
		if len(page.Events) > 0 {
			cursor = page.Events[len(page.Events)-1].ID
		}
		if !page.HasMore {
			break
		}
	}
	seen := map[string][]string{} // by payout: the types the backend read
	poll := func() {
		for {
			page, err := c.Events(context.Background(), cursor, 100)
			require.NoError(t, err)
			for _, ev := range page.Events {
				seen[ev.PayoutID] = append(seen[ev.PayoutID], ev.Type)
				cursor = ev.ID
			}
			if !page.HasMore {
				return
			}
		}
	}

	slowID := make(chan string, 1)
	go func() {
		r := create(t, slow, t.Name()+"-slow", cardPayout(cardSucceeds))
		slowID <- r.state(t).ID
	}()
	time.Sleep(100 * time.Millisecond)
	fastID := createNew(t, fast, t.Name()+"-fast", cardPayout(cardSucceeds))
	var id string
	for id == "" {
		poll()
		select {
		case id = <-slowID:
		case <-time.After(100 * time.Millisecond):
		}
	}
	waitFor(t, id, payout.StatusAwaitingApproval)
	waitFor(t, fastID, payout.StatusAwaitingApproval)
	require.Eventually(t, func() bool {
		poll()
		return len(seen[id]) > 0 && seen[id][len(seen[id])-1] == client.EventPayoutAwaitingApproval &&
			len(seen[fastID]) == 2
	}, 15*time.Second, 100*time.Millisecond, "read: %v", seen)
	require.Equal(t, []string{client.EventPayoutCreated, client.EventPayoutAwaitingApproval}, seen[fastID])
	require.Equal(t, []string{client.EventPayoutCreated, client.EventPayoutAwaitingApproval}, seen[id],
		"the backend following the list missed the slow-started payout's payout.created")
}

// Review 14: a payout that continued as new (a long wait for its provider) is one payout: the list, read through
// the client's iterator, gives it once, with its current status. Visibility holds one execution per run, and the
// list's query does not leave out the runs that continued as new.
func TestReview14_AContinuedPayoutIsListedOnceWithItsCurrentStatus(t *testing.T) {
	base, id := continuedPayout(t, st.cfg)
	require.GreaterOrEqual(t, len(runsOf(t, id)), 2, "the payout continued as new")

	c := apiClient(base, "backend")
	var statuses []client.Status
	require.Eventually(t, func() bool {
		statuses = nil
		for s, err := range c.List(context.Background(), client.ListParams{Provider: "bank131", Limit: 100}) {
			require.NoError(t, err)
			if s.ID == id {
				statuses = append(statuses, s.Status)
			}
		}
		return len(statuses) > 0 && statuses[0] == client.StatusSucceeded
	}, 10*time.Second, 200*time.Millisecond)
	assert.Equal(t, []client.Status{client.StatusSucceeded}, statuses, "payout %s listed once per run", id)

	var stale []client.Status
	for s, err := range c.List(context.Background(), client.ListParams{Status: client.StatusNeedsAttention, Limit: 100}) {
		require.NoError(t, err)
		if s.ID == id {
			stale = append(stale, s.Status)
		}
	}
	require.Empty(t, stale, "a succeeded payout is not listed as needing attention")
}

// Review 14: the contract lists created_after and created_before on GET /v1/payouts and the client sends them; the
// API must take them. (The contract transport cannot see this drift: 400 is a declared answer.)
func TestReview14_TheListTakesTheCreationBoundsTheContractAndClientOffer(t *testing.T) {
	c := apiClient(st.api.URL, "backend")
	for _, err := range c.List(context.Background(), client.ListParams{CreatedAfter: time.Now().Add(-time.Hour), CreatedBefore: time.Now(), Limit: 5}) {
		require.NoError(t, err)
	}
}
