package integration

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	pfclient "github.com/payoutflow/payoutflow/client"
	"github.com/payoutflow/payoutflow/internal/config"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers/mandarin"
	mandarinsandbox "github.com/payoutflow/payoutflow/providers/mandarin/sandbox"
)

// Mandarin end to end: the REST API, the workflow on the in-process Temporal server, and the Mandarin sandbox with
// X-Auth, signed callbacks and its ledger.

func mandarinCard(card string) string {
	return fmt.Sprintf(`{"provider":"mandarin","amount":{"value":150000,"currency":"RUB"},
		"destination":{"type":"card","card":%s},"recipient":{"full_name":"Ivanov Ivan","email":"ivan@example.com"},
		"description":"Payout for order 7"}`, card)
}

func mandarinSBP(phone, name string, withoutName bool) string {
	return fmt.Sprintf(`{"provider":"mandarin","amount":{"value":1000,"currency":"RUB"},
		"destination":{"type":"sbp","sbp":{"phone":%q,"bank_id":"100000000111","without_name":%t}},
		"recipient":{"full_name":%q}}`, phone, withoutName, name)
}

// mandarinLedgerFor returns the sandbox's executed payouts of one payout.
func mandarinLedgerFor(id string) []mandarinsandbox.LedgerEntry {
	var out []mandarinsandbox.LedgerEntry
	for _, e := range st.mandarin.Ledger() {
		if e.OrderID == id {
			out = append(out, e)
		}
	}
	return out
}

// createApproved creates a payout, checks that nothing is sent before approval, approves it and returns its id.
func createApproved(t *testing.T, body string) string {
	t.Helper()
	id := createNew(t, st.api.URL, t.Name(), body)
	waitFor(t, id, payout.StatusAwaitingApproval)
	require.Empty(t, mandarinLedgerFor(id), "nothing is sent before approval")
	mustDecide(t, st.api.URL, "alice", id, "confirm", "checked")
	return id
}

func TestMandarin_CardPayoutsByTokenAndNumber(t *testing.T) {
	tests := []struct {
		name   string
		card   string
		status payout.Status
		last4  string
	}{
		{"token", fmt.Sprintf(`{"token":%q}`, mandarinsandbox.SandboxTokenSucceeds), payout.StatusSucceeded, "4444"},
		{"number", fmt.Sprintf(`{"number":%q}`, mandarinsandbox.SandboxCardSucceeds), payout.StatusSucceeded, "1881"},
		{"declined number", fmt.Sprintf(`{"number":%q}`, mandarinsandbox.SandboxCardDeclined), payout.StatusFailed, ""},
		{"declined token", fmt.Sprintf(`{"token":%q}`, mandarinsandbox.SandboxTokenDeclined), payout.StatusFailed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := createApproved(t, mandarinCard(tt.card))
			s := waitFor(t, id, tt.status)
			require.NotEmpty(t, s.ProviderRefs["session_id"], "the operation id is kept")
			if tt.status == payout.StatusSucceeded {
				require.Len(t, mandarinLedgerFor(id), 1)
				require.Equal(t, "1500.00", mandarinLedgerFor(id)[0].Price, "price converted exactly from minor units")
				require.Equal(t, tt.last4, s.Destination.Card.Last4)
			} else {
				require.Empty(t, mandarinLedgerFor(id))
				// Mandarin says failed, and no more: neither its callback nor its operation gives a reason.
				require.Equal(t, &payout.Failure{Code: payout.FailureDeclined, Description: payout.FailureWords(payout.FailureDeclined),
					ProviderCode: "failed"}, s.Failure)
				requireListedFailure(t, id, s.Failure)
			}
		})
	}
}

