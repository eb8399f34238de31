package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/api"
	pfclient "github.com/payoutflow/payoutflow/client"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/policy"
	"github.com/payoutflow/payoutflow/workflows"
)

func as(who string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + st.secrets[who]}
}

func TestAPIKeys_EveryCallNeedsAKeyWithItsScope(t *testing.T) {
	id := createID(t, st.api.URL, t.Name(), cardPayout(cardSucceeds))
	waitFor(t, id, payout.StatusAwaitingApproval)
	body := cardPayout(cardSucceeds)
	tests := []struct {
		name, method, path, body string
		headers                  map[string]string
		status                   int
		code                     string
	}{
		{"create without a key", http.MethodPost, "/v1/payouts", body, map[string]string{"Authorization": ""}, 401, "unauthorized"},
		{"create with a wrong key", http.MethodPost, "/v1/payouts", body, map[string]string{"Authorization": "Bearer pf_guess"}, 401, "unauthorized"},
		{"create with a read key", http.MethodPost, "/v1/payouts", body, as("reader"), 403, "forbidden"},
		{"create with an approve key", http.MethodPost, "/v1/payouts", body, as("alice"), 403, "forbidden"},
		{"read without a key", http.MethodGet, "/v1/payouts/" + id, "", map[string]string{"Authorization": ""}, 401, "unauthorized"},
		{"read with a create key", http.MethodGet, "/v1/payouts/" + id, "", as("creator"), 403, "forbidden"},
		{"list with a create key", http.MethodGet, "/v1/payouts", "", as("creator"), 403, "forbidden"},
		{"confirm with a read key", http.MethodPost, "/v1/payouts/" + id + "/confirm", "{}", as("reader"), 403, "forbidden"},
		{"cancel with a create key", http.MethodPost, "/v1/payouts/" + id + "/cancel", "{}", as("creator"), 403, "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{"Idempotency-Key": t.Name()}
			for k, v := range tt.headers {
				h[k] = v
			}
			r := do(t, st.api.URL, tt.method, tt.path, h, tt.body)
			require.Equal(t, tt.status, r.Status, string(r.Body))
			code, _ := r.apiError(t)
			require.Equal(t, tt.code, code)
			require.False(t, payoutStarted(t, t.Name()), "a refused create starts nothing")
		})
	}
	require.Equal(t, payout.StatusAwaitingApproval, get(t, id).Status, "refused decisions changed nothing")

	r := do(t, st.api.URL, http.MethodGet, "/v1/payouts/"+id, as("reader"), "")
	require.Equal(t, http.StatusOK, r.Status, "the read scope reads")
	r = decide(t, st.api.URL, "carol", id, "cancel", "testing scopes")
	require.Equal(t, http.StatusAccepted, r.Status, "the approve scope cancels")
	done := waitFor(t, id, payout.StatusCancelled)
	require.Equal(t, "carol", done.Approval.By, "the approver is the caller's key")
	require.Equal(t, "backend", done.CreatedBy)
}

func TestAPIKeys_ReservedNamesAreRefused(t *testing.T) {
	for _, name := range []string{"policy", "PayoutFlow"} {
		_, err := api.NewKeys([]api.Key{{Name: name, SHA256: api.HashSecret("x"), Scopes: []string{api.ScopeApprove}}})
		require.ErrorContains(t, err, "reserved", name)
	}
}

func TestAPIKeys_FileHoldsHashesOnly(t *testing.T) {
	dir := t.TempDir()
	path, err := api.EnsureDevKeys(dir)
	require.NoError(t, err)
	secret, err := os.ReadFile(filepath.Join(dir, "dev-api-key"))
	require.NoError(t, err)
	stored, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NotContains(t, string(stored), strings.TrimSpace(string(secret)))
	require.Contains(t, string(stored), api.HashSecret(strings.TrimSpace(string(secret))))
	_, err = api.LoadKeys(path)
	require.NoError(t, err)
}

// policyAPI serves the shared stack's API with a policy of its own.
func policyAPI(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.json")
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	pol, err := policy.Load(path)
	require.NoError(t, err)
	return newServer(t, st.newAPIWithPolicy(st.cfg, pol))
}

