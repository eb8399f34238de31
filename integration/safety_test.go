package integration

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	pfclient "github.com/payoutflow/payoutflow/client"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers/mandarin"
)

// Money safety over a payout's whole life, end to end: Temporal's own buttons, cancels that cannot stop anything,
// operators' marks that the provider contradicts.

// hasNote reports whether a note of the payout's timeline contains part.
func hasNote(s payout.State, part string) bool {
	return slices.ContainsFunc(notes(s), func(n string) bool { return strings.Contains(n, part) })
}

func TestTemporalCancellationRequest_IsTakenAsACancel(t *testing.T) {
	t.Run("awaiting approval: cancelled at the bank, nothing paid", func(t *testing.T) {
		id := createID(t, st.api.URL, t.Name(), cardPayout(cardSucceeds))
		waitFor(t, id, payout.StatusAwaitingApproval)
		require.NoError(t, st.raw.CancelWorkflow(context.Background(), id, ""))
		s := waitFor(t, id, payout.StatusCancelled)
		require.Equal(t, "Temporal cancellation request", s.Approval.By)
		require.Empty(t, ledgerFor(id))
	})
	t.Run("confirmed: seen through to the bank's final word", func(t *testing.T) {
		st.sandbox.SetNoWebhooks(true) // the payout waits, polling, when the cancellation comes
		t.Cleanup(func() { st.sandbox.SetNoWebhooks(false) })
		cfg := st.cfg
		cfg.PollAfter = 2 * time.Second
		base := newServer(t, st.newAPI(cfg))
		id := createID(t, base, t.Name(), cardPayout(cardSucceeds))
		waitFor(t, id, payout.StatusAwaitingApproval)
		mustDecide(t, base, "alice", id, "confirm", "")
		waitFor(t, id, payout.StatusConfirmed)
		require.NoError(t, st.raw.CancelWorkflow(context.Background(), id, ""))
		s := waitFor(t, id, payout.StatusSucceeded)
		require.True(t, hasNote(s, "cancel by Temporal cancellation request ignored"))
		require.Len(t, ledgerFor(id), 1)
	})
}

func TestCancel_APayoutAProviderThatPaysOnSubmitHasIsRefused(t *testing.T) {
	st.mandarin.DropCallbacks(true)
	t.Cleanup(func() { st.mandarin.DropCallbacks(false) })
	st.mandarin.FailNext(1) // the create executes, its answer is lost
	cfg := st.cfg
	cfg.PollAfter = 200 * time.Millisecond
	base, id := approvedMandarinToken(t, cfg)
	// Mandarin has it but has not named it: the payout needs attention, and a cancel there could stop nothing.
	flagged := waitFor(t, id, payout.StatusNeedsAttention)
	require.Contains(t, flagged.CancelRefused, "pays on submit")

	res := decide(t, base, "bob", id, "cancel", "taking too long")
	require.Equal(t, http.StatusConflict, res.Status, string(res.Body))
	code, _ := res.apiError(t)
	require.Equal(t, "cannot_be_stopped", code)
	s := get(t, id)
	require.True(t, s.Approval.Approved, "the approval stands")
	require.Len(t, mandarinLedgerFor(id), 1, "the money moved, as the provider says")
}

func TestMark_ContradictedByTheProviderIsRecordedAndListed(t *testing.T) {
	st.mandarin.DropCallbacks(true)
	t.Cleanup(func() { st.mandarin.DropCallbacks(false) })
	st.mandarin.FailNext(1) // Mandarin pays, its answer is lost, and no callback names the payout
	cfg := st.cfg
	cfg.PollAfter = 200 * time.Millisecond
	base, id := approvedMandarinToken(t, cfg)
	flagged := waitFor(t, id, payout.StatusNeedsAttention)
	require.Contains(t, flagged.Attention, "has not named it")

	// Two operators, wrongly, mark it failed: Mandarin cannot be asked about a payout it has not named.
	for _, who := range []string{"bob", "carol"} {
		res := resolveAs(t, base, who, id, `{"action":"mark_failed","reason":"not in the back office"}`)
		require.Equal(t, http.StatusAccepted, res.Status, string(res.Body))
		require.Eventually(t, func() bool { s := held(t, id); return hasNote(s, "mark_failed by "+who) || hasNote(s, "and "+who) },
			10*time.Second, 50*time.Millisecond)
	}
	marked := waitFor(t, id, payout.StatusFailed)
	require.True(t, hasNote(marked, "the word of bob and carol"))
	require.True(t, hasNote(marked, "mark_failed by bob"), "a GET shows the first mark once the payout publishes again")

	// Then Mandarin's callback comes: it paid.
	ledger := mandarinLedgerFor(id)
	require.Len(t, ledger, 1)
	form := url.Values{"orderId": {id}, "transaction": {ledger[0].TransactionID}, "status": {"success"},
		"price": {ledger[0].Price}, "merchantId": {"4242"}, "action": {"payout"}}
	form.Set("sign", mandarin.Sign(form, "it-mandarin-secret"))
	require.Equal(t, http.StatusOK, postForm(t, form).Status)

	var s payout.State
	require.Eventually(t, func() bool {
		s = get(t, id)
		return s.Contradiction != nil
	}, 20*time.Second, 100*time.Millisecond, "the provider's word is recorded, not dropped")
	require.Equal(t, payout.StatusFailed, s.Contradiction.Ended)
	require.Equal(t, "succeeded", s.Contradiction.ProviderSays)
	require.Contains(t, st.logs.String(), "payout contradicts its provider")

	require.Eventually(t, func() bool {
		for p, err := range apiClient(base, "backend").List(context.Background(), pfclient.ListParams{Contradiction: true}) {
			if err != nil {
				return false
			}
			if p.ID == id {
				return p.Contradiction
			}
		}
		return false
	}, 10*time.Second, 100*time.Millisecond, "findable by GET /v1/payouts?contradiction=true")
	bad := do(t, base, http.MethodGet, "/v1/payouts?contradiction=maybe", nil, "")
	require.Equal(t, http.StatusBadRequest, bad.Status)
}