func TestMandarin_PaymentPageLinkIsHandedToTheBackend(t *testing.T) {
	id := createApproved(t, `{"provider":"mandarin","amount":{"value":50000,"currency":"RUB"},
		"destination":{"type":"payment_page"},"recipient":{"full_name":"Ivanov Ivan"}}`)
	var link string
	require.Eventually(t, func() bool {
		link = get(t, id).ProviderRefs[mandarin.DetailUserWebLink]
		return link != ""
	}, 30*time.Second, 50*time.Millisecond)
	require.True(t, strings.HasPrefix(link, st.mandarinURL+"/Pay?transaction="), link)
	require.Equal(t, payout.StatusSubmitted, get(t, id).Status, "waiting for the recipient")

	// The recipient enters the card on Mandarin's page.
	res, err := http.PostForm(link, url.Values{"card_number": {mandarinsandbox.SandboxCardSucceeds}})
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	waitFor(t, id, payout.StatusSucceeded)
	require.Len(t, mandarinLedgerFor(id), 1)
}

func TestMandarin_SBPWithTheNameIsPaidAfterApproval(t *testing.T) {
	id := createApproved(t, mandarinSBP(mandarinsandbox.SandboxPhoneSucceeds, "Иванов Петр Сергеевич", false))
	waitFor(t, id, payout.StatusSucceeded)
	entries := mandarinLedgerFor(id)
	require.Len(t, entries, 1)
	require.Equal(t, "4567", entries[0].PhoneLast4)
}

func TestMandarin_SBPToAnUnknownPhoneFails(t *testing.T) {
	id := createApproved(t, mandarinSBP("+79990000000", "Иванов Петр", false))
	waitFor(t, id, payout.StatusFailed)
	require.Empty(t, mandarinLedgerFor(id))
}

// sbpPolicy lets the policy approve Mandarin SBP payouts up to 100.00 RUB alone.
const sbpPolicy = `{"rules": [{"provider": "mandarin", "method": "sbp", "currency": "RUB", "auto_approve_max": 10000}]}`

func TestMandarin_SBPWithoutTheNameMatchingNameIsConfirmedByPolicy(t *testing.T) {
	base := policyAPI(t, sbpPolicy)
	id := createNew(t, base, t.Name(), mandarinSBP(mandarinsandbox.SandboxPhoneNoName, "Ivanov Ivan Ivanovich", true))

	s := waitFor(t, id, payout.StatusSucceeded)
	require.Equal(t, &payout.NameCheck{BankName: mandarinsandbox.SandboxFIONoName, Matches: true}, s.NameCheck)
	require.Equal(t, "policy", s.Approval.By)
	require.Contains(t, s.Approval.Reason, "which matches the recipient")
	require.Len(t, mandarinLedgerFor(id), 1)
	require.Equal(t, "sbp_without_name", mandarinLedgerFor(id)[0].Method)
	require.True(t, historyHasSignal(t, id, "sbp_status"), "the bank's answer reached the workflow as the sbp_status signal")
}

func TestMandarin_SBPWithoutTheNameMismatchIsLeftToAPerson(t *testing.T) {
	base := policyAPI(t, sbpPolicy) // would approve the amount alone: a mismatch still goes to a person
	for _, verb := range []string{"confirm", "cancel"} {
		t.Run(verb, func(t *testing.T) {
			id := createNew(t, base, t.Name(), mandarinSBP(mandarinsandbox.SandboxPhoneNoName, "Petrov Petr Petrovich", true))

			s := waitFor(t, id, payout.StatusAwaitingApproval)
			require.Equal(t, &payout.NameCheck{BankName: mandarinsandbox.SandboxFIONoName, Matches: false}, s.NameCheck)
			require.Contains(t, notes(s), `the recipient's bank gives the name "Ivan Ivanovich Ivanov", which does not match "Petrov Petr Petrovich": a person must decide`)
			require.Empty(t, mandarinLedgerFor(id), "nothing moves before a person decides")

			mustDecide(t, base, "alice", id, verb, "phoned the recipient")
			if verb == "confirm" {
				waitFor(t, id, payout.StatusSucceeded)
				require.Len(t, mandarinLedgerFor(id), 1)
				return
			}
			waitFor(t, id, payout.StatusCancelled)
			require.Empty(t, mandarinLedgerFor(id), "rejected at Mandarin: nothing moved")
		})
	}
}

