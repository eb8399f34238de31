package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	pfclient "github.com/payoutflow/payoutflow/client"
	"github.com/payoutflow/payoutflow/payout"
)

// The tests create, read, list, confirm and cancel payouts through the Go client, as a backend does; what the
// client does not send (malformed bodies, wrong headers, other keys' scopes) goes raw through do.

// apiClient is a client of the API at base with who's key (one of testKeys), sending through rawClient: every
// request and answer is checked against the contract.
func apiClient(base, who string) *pfclient.Client {
	c, err := pfclient.New(base, st.secrets[who], pfclient.WithHTTPClient(rawClient),
		pfclient.WithPolling(20*time.Millisecond, 200*time.Millisecond))
	if err != nil {
		panic(err) // the stack's URL and keys are well-formed
	}
	return c
}

// createID creates a payout as the backend from a JSON body (read strictly as the client's request) under key,
// through the client, and returns its id.
func createID(t *testing.T, base, key, body string) string {
	t.Helper()
	return createPayout(t, base, key, body).ID
}

// createNew is createID for a payout the test wants new: 201 Created.
func createNew(t *testing.T, base, key, body string) string {
	t.Helper()
	p := createPayout(t, base, key, body)
	require.Equal(t, http.StatusCreated, p.Response.StatusCode, "payout %s is new", p.ID)
	return p.ID
}

// createPayout creates a payout as the backend from a JSON body (read strictly as the client's request) under
// key, through the client.
func createPayout(t *testing.T, base, key, body string) *pfclient.Payout {
	t.Helper()
	var req pfclient.CreateRequest
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&req), "the body is a client request: %s", body)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := apiClient(base, "backend").Create(ctx, req, &pfclient.CreateOptions{IdempotencyKey: key})
	require.NoError(t, err)
	require.NotEmpty(t, p.ID)
	return p
}

// mustDecide confirms or cancels (verb) payout id as who through the client, and wants it taken (202).
func mustDecide(t *testing.T, base, who, id, verb, reason string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := apiClient(base, who)
	var d *pfclient.Decision
	var err error
	switch verb {
	case "confirm":
		d, err = c.Confirm(ctx, id, reason)
	case "cancel":
		d, err = c.Cancel(ctx, id, reason)
	default:
		t.Fatalf("no decision %q", verb)
	}
	require.NoError(t, err, "%s of %s by %s", verb, id, who)
	require.Equal(t, http.StatusAccepted, d.Response.StatusCode)
	require.Equal(t, verb, d.Accepted)
}

// asState is the client's payout as the engine's own type, for the tests' assertions (the client's types mirror
// the API's JSON field for field: api.TestClientTypesMirrorTheAPIsJSON).
func asState(t *testing.T, p *pfclient.Payout) payout.State {
	t.Helper()
	b, err := json.Marshal(p)
	require.NoError(t, err)
	var s payout.State
	require.NoError(t, json.Unmarshal(b, &s))
	return s
}

func TestClient_CreateIsIdempotentByKeyAndErrorsAreTyped(t *testing.T) {
	ctx := context.Background()
	c := apiClient(st.api.URL, "backend")
	req := pfclient.CreateRequest{Provider: "bank131", Amount: pfclient.Amount{Value: 10000, Currency: "RUB"},
		Destination: pfclient.Destination{Type: pfclient.DestinationCard, Card: &pfclient.Card{Number: cardSucceeds}},
		Recipient:   pfclient.Recipient{FullName: "Ivanov Ivan"}}
	first, err := c.Create(ctx, req, nil)
	require.NoError(t, err)
	key := first.Response.IdempotencyKey
	require.True(t, strings.HasPrefix(key, "pf-"), "a key is generated: %q", key)
	require.Equal(t, http.StatusCreated, first.Response.StatusCode)
	require.Equal(t, payout.OwnedID("backend", key), first.ID, "the payout is named by its API key and idempotency key")

	again, err := c.Create(ctx, req, &pfclient.CreateOptions{IdempotencyKey: key})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, again.Response.StatusCode, "the same key and body: the same payout")
	require.Equal(t, first.ID, again.ID)

	other := req
	other.Amount.Value = 20000
	_, err = c.Create(ctx, other, &pfclient.CreateOptions{IdempotencyKey: key})
	var e *pfclient.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, http.StatusConflict, e.StatusCode)
	require.Equal(t, "idempotency_key_reused", e.Code)
	require.True(t, pfclient.IsConflict(err))

	// A read-only key may not create.
	_, err = apiClient(st.api.URL, "reader").Create(ctx, req, nil)
	require.ErrorIs(t, err, pfclient.ErrForbidden)

	_, err = c.Wait(ctx, first.ID, pfclient.StatusAwaitingApproval)
	require.NoError(t, err)
	mustDecide(t, st.api.URL, "alice", first.ID, "confirm", "")
	done, err := c.Wait(ctx, first.ID)
	require.NoError(t, err)
	require.Equal(t, pfclient.StatusSucceeded, done.Status)
	_, err = apiClient(st.api.URL, "alice").Confirm(ctx, first.ID, "")
	require.True(t, pfclient.IsConflict(err), "a confirm of a finished payout is refused: %v", err)
	_, err = c.Wait(ctx, first.ID, pfclient.StatusAwaitingApproval)
	require.ErrorIs(t, err, pfclient.ErrEnded, "a payout that ended is not waited for in vain")
}

func TestClient_ListsWithinCreatedAfterAndBeforeNewestFirst(t *testing.T) {
	ctx := context.Background()
	c := apiClient(st.api.URL, "backend")
	first := createPayout(t, st.api.URL, t.Name()+"-1", cardPayout(cardSucceeds))
	time.Sleep(20 * time.Millisecond)
	second := createPayout(t, st.api.URL, t.Name()+"-2", cardPayout(cardSucceeds))
	ours := func(params pfclient.ListParams) []string {
		var ids []string
		for s, err := range c.List(ctx, params) {
			require.NoError(t, err)
			if s.ID == first.ID || s.ID == second.ID {
				ids = append(ids, s.ID)
			}
		}
		return ids
	}
	window := pfclient.ListParams{CreatedAfter: first.CreatedAt, Limit: 1} // one a page: the iterator follows the tokens
	require.Eventually(t, func() bool { return len(ours(window)) == 2 }, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, []string{second.ID, first.ID}, ours(window), "newest first, from created_after on")
	require.Equal(t, []string{first.ID}, ours(pfclient.ListParams{CreatedAfter: first.CreatedAt, CreatedBefore: second.CreatedAt}),
		"created_before is before")

	for _, id := range []string{first.ID, second.ID} {
		_, err := c.Wait(ctx, id, pfclient.StatusAwaitingApproval)
		require.NoError(t, err)
		mustDecide(t, st.api.URL, "test", id, "cancel", "list window")
	}
}
