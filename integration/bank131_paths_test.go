package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	bank131sandbox "github.com/payoutflow/payoutflow/providers/bank131/sandbox"
)

// Every Bank 131 payout path of the seeds through the REST API, the workflow and the Bank 131 sandbox.

// bank131Payout is a Bank 131 payout request with the given destination and extra top-level fields.
func bank131Payout(destination, extra string) string {
	return fmt.Sprintf(`{"provider":"bank131","amount":{"value":25000,"currency":"RUB"},"destination":%s,
		"recipient":{"full_name":"Ivanov Ivan"},"description":"Payout for order 9"%s}`, destination, extra)
}

func tokenDestination(token string) string {
	return fmt.Sprintf(`{"type":"card","card":{"token":%q}}`, token)
}

// payThrough creates a payout, waits for it to be ready at the bank, approves it and waits for the result.
func payThrough(t *testing.T, base, body string, want payout.Status) payout.State {
	t.Helper()
	id := createNew(t, base, strings.ReplaceAll(t.Name(), " ", "_"), body)
	ready := waitFor(t, id, payout.StatusAwaitingApproval)
	require.Empty(t, ledgerFor(id), "no money moves before approval")
	require.NotEmpty(t, ready.ProviderRefs["session_id"])
	mustDecide(t, base, "alice", id, "confirm", "checked")
	return waitFor(t, id, want)
}

func TestBank131Paths_TokenPayoutShowsTheCardItPaysTo(t *testing.T) {
	s := payThrough(t, st.api.URL, bank131Payout(tokenDestination(bank131sandbox.SandboxTokenSucceeds), ""), payout.StatusSucceeded)
	require.Equal(t, &payout.MaskedCard{Brand: "visa", Last4: "4242", Tokenized: true}, s.Destination.Card,
		"token/info's brand and last four digits are in the payout's state")
	entries := ledgerFor(s.ID)
	require.Len(t, entries, 1)
	require.Equal(t, bank131sandbox.LedgerToken, entries[0].Method)
}

func TestBank131Paths_UnknownTokenFailsClearly(t *testing.T) {
	s := waitFor(t, createNew(t, st.api.URL, t.Name(), bank131Payout(tokenDestination(bank131sandbox.SandboxTokenUnknown), "")), payout.StatusFailed)
	require.Equal(t, payout.FailureInvalidCard, s.Failure.Code)
	require.Equal(t, "invalid_token", s.Failure.ProviderCode)
	require.Empty(t, ledgerFor(s.ID))
}

func TestBank131Paths_SingleRequestPayout(t *testing.T) {
	tests := []struct {
		name, destination string
		method            string
	}{
		{"card number", `{"type":"card","card":{"number":"4242424242424242"}}`, bank131sandbox.LedgerCard},
		{"card token", tokenDestination(bank131sandbox.SandboxTokenSucceeds), bank131sandbox.LedgerToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := payThrough(t, st.api.URL, bank131Payout(tt.destination, `,"single_request":true`), payout.StatusSucceeded)
			require.NotContains(t, notes(s), "opened at Bank 131", "no session is opened before: init/payout makes it")
			entries := ledgerFor(s.ID)
			require.Len(t, entries, 1)
			require.Equal(t, tt.method, entries[0].Method)
		})
	}
}

func TestBank131Paths_TokenPayoutFromNominalAndSettlementAccounts(t *testing.T) {
	for _, account := range []string{payout.SourceNominal, payout.SourceSettlement} {
		t.Run(account, func(t *testing.T) {
			body := bank131Payout(tokenDestination(bank131sandbox.SandboxTokenSucceeds), fmt.Sprintf(`,"source_account":%q`, account))
			s := payThrough(t, st.api.URL, body, payout.StatusSucceeded)
			entries := ledgerFor(s.ID)
			require.Len(t, entries, 1)
			require.Equal(t, account, entries[0].SourceAccount)
		})
	}
}