func TestMandarin_DuplicateOrderIDAfterA504PaysOnce(t *testing.T) {
	st.mandarin.FailNext(1) // the first create executes, then answers 504
	id := createApproved(t, mandarinCard(fmt.Sprintf(`{"token":%q}`, mandarinsandbox.SandboxTokenSucceeds)))
	s := waitFor(t, id, payout.StatusSucceeded)
	require.Len(t, mandarinLedgerFor(id), 1, "exactly one payout at Mandarin")
	require.Contains(t, notes(s), "the provider has the payout already (duplicate_order_id): waiting for its result")
	require.NotEmpty(t, s.ProviderRefs["session_id"], "the operation id, learnt from the callback")
}

func TestMandarin_ForgedCallbackIsRejected(t *testing.T) {
	id := createApproved(t, mandarinCard(fmt.Sprintf(`{"token":%q}`, mandarinsandbox.SandboxTokenSucceeds)))
	waitFor(t, id, payout.StatusSucceeded)

	otherID := createID(t, st.api.URL, t.Name()+"-other", mandarinCard(fmt.Sprintf(`{"token":%q}`, mandarinsandbox.SandboxTokenSucceeds)))
	waitFor(t, otherID, payout.StatusAwaitingApproval)
	form := url.Values{"orderId": {otherID}, "transaction": {"tx-forged"}, "status": {"success"}, "price": {"1500.00"},
		"merchantId": {"4242"}}
	form.Set("sign", mandarin.Sign(form, "not-the-secret"))
	res := postForm(t, form)
	require.Equal(t, http.StatusUnauthorized, res.Status, string(res.Body))

	unsigned := url.Values{"orderId": {otherID}, "transaction": {"tx-forged"}, "status": {"success"}}
	require.Equal(t, http.StatusUnauthorized, postForm(t, unsigned).Status)
	require.Equal(t, payout.StatusAwaitingApproval, get(t, otherID).Status, "a forged callback changes nothing")
}

func TestMandarin_SignedCallbackIsAnsweredOK(t *testing.T) {
	form := url.Values{"orderId": {payout.ID("no-such-payout")}, "transaction": {"tx-1"}, "status": {"success"},
		"merchantId": {"4242"}}
	form.Set("sign", mandarin.Sign(form, "it-mandarin-secret"))
	res := postForm(t, form)
	require.Equal(t, http.StatusOK, res.Status)
	require.Equal(t, "OK", string(res.Body), "Mandarin resends a callback until it is answered OK")
}

func postForm(t *testing.T, form url.Values) response {
	t.Helper()
	return do(t, st.api.URL, http.MethodPost, "/webhooks/mandarin",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, form.Encode())
}

func TestMandarin_BalanceCheckBeforeSubmit(t *testing.T) {
	const channel = "openbank_direct"
	before, _ := st.mandarin.BalanceOf(channel)
	st.mandarin.SetBalance(channel, 100_00) // 100.00 RUB, less than the payout's 1500.00
	t.Cleanup(func() { st.mandarin.SetBalance(channel, before) })

	t.Run("fail", func(t *testing.T) {
		cfg := st.cfg
		cfg.Mandarin.BalanceCheck = "fail"
		base := newServer(t, st.newAPI(cfg))
		id := createNew(t, base, t.Name(), mandarinCard(fmt.Sprintf(`{"token":%q}`, mandarinsandbox.SandboxTokenSucceeds)))
		waitFor(t, id, payout.StatusAwaitingApproval)
		mustDecide(t, base, "alice", id, "confirm", "")
		s := waitFor(t, id, payout.StatusFailed)
		require.Equal(t, payout.FailureInsufficientFunds, s.Failure.Code)
		require.Contains(t, s.Failure.Description, "(100.00 RUB) does not cover the payout (1500.00 RUB)")
		require.Empty(t, mandarinLedgerFor(id))
	})
	t.Run("hold", func(t *testing.T) {
		cfg := st.cfg
		cfg.Mandarin.BalanceCheck = "hold"
		base, id := approvedMandarinToken(t, cfg)
		s := waitFor(t, id, payout.StatusNeedsAttention)
		require.Contains(t, s.Attention, "held until it does")
		require.Empty(t, mandarinLedgerFor(id))
		mustDecide(t, base, "bob", id, "cancel", "no funds today")
		waitFor(t, id, payout.StatusCancelled)
		require.Empty(t, mandarinLedgerFor(id))
	})
}

