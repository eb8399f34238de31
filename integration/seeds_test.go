package integration

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	bank131sandbox "github.com/payoutflow/payoutflow/providers/bank131/sandbox"
	mandarinsandbox "github.com/payoutflow/payoutflow/providers/mandarin/sandbox"
)

// Tests built from the seeds' own examples (issue 16, item 4).

// TestBank131Webhook_PayoutListFinishesThePayoutAtOnce sends the seed's webhook (001, step 5: the result in status
// of payments/payout_list) with payout_list, signed by the bank, for a payout the bank has executed without telling:
// the payout succeeds at once, not at the status poll a minute later.
func TestBank131Webhook_PayoutListFinishesThePayoutAtOnce(t *testing.T) {
	id := createID(t, st.api.URL, t.Name(), cardPayout(cardSucceeds))
	ready := waitFor(t, id, payout.StatusAwaitingApproval)
	st.sandbox.SetNoWebhooks(true)
	t.Cleanup(func() { st.sandbox.SetNoWebhooks(false) })
	mustDecide(t, st.api.URL, "alice", id, "confirm", "")
	require.Eventually(t, func() bool { return len(ledgerFor(id)) == 1 }, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, payout.StatusConfirmed, get(t, id).Status, "no webhook yet, and the poll is a minute away")

	body := strings.NewReplacer("ps_3230", ready.ProviderRefs["session_id"], "po_2018", ready.ProviderRefs["payment_id"],
		`"metadata": "good"`, `"metadata": "`+id+`"`).Replace(`{
"type": "payment_finished",
"session": {
  "id": "ps_3230", "status": "accepted",
  "created_at": "2018-05-27T02:03:00.000000Z", "updated_at": "2018-05-27T02:03:00.000000Z",
  "payout_list": [{
    "id": "po_2018", "status": "succeeded", "created_at": "2018-05-27T02:03:00.000000Z",
    "customer": {"reference": "user123", "contacts": [{"email": "user123@test.ru"}]},
    "payout_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}},
    "amount_details": {"amount": 10000, "currency": "rub"},
    "metadata": "good"
  }]
}}`)
	r := do(t, st.api.URL, http.MethodPost, "/webhooks/bank131", map[string]string{"X-PARTNER-SIGN": st.bankSign(t, body)}, body)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.NotContains(t, string(r.Body), "ignored")

	var done payout.State
	require.Eventually(t, func() bool {
		done = get(t, id)
		return done.Status == payout.StatusSucceeded
	}, 10*time.Second, 50*time.Millisecond, "the webhook finishes the payout, well before the poll")
	require.Len(t, ledgerFor(id), 1, "paid once")
}

// TestMandarin_TheRecipientsPhoneAndEmailAreTaken pays seed 004's card payout with the recipient's customerInfo
// given in the request (recipient.phone, recipient.email), which the API refused as unknown before.
func TestMandarin_TheRecipientsPhoneAndEmailAreTaken(t *testing.T) {
	body := fmt.Sprintf(`{"provider":"mandarin","amount":{"value":100000,"currency":"RUB"},
		"destination":{"type":"card","card":{"number":%q}},
		"recipient":{"full_name":"Ivanov Ivan","email":"user@example.com","phone":"+79001234567"}}`, mandarinsandbox.SandboxCardSucceeds)
	id := createApproved(t, body)
	waitFor(t, id, payout.StatusSucceeded)
	require.Len(t, mandarinLedgerFor(id), 1)

	bad := strings.Replace(body, `"+79001234567"`, `"89001234567"`, 1)
	r := create(t, st.api.URL, t.Name()+"-bad", bad)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, string(r.Body))
	code, field := r.apiError(t)
	require.Equal(t, "invalid_phone", code)
	require.Equal(t, "recipient.phone", field)
	requireNotLogged(t, "the phone is not logged", "89001234567")
}

// TestTransfer_AtAPromoRateNamesThePromoProject sends seed 002's transfer at the sandbox's promo rate: with the
// promo rate's project id (transfer.promo_project_id, sent as X-PARTNER-PROJECT) it goes through; without it the
// bank refuses it and nothing moves.
func TestTransfer_AtAPromoRateNamesThePromoProject(t *testing.T) {
	promo := func(id string) func(map[string]any) {
		return func(m map[string]any) {
			transferPart(m)["rate"] = bank131sandbox.SandboxPromoRate
			if id != "" {
				transferPart(m)["promo_project_id"] = id
			}
		}
	}
	refused := waitFor(t, createNew(t, st.api.URL, t.Name()+"-without", transferBody(t, promo(""))), payout.StatusFailed)
	require.Equal(t, "invalid_request", refused.Failure.Code)
	require.Empty(t, ledgerFor(refused.ID))

	id := createNew(t, st.api.URL, t.Name(), transferBody(t, promo(bank131sandbox.SandboxPromoProject)))
	var s payout.State
	waitUntil(t, func() bool { s = get(t, id); return s.PayerAction != nil })
	res, err := http.Get(s.PayerAction.RedirectURL) // the payer passes 3-D Secure
	require.NoError(t, err)
	res.Body.Close()
	waitFor(t, id, payout.StatusSucceeded)
	require.Len(t, ledgerFor(id), 1)

	bad := create(t, st.api.URL, t.Name()+"-bad", transferBody(t, promo("promo 131")))
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status, string(bad.Body))
	code, field := bad.apiError(t)
	require.Equal(t, "invalid_promo_project_id", code)
	require.Equal(t, "transfer.promo_project_id", field)
}