func TestBank131Paths_SBPPayoutByPhone(t *testing.T) {
	sbp := func(phone string) string {
		return fmt.Sprintf(`{"type":"sbp","sbp":{"phone":%q,"bank_id":"100000000111"}}`, phone)
	}
	t.Run("succeeds", func(t *testing.T) {
		s := payThrough(t, st.api.URL, bank131Payout(sbp(bank131sandbox.SandboxPhoneSucceeds), ""), payout.StatusSucceeded)
		entries := ledgerFor(s.ID)
		require.Len(t, entries, 1)
		require.Equal(t, bank131sandbox.LedgerSBP, entries[0].Method)
		require.Equal(t, "0001", entries[0].PhoneLast4)
		require.Equal(t, "0001", s.Destination.SBP.PhoneLast4)
	})
	t.Run("refused by the recipient's bank", func(t *testing.T) {
		s := waitFor(t, createNew(t, st.api.URL, t.Name(), bank131Payout(sbp(bank131sandbox.SandboxPhoneRejected), "")), payout.StatusFailed)
		require.NotEmpty(t, s.Failure.Code)
		require.Empty(t, ledgerFor(s.ID))
	})
	t.Run("bank list", func(t *testing.T) {
		r := do(t, st.api.URL, http.MethodGet, "/v1/sbp/banks?provider=bank131", nil, "")
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		var banks struct {
			Banks []struct {
				BankID string `json:"bank_id"`
				Name   string `json:"name"`
			} `json:"banks"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &banks))
		require.Len(t, banks.Banks, len(bank131sandbox.SandboxBanks()))
		require.Equal(t, "100000000111", banks.Banks[0].BankID)
	})
}

func TestBank131Paths_WithoutWebhooksTheSessionIsPolled(t *testing.T) {
	st.sandbox.SetNoWebhooks(true)
	t.Cleanup(func() { st.sandbox.SetNoWebhooks(false) })
	cfg := st.cfg
	cfg.PollAfter = 200 * time.Millisecond
	base := newServer(t, st.newAPI(cfg))
	s := payThrough(t, base, cardPayout(cardSucceeds), payout.StatusSucceeded)
	require.Len(t, ledgerFor(s.ID), 1)
}

func TestBank131Paths_SessionInErrorIsFlaggedAndWaitsForTheFinalStatus(t *testing.T) {
	st.sandbox.SetNoWebhooks(true)
	t.Cleanup(func() { st.sandbox.SetNoWebhooks(false) })
	cfg := st.cfg
	cfg.PollAfter = 200 * time.Millisecond
	base := newServer(t, st.newAPI(cfg))
	id := createNew(t, base, t.Name(), cardPayout(bank131sandbox.SandboxCardErrorThenSucceeds))
	waitFor(t, id, payout.StatusAwaitingApproval)
	mustDecide(t, base, "alice", id, "confirm", "")

	flagged := waitFor(t, id, payout.StatusNeedsAttention)
	require.Contains(t, flagged.Attention, "status error, which is not final")
	require.Empty(t, ledgerFor(id))
	s := waitFor(t, id, payout.StatusSucceeded)
	require.Len(t, ledgerFor(s.ID), 1, "error was not final: the payout went through, once")
}

func TestBank131Paths_LostAnswersAreResolvedByIdempotencyKeyAndStatus(t *testing.T) {
	t.Run("single request", func(t *testing.T) {
		st.sandbox.FailNext(1) // init/payout takes effect, its answer is lost
		s := payThrough(t, st.api.URL, bank131Payout(tokenDestination(bank131sandbox.SandboxTokenSucceeds), `,"single_request":true`), payout.StatusSucceeded)
		require.Len(t, ledgerFor(s.ID), 1, "one payout at the bank")
		// The repeat under the same idempotency key is refused (idempotency_key_already_exists) or the bank's
		// webhook names the session first; either way there is one payout.
		require.Contains(t, strings.Join(notes(s), "\n"), "sending it again under the same payout id")
	})
	t.Run("start", func(t *testing.T) {
		st.sandbox.FailNext(1) // start/payout takes effect, its answer is lost
		s := payThrough(t, st.api.URL, cardPayout(cardSucceeds), payout.StatusSucceeded)
		require.Len(t, ledgerFor(s.ID), 1, "one payout at the bank")
		require.Contains(t, notes(s), "the provider has the payout (found by lookup)")
	})
	t.Run("confirm", func(t *testing.T) {
		id := createID(t, st.api.URL, t.Name(), cardPayout(cardSucceeds))
		waitFor(t, id, payout.StatusAwaitingApproval)
		st.sandbox.FailNext(1) // session/confirm takes effect, its answer is lost
		mustDecide(t, st.api.URL, "alice", id, "confirm", "")
		s := waitFor(t, id, payout.StatusSucceeded)
		require.Len(t, ledgerFor(s.ID), 1, "one payout at the bank")
	})
}

func TestBank131Paths_BadInputIsRefusedAndStartsNothing(t *testing.T) {
	sbp := `{"type":"sbp","sbp":{"phone":"+79001310001","bank_id":"100000000111"}}`
	tests := []struct {
		name, body, field, code string
	}{
		{"141-character SBP description", strings.Replace(bank131Payout(sbp, ""), "Payout for order 9", strings.Repeat("д", 141), 1),
			"description", "too_long"},
		{"non-rub SBP payout", strings.Replace(bank131Payout(sbp, ""), `"RUB"`, `"USD"`, 1), "amount.currency", "currency_not_supported"},
		{"SBP phone not +7", strings.Replace(bank131Payout(sbp, ""), "+79001310001", "79001310001", 1), "destination.sbp.phone", "invalid_phone"},
		{"source account for a card number", bank131Payout(`{"type":"card","card":{"number":"4242424242424242"}}`, `,"source_account":"nominal"`),
			"source_account", "token_required"},
		{"unknown source account", bank131Payout(tokenDestination("t"), `,"source_account":"escrow"`), "source_account", "unknown_source_account"},
		{"single request as a string", bank131Payout(tokenDestination("t"), `,"single_request":"yes"`), "single_request", "invalid_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireRefused(t, "bank131-"+tt.name, tt.body, tt.field, tt.code)
		})
	}
}