func TestMandarin_SBPBanksAndBalances(t *testing.T) {
	ctx := context.Background()
	c := apiClient(st.api.URL, "backend")
	banks, err := c.SBPBanks(ctx, "mandarin", "сбер")
	require.NoError(t, err)
	require.Equal(t, "mandarin", banks.Provider)
	require.Len(t, banks.Banks, 1)
	require.Equal(t, "Сбербанк", banks.Banks[0].Name)

	bal, err := c.Balances(ctx, "mandarin", "psb_direct")
	require.NoError(t, err)
	require.Equal(t, pfclient.Amount{Value: mandarinsandbox.DefaultSandboxBalance, Currency: "RUB"}, bal.Balance)
	require.Equal(t, "psb_direct", bal.Channel)

	for _, tt := range []struct {
		name, field, code string
		call              func() error
	}{
		{"banks without a provider", "provider", "required", func() error { _, err := c.SBPBanks(ctx, "", ""); return err }},
		{"banks of paypal", "provider", "provider_not_configured", func() error { _, err := c.SBPBanks(ctx, "paypal", ""); return err }},
		{"balance of paypal", "provider", "provider_not_configured", func() error { _, err := c.Balances(ctx, "paypal", ""); return err }},
		{"banks of Pay-Pal", "provider", "unknown_provider", func() error { _, err := c.SBPBanks(ctx, "Pay-Pal", ""); return err }},
		{"banks of bepaid", "provider", "not_supported", func() error { _, err := c.SBPBanks(ctx, "bepaid", ""); return err }},
		{"balance of a bad channel", "channel", "invalid_channel", func() error { _, err := c.Balances(ctx, "mandarin", "../x"); return err }},
	} {
		var e *pfclient.Error
		require.ErrorAs(t, tt.call(), &e, tt.name)
		require.GreaterOrEqual(t, e.StatusCode, 400, tt.name)
		require.Equal(t, tt.field, e.Field, tt.name)
		require.Equal(t, tt.code, e.Code, tt.name)
	}
	r := do(t, st.api.URL, http.MethodGet, "/v1/sbp/banks?provider=mandarin", map[string]string{"Authorization": ""}, "")
	require.Equal(t, http.StatusUnauthorized, r.Status)
}

func TestMandarin_BadInputIsRefusedAndStartsNothing(t *testing.T) {
	tests := []struct {
		name, body, field, code string
	}{
		{"sbp without bank id", `{"provider":"mandarin","amount":{"value":1000,"currency":"RUB"},
			"destination":{"type":"sbp","sbp":{"phone":"+79001234567"}},"recipient":{"full_name":"Иванов Петр"}}`,
			"destination.sbp.bank_id", "required"},
		{"phone not +7XXXXXXXXXX", `{"provider":"mandarin","amount":{"value":1000,"currency":"RUB"},
			"destination":{"type":"sbp","sbp":{"phone":"89001234567","bank_id":"100000000111"}},"recipient":{"full_name":"Иванов Петр"}}`,
			"destination.sbp.phone", "invalid_phone"},
		{"bad bic", `{"provider":"mandarin","amount":{"value":1000,"currency":"RUB"},
			"destination":{"type":"sbp","sbp":{"phone":"+79001234567","bank_id":"100000000111","bank_bic":"12"}},"recipient":{"full_name":"Иванов Петр"}}`,
			"destination.sbp.bank_bic", "invalid_bank_bic"},
		{"not roubles", strings.Replace(mandarinCard(`{"token":"t"}`), `"RUB"`, `"USD"`, 1),
			"amount.currency", "currency_not_supported"},
		{"name needed with the name", mandarinSBP(mandarinsandbox.SandboxPhoneSucceeds, "Петр", false),
			"recipient.full_name", "incomplete_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireRefused(t, "mandarin-"+tt.name, tt.body, tt.field, tt.code)
		})
	}
}