const testPolicy = `{
  "rules": [{"name": "cards", "provider": "bank131", "currency": "RUB",
             "auto_approve_max": 5000, "two_approvers_from": 1000000, "decline_above": 9000000}],
  "decline_recipients": ["Blocked Person"]
}`

func amountPayout(value int64) string {
	return strings.Replace(cardPayout(cardSucceeds), `"value":10000`, `"value":`+jsonInt(value), 1)
}

func jsonInt(v int64) string { b, _ := json.Marshal(v); return string(b) }

func TestPolicy_SmallPayoutIsApprovedByPolicyAlone(t *testing.T) {
	base := policyAPI(t, testPolicy)
	id := createID(t, base, t.Name(), amountPayout(5000))
	done := waitFor(t, id, payout.StatusSucceeded)
	require.Equal(t, policy.Actor, done.Approval.By)
	require.Contains(t, done.Approval.Reason, "within the automatic approval limit")
	require.Len(t, ledgerFor(id), 1)
}

func TestPolicy_LargePayoutNeedsTwoPeopleAndNotItsCreator(t *testing.T) {
	base := policyAPI(t, testPolicy)
	r := do(t, base, http.MethodPost, "/v1/payouts", map[string]string{"Idempotency-Key": t.Name(),
		"Authorization": "Bearer " + st.secrets["maker"]}, amountPayout(1000000))
	require.Equal(t, http.StatusCreated, r.Status, string(r.Body))
	id := r.state(t).ID
	require.Equal(t, 2, r.state(t).ApprovalsRequired)
	waitFor(t, id, payout.StatusAwaitingApproval)

	r = decide(t, base, "maker", id, "confirm", "my own")
	require.Equal(t, http.StatusForbidden, r.Status)
	code, _ := r.apiError(t)
	require.Equal(t, "creator_cannot_approve", code)

	mustDecide(t, base, "alice", id, "confirm", "first look")
	require.Eventually(t, func() bool { return len(get(t, id).Approvals) == 1 }, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, payout.StatusAwaitingApproval, get(t, id).Status, "one of two is not enough")
	require.Empty(t, ledgerFor(id))

	r = decide(t, base, "alice", id, "confirm", "again")
	require.Equal(t, http.StatusConflict, r.Status)
	code, _ = r.apiError(t)
	require.Equal(t, "already_approved", code)

	// A second approval typed into Temporal UI names someone, but proves nothing: it does not count.
	require.NoError(t, st.raw.SignalWorkflow(context.Background(), id, "", workflows.SignalConfirm,
		map[string]string{"by": "carol", "reason": "typed in the UI"}))
	carolIgnored := func(s payout.State) bool {
		return slices.ContainsFunc(notes(s), func(n string) bool {
			return strings.HasPrefix(n, "confirm by carol ignored: where two people must approve")
		})
	}
	require.Eventually(t, func() bool { return carolIgnored(held(t, id)) }, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, payout.StatusAwaitingApproval, get(t, id).Status)

	r = do(t, base, http.MethodPost, "/v1/payouts/"+id+"/confirm", as("bob"), `{"reason":"card 4242424242424242"}`)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, "no card number in a reason")

	mustDecide(t, base, "bob", id, "confirm", "second look")
	done := waitFor(t, id, payout.StatusSucceeded)
	require.Equal(t, "alice and bob", done.Approval.By)
	require.True(t, carolIgnored(done), "a GET shows the note once the payout publishes again")
	require.Len(t, ledgerFor(id), 1)
}

func TestPolicy_DeclinedOutrightNeverReachesTheBank(t *testing.T) {
	base := policyAPI(t, testPolicy)
	tests := map[string]string{
		"above the limit":   amountPayout(9000001),
		"blocked recipient": strings.Replace(cardPayout(cardSucceeds), "Ivanov Ivan", "Blocked Person", 1),
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			id := createID(t, base, t.Name(), body)
			done := waitFor(t, id, payout.StatusCancelled)
			require.Equal(t, policy.Actor, done.Approval.By)
			require.NotEmpty(t, done.Approval.Reason)
			require.Empty(t, done.ProviderRefs, "no session was opened at the bank")
		})
	}
}

