package deploytest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/payoutflow/payoutflow/internal/stacktest"
)

// payoutState is what the test reads of GET /v1/payouts/{id}.
type payoutState = stacktest.Payout

// api is the backend and the operators, calling the REST API through the Go client (a read is repeated after a
// 5xx: the API answers 5xx for a payout of the old release while no worker can answer its query); decisions are
// sent raw by Call, repeated after a 5xx, which the client would not do.
type api struct {
	t *testing.T
	stacktest.API
}

// create creates a payout as caller through the Go client and returns its id.
func (a *api) create(caller, name, body string) string {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := a.Create(ctx, caller, "deploytest-"+name, body)
	if err != nil {
		a.t.Fatalf("create %s: %v", name, err)
	}
	return p.ID
}

// get reads a payout, retrying for up to timeout.
func (a *api) get(id string, timeout time.Duration) (payoutState, error) {
	st, _, err := a.read(id, timeout)
	return st, err
}

// read reads a payout through the Go client, retrying for up to timeout, and says where the API read it from:
// "live" (its workflow answered, so a worker replayed it) or "published" (its memo, when no worker answered in
// time).
func (a *api) read(id string, timeout time.Duration) (payoutState, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	st, err := a.Get(ctx, "backend", id)
	if err != nil {
		return payoutState{}, "", err
	}
	source := st.Response.Header.Get("Payout-State-Source")
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