// historyHasSignal reports whether the payout's workflow received the signal.
func historyHasSignal(t *testing.T, id, name string) bool {
	t.Helper()
	it := st.raw.GetWorkflowHistory(context.Background(), id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		if a := ev.GetWorkflowExecutionSignaledEventAttributes(); a != nil && a.GetSignalName() == name {
			return true
		}
	}
	return false
}

func TestMandarin_WithoutCallbacksTheOperationStatusTellsTheResult(t *testing.T) {
	st.mandarin.DropCallbacks(true)
	t.Cleanup(func() { st.mandarin.DropCallbacks(false) })
	cfg := st.cfg
	cfg.PollAfter = 200 * time.Millisecond
	base := newServer(t, st.newAPI(cfg))
	id := createNew(t, base, t.Name(), mandarinCard(fmt.Sprintf(`{"number":%q}`, mandarinsandbox.SandboxCardSucceeds)))
	waitFor(t, id, payout.StatusAwaitingApproval)
	mustDecide(t, base, "alice", id, "confirm", "")

	s := waitFor(t, id, payout.StatusSucceeded)
	require.Equal(t, "success", s.ProviderRefs["state"], "the operation's own state")
	require.Len(t, mandarinLedgerFor(id), 1)
}

// approvedMandarinToken creates a Mandarin token payout through an API with cfg and approves it as alice. It
// returns the API's URL and the payout's id.
func approvedMandarinToken(t *testing.T, cfg config.Config) (base, id string) {
	t.Helper()
	base = newServer(t, st.newAPI(cfg))
	id = createNew(t, base, t.Name(), mandarinCard(fmt.Sprintf(`{"token":%q}`, mandarinsandbox.SandboxTokenSucceeds)))
	waitFor(t, id, payout.StatusAwaitingApproval)
	mustDecide(t, base, "alice", id, "confirm", "")
	return base, id
}

// heldPayout is a Mandarin payout, approved, that the balance does not cover: it is held in needs_attention (balance
// check "hold"). It returns the API's URL, the payout's id and a func that sets the balance back.
func heldPayout(t *testing.T) (base, id string, fund func()) {
	t.Helper()
	const channel = "openbank_direct"
	before, _ := st.mandarin.BalanceOf(channel)
	st.mandarin.SetBalance(channel, 100_00)
	fund = func() { st.mandarin.SetBalance(channel, before) }
	t.Cleanup(fund)
	cfg := st.cfg
	cfg.Mandarin.BalanceCheck = "hold"
	base = newServer(t, st.newAPI(cfg))
	r := create(t, base, t.Name(), mandarinCard(fmt.Sprintf(`{"token":%q}`, mandarinsandbox.SandboxTokenSucceeds)))
	id = r.state(t).ID
	waitFor(t, id, payout.StatusAwaitingApproval)

	res := resolveAs(t, base, "alice", id, `{"action":"mark_failed","reason":"checked"}`)
	require.Equal(t, http.StatusConflict, res.Status, "only a payout that needs attention is resolved by hand")
	mustDecide(t, base, "alice", id, "confirm", "")
	waitFor(t, id, payout.StatusNeedsAttention)
	return base, id, fund
}

// resolveAs sends POST /v1/payouts/{id}/resolve with who's API key.
func resolveAs(t *testing.T, base, who, id, body string) response {
	t.Helper()
	return do(t, base, http.MethodPost, "/v1/payouts/"+id+"/resolve", as(who), body)
}

