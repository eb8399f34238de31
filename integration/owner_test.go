package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/payoutflow/payoutflow/internal/app"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/policy"
	"github.com/payoutflow/payoutflow/workflows"
)

// asKey is a request's headers as the named test key, with an idempotency key.
func asKey(who, idempotencyKey string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + st.secrets[who], "Idempotency-Key": idempotencyKey}
}

func TestIdempotencyKeys_AreScopedToTheAPIKeyThatCreatedThePayout(t *testing.T) {
	key := t.Name() + "-order-999"
	first := do(t, st.api.URL, http.MethodPost, "/v1/payouts", asKey("backend", key), cardPayout(cardSucceeds))
	require.Equal(t, http.StatusCreated, first.Status, string(first.Body))
	mine := first.state(t)

	// Another backend (maker holds create too) replays the same idempotency key with a body of its own.
	other := strings.NewReplacer("Ivanov Ivan", "Petrov Petr", `"order_id":"123"`, `"order_id":"999"`).Replace(cardPayout(cardSucceeds))
	second := do(t, st.api.URL, http.MethodPost, "/v1/payouts", asKey("maker", key), other)
	require.Equal(t, http.StatusCreated, second.Status, "another API key's idempotency key is its own: "+string(second.Body))
	theirs := second.state(t)
	require.NotEqual(t, mine.ID, theirs.ID)
	require.Equal(t, "Petrov Petr", theirs.Recipient.FullName)
	require.Equal(t, "maker", theirs.CreatedBy)
	require.NotContains(t, string(second.Body), "Ivanov Ivan", "nothing of the first backend's payout")

	again := do(t, st.api.URL, http.MethodPost, "/v1/payouts", asKey("maker", key), other)
	require.Equal(t, http.StatusOK, again.Status, "its own replay gets its own payout")
	require.Equal(t, theirs.ID, again.state(t).ID)
	r := do(t, st.api.URL, http.MethodGet, "/v1/payouts/"+theirs.ID, as("maker"), "")
	require.Equal(t, http.StatusOK, r.Status, "a backend reads its own payout")
	again = do(t, st.api.URL, http.MethodPost, "/v1/payouts", asKey("backend", key), cardPayout(cardSucceeds))
	require.Equal(t, http.StatusOK, again.Status)
	require.Equal(t, mine.ID, again.state(t).ID)
	waitFor(t, mine.ID, payout.StatusAwaitingApproval)
	waitFor(t, theirs.ID, payout.StatusAwaitingApproval)

	// A backend sees and steers only its own payouts: another's is not found, whatever it asks.
	for _, tt := range []struct{ method, path, body string }{
		{http.MethodGet, "/v1/payouts/" + mine.ID, ""},
		{http.MethodPost, "/v1/payouts/" + mine.ID + "/confirm", `{"reason":"not mine"}`},
		{http.MethodPost, "/v1/payouts/" + mine.ID + "/cancel", `{"reason":"not mine"}`},
		{http.MethodPost, "/v1/payouts/" + mine.ID + "/resolve", `{"action":"look_up"}`},
	} {
		r := do(t, st.api.URL, tt.method, tt.path, as("maker"), tt.body)
		require.Equal(t, http.StatusNotFound, r.Status, tt.method+" "+tt.path+": "+string(r.Body))
		code, _ := r.apiError(t)
		require.Equal(t, "payout_not_found", code)
		require.NotContains(t, string(r.Body), "Ivanov Ivan")
	}
	require.Eventually(t, func() bool {
		ids := listIDs(t, "maker")
		return ids[theirs.ID] && !ids[mine.ID]
	}, 10*time.Second, 50*time.Millisecond, "a backend's list holds its own payouts only")

	require.Eventually(t, func() bool {
		ids := eventPayouts(t, "maker")
		return ids[theirs.ID] && !ids[mine.ID]
	}, 20*time.Second, 100*time.Millisecond, "a backend pulls the events of its own payouts only")
	require.False(t, eventPayouts(t, "maker")[mine.ID], "never another backend's")

	// Operators (keys without create) see and steer every backend's payouts.
	require.Eventually(t, func() bool {
		ids := listIDs(t, "alice")
		return ids[theirs.ID] && ids[mine.ID]
	}, 10*time.Second, 50*time.Millisecond, "an operator lists every payout")
	for _, id := range []string{mine.ID, theirs.ID} {
		require.Equal(t, http.StatusOK, do(t, st.api.URL, http.MethodGet, "/v1/payouts/"+id, as("alice"), "").Status)
		require.Equal(t, http.StatusAccepted, decide(t, st.api.URL, "alice", id, "cancel", "scoping test").Status)
		waitFor(t, id, payout.StatusCancelled)
	}
}

