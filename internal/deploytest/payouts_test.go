package deploytest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/payoutflow/payoutflow/internal/stacktest"
)

// payoutState is what the test reads of GET /v1/payouts/{id}.
type payoutState = stacktest.Payout

// api is the backend and the operators, calling the REST API (it calls again after a 5xx: the API answers 5xx for
// a payout of the old release while no worker can answer its query).
type api struct {
	t *testing.T
	stacktest.API
}

// create creates a payout as caller and returns its id.
func (a *api) create(caller, name, body string) string {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	status, b, err := a.Call(ctx, caller, http.MethodPost, "/v1/payouts", map[string]string{"Idempotency-Key": "deploytest-" + name}, body)
	if err != nil || (status != http.StatusCreated && status != http.StatusOK) {
		a.t.Fatalf("create %s: %d %v %s", name, status, err, b)
	}
	var st payoutState
	if err := json.Unmarshal(b, &st); err != nil || st.ID == "" {
		a.t.Fatalf("create %s: %v %s", name, err, b)
	}
	return st.ID
}

// get reads a payout, retrying for up to timeout.
func (a *api) get(id string, timeout time.Duration) (payoutState, error) {
	st, _, err := a.read(id, timeout)
	return st, err
}

// read reads a payout, retrying for up to timeout, and says where the API read it from: "live" (its workflow
// answered, so a worker replayed it) or "published" (its memo, when no worker answered in time).
func (a *api) read(id string, timeout time.Duration) (payoutState, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	status, b, h, err := a.CallH(ctx, "backend", http.MethodGet, "/v1/payouts/"+id, nil, "")
	if err != nil {
		return payoutState{}, "", err
	}
	if status != http.StatusOK {
		return payoutState{}, "", fmt.Errorf("GET /v1/payouts/%s: %d %s", id, status, b)
	}
	var st payoutState
	if err := json.Unmarshal(b, &st); err != nil {
		return st, "", fmt.Errorf("GET /v1/payouts/%s: %w: %s", id, err, b)
	}
	source := h.Get("Payout-State-Source")
	if source == "" {
		source = "live" // an API from before states were published reads only live
	}
	return st, source, nil
}

// waitFor polls a payout until cond holds, and fails the test with the payout's timeline when it does not within
// timeout or the payout ends otherwise.
func (a *api) waitFor(name, id, what string, timeout time.Duration, cond func(payoutState) bool) payoutState {
	a.t.Helper()
	deadline := time.Now().Add(timeout)
	var st payoutState
	var err error
	for time.Now().Before(deadline) {
		st, err = a.get(id, time.Until(deadline))
		if err == nil && cond(st) {
			return st
		}
		if err == nil && st.Final() {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		a.t.Fatalf("%s: not %s within %s: %v", name, what, timeout, err)
	}
	a.t.Fatalf("%s: not %s within %s: %s", name, what, timeout, st)
	return st
}

// decide confirms or cancels a payout as caller and wants 202.
func (a *api) decide(caller, name, id, verb string) {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	status, b, err := a.Call(ctx, caller, http.MethodPost, "/v1/payouts/"+id+"/"+verb, nil, `{"reason":"deploy test"}`)
	if err != nil || status != http.StatusAccepted {
		st, _ := a.get(id, 10*time.Second)
		a.t.Fatalf("%s: %s by %s: %d %v %s\n%s", name, verb, caller, status, err, b, st)
	}
}