func TestPolicy_DeadlineCancelsAtTheBank(t *testing.T) {
	base := policyAPI(t, `{"approval_timeout": "2s", "rules": []}`)
	id := createID(t, base, t.Name(), cardPayout(cardSucceeds))
	waitFor(t, id, payout.StatusAwaitingApproval)
	done := waitFor(t, id, payout.StatusCancelled)
	require.Equal(t, workflows.SystemActor, done.Approval.By)
	require.Equal(t, "approval deadline passed", done.Approval.Reason)
	require.Equal(t, payout.FailureApprovalExpired, done.Failure.Code)
}

// list sends a raw GET /v1/payouts with query: for the queries the client would not send.
func list(t *testing.T, query url.Values) response {
	t.Helper()
	return do(t, st.api.URL, http.MethodGet, "/v1/payouts?"+query.Encode(), nil, "")
}

func TestListPayouts_FiltersAndPages(t *testing.T) {
	a := createID(t, st.api.URL, t.Name()+"-a", cardPayout(cardSucceeds))
	b := createID(t, st.api.URL, t.Name()+"-b", cardPayout(cardSucceeds))
	waitFor(t, a, payout.StatusAwaitingApproval)
	waitFor(t, b, payout.StatusAwaitingApproval)

	ctx := context.Background()
	c := apiClient(st.api.URL, "backend")
	awaiting := pfclient.ListParams{Status: pfclient.StatusAwaitingApproval, Provider: "bank131", Limit: 100}
	var waiting []pfclient.Summary
	require.Eventually(t, func() bool {
		waiting = waiting[:0]
		for s, err := range c.List(ctx, awaiting) {
			if err != nil {
				return false
			}
			waiting = append(waiting, s)
		}
		return containsID(waiting, a) && containsID(waiting, b)
	}, 10*time.Second, 50*time.Millisecond)
	for _, p := range waiting {
		require.Equal(t, pfclient.StatusAwaitingApproval, p.Status)
		require.True(t, p.AwaitingApproval)
		require.Equal(t, "bank131", p.Provider)
	}
	var summary pfclient.Summary
	for _, p := range waiting {
		if p.ID == a {
			summary = p
		}
	}
	require.Equal(t, pfclient.Amount{Value: 10000, Currency: "RUB"}, summary.Amount)
	require.Equal(t, "card_number", summary.Method)

	first, err := c.ListPage(ctx, pfclient.ListParams{Status: pfclient.StatusAwaitingApproval, Limit: 1})
	require.NoError(t, err)
	require.Len(t, first.Payouts, 1)
	require.NotEmpty(t, first.NextPageToken)
	second, err := c.ListPage(ctx, pfclient.ListParams{Status: pfclient.StatusAwaitingApproval, Limit: 1, PageToken: first.NextPageToken})
	require.NoError(t, err)
	require.Len(t, second.Payouts, 1)
	require.NotEqual(t, first.Payouts[0].ID, second.Payouts[0].ID)
	var paged []string
	for p, err := range c.Pages(ctx, pfclient.ListParams{Status: pfclient.StatusAwaitingApproval, Limit: 1}) {
		require.NoError(t, err)
		require.Len(t, p.Payouts, 1)
		if paged = append(paged, p.Payouts[0].ID); len(paged) == 2 {
			break
		}
	}
	require.Equal(t, []string{first.Payouts[0].ID, second.Payouts[0].ID}, paged, "the iterator follows the page tokens")

	for name, q := range map[string]url.Values{
		"unknown status":     {"status": {"paid"}},
		"query injection":    {"status": {"x' OR '1'='1"}},
		"bad flag":           {"needs_attention": {"maybe"}},
		"limit too big":      {"limit": {"1000"}},
		"unknown parameter":  {"sort": {"amount"}},
		"foreign page token": {"page_token": {"%%%"}},
	} {
		r := list(t, q)
		require.Equal(t, http.StatusBadRequest, r.Status, name)
		r.apiError(t)
	}

	mustDecide(t, st.api.URL, "test", a, "cancel", "")
	mustDecide(t, st.api.URL, "test", b, "cancel", "")
	waitFor(t, a, payout.StatusCancelled)
	waitFor(t, b, payout.StatusCancelled)
}

func containsID(list []pfclient.Summary, id string) bool {
	for _, s := range list {
		if s.ID == id {
			return true
		}
	}
	return false
}