// listIDs lists awaiting and cancelled payouts as who.
func listIDs(t *testing.T, who string) map[string]bool {
	t.Helper()
	r := do(t, st.api.URL, http.MethodGet, "/v1/payouts?"+url.Values{"limit": {"100"}, "status": {"awaiting_approval"}}.Encode(), as(who), "")
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var p struct {
		Payouts []struct {
			ID string `json:"id"`
		} `json:"payouts"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &p))
	ids := map[string]bool{}
	for _, s := range p.Payouts {
		ids[s.ID] = true
	}
	return ids
}

func TestIdempotencyKeys_APayoutCreatedByOlderCodeIsStillFoundByItsKey(t *testing.T) {
	// Before keys were scoped, the payout ID derived from the idempotency key alone (payout.ID). A backend retrying
	// such a create after the upgrade must get that payout, never a second one; another backend gets its own.
	key := t.Name()
	legacy := payout.ID(key)
	var req payout.Request
	require.NoError(t, json.Unmarshal([]byte(cardPayout(cardSucceeds)), &req))
	initial := payout.NewState(legacy, req, time.Now().UTC())
	initial.CreatedBy, initial.ApprovalsRequired = "backend", 1
	ctx := context.Background()
	_, err := st.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: legacy, TaskQueue: st.cfg.TaskQueue,
		Memo: map[string]any{"request_fingerprint": req.Fingerprint(app.FingerprintKey(st.codecKeys[0].Secret)), "initial_state": initial},
	}, workflows.WorkflowName, workflows.Input{ID: legacy, Request: req, CreatedBy: "backend", Policy: policy.Verdict{Approvers: 1}})
	require.NoError(t, err)
	waitFor(t, legacy, payout.StatusAwaitingApproval)

	r := create(t, st.api.URL, key, cardPayout(cardSucceeds))
	require.Equal(t, http.StatusOK, r.Status, "the retry finds the payout older code made: "+string(r.Body))
	require.Equal(t, legacy, r.state(t).ID)
	r = create(t, st.api.URL, key, amountPayout(20000))
	require.Equal(t, http.StatusConflict, r.Status, "another body under the same key is still refused")

	other := do(t, st.api.URL, http.MethodPost, "/v1/payouts", asKey("maker", key), cardPayout(cardSucceeds))
	require.Equal(t, http.StatusCreated, other.Status, string(other.Body))
	require.NotEqual(t, legacy, other.state(t).ID)
	require.Equal(t, http.StatusNotFound, do(t, st.api.URL, http.MethodGet, "/v1/payouts/"+legacy, as("maker"), "").Status)

	for _, id := range []string{legacy, other.state(t).ID} {
		waitFor(t, id, payout.StatusAwaitingApproval)
		require.Equal(t, http.StatusAccepted, decide(t, st.api.URL, "alice", id, "cancel", "legacy test").Status)
		waitFor(t, id, payout.StatusCancelled)
	}
}

// eventPayouts pulls every event GET /v1/events lists to who, and returns the payouts they are of.
func eventPayouts(t *testing.T, who string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	after := ""
	for range 100 {
		q := url.Values{"limit": {"100"}}
		if after != "" {
			q.Set("after", after)
		}
		r := do(t, st.api.URL, http.MethodGet, "/v1/events?"+q.Encode(), as(who), "")
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		var page struct {
			Events []struct {
				ID       string `json:"id"`
				PayoutID string `json:"payout_id"`
			} `json:"events"`
			HasMore bool `json:"has_more"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &page))
		for _, ev := range page.Events {
			ids[ev.PayoutID] = true
			after = ev.ID
		}
		if !page.HasMore {
			break
		}
	}
	return ids
}