func TestResolve_OperatorMarksAHeldPayoutFailedByAPI(t *testing.T) {
	base, id, _ := heldPayout(t)
	ctx := context.Background()
	bob := apiClient(base, "bob")

	for _, tt := range []struct {
		r           pfclient.Resolution
		field, code string
	}{
		{pfclient.Resolution{Action: "retry"}, "action", "unknown_action"},
		{pfclient.Resolution{Action: pfclient.ResolveMarkSucceeded, Reason: "paid"}, "reference", "required"},
		{pfclient.Resolution{Action: pfclient.ResolveMarkFailed}, "reason", "required"},
	} {
		_, err := bob.Resolve(ctx, id, tt.r)
		var e *pfclient.Error
		require.ErrorAs(t, err, &e, "%+v", tt.r)
		require.Equal(t, http.StatusUnprocessableEntity, e.StatusCode, "%+v", tt.r)
		require.Equal(t, tt.field, e.Field)
		require.Equal(t, tt.code, e.Code)
	}
	_, err := apiClient(base, "reader").Resolve(ctx, id, pfclient.Resolution{Action: pfclient.ResolveLookUp})
	require.ErrorIs(t, err, pfclient.ErrForbidden)

	d, err := bob.Resolve(ctx, id, pfclient.Resolution{Action: pfclient.ResolveMarkFailed, Reason: "no funds until Monday"})
	require.NoError(t, err)
	require.Equal(t, pfclient.ResolveMarkFailed, d.Accepted)
	s := waitFor(t, id, payout.StatusFailed)
	require.Equal(t, "marked_failed", s.Failure.Code)
	require.Contains(t, notes(s), "marked failed by bob: no funds until Monday (the provider has no such payout)",
		"nothing was sent: the mark is checked without asking")
	require.Empty(t, mandarinLedgerFor(id))
}

func TestResolve_LookUpAsksAgainAndTheHeldPayoutGoesOn(t *testing.T) {
	base, id, fund := heldPayout(t)
	_, err := apiClient(base, "bob").Resolve(context.Background(), id, pfclient.Resolution{Action: pfclient.ResolveLookUp, Reason: "topped up"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return slices.Contains(notes(held(t, id)), "look-up asked by bob") },
		10*time.Second, 50*time.Millisecond)
	fund()
	s := waitFor(t, id, payout.StatusSucceeded)
	require.Contains(t, notes(s), "look-up asked by bob")
	require.Contains(t, notes(s), "the balance covers the payout now")
	require.Len(t, mandarinLedgerFor(id), 1)
}

func TestResolve_OperatorMarksAPayoutTheProviderCannotNameSucceeded(t *testing.T) {
	st.mandarin.DropCallbacks(true)
	t.Cleanup(func() { st.mandarin.DropCallbacks(false) })
	st.mandarin.FailNext(1) // the create executes, its answer is lost, and no callback will name it
	cfg := st.cfg
	cfg.PollAfter = 200 * time.Millisecond
	base, id := approvedMandarinToken(t, cfg)
	flagged := waitFor(t, id, payout.StatusNeedsAttention)
	require.Contains(t, flagged.Attention, "has not named it")
	require.Len(t, mandarinLedgerFor(id), 1)

	// Mandarin cannot be asked about a payout it has not named: the mark is the operators' word, two of them.
	mark := func(who string) {
		res := resolveAs(t, base, who, id, `{"action":"mark_succeeded","reference":"back-office-77","reason":"seen in the back office"}`)
		require.Equal(t, http.StatusAccepted, res.Status, string(res.Body))
	}
	mark("bob")
	require.Eventually(t, func() bool {
		return hasNote(held(t, id), "mark_succeeded by bob recorded")
	}, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, payout.StatusNeedsAttention, get(t, id).Status, "one person's word is not enough")
	mark("carol")
	s := waitFor(t, id, payout.StatusSucceeded)
	require.Equal(t, "back-office-77", s.ProviderRefs["operator_reference"])
	require.True(t, hasNote(s, "the word of bob and carol"))
	require.True(t, hasNote(s, "mark_succeeded by bob recorded"), "a GET shows the first mark once the payout publishes again")
	require.Len(t, mandarinLedgerFor(id), 1, "paid once")
}
