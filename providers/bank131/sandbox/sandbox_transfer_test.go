package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bank131"
)

// passThreeDS completes the payer's 3-D Secure at the redirect, as the payer's browser would, and returns the HTTP
// status answered.
func passThreeDS(t *testing.T, method, redirect string, form url.Values) int {
	t.Helper()
	var (
		resp *http.Response
		err  error
	)
	if method == http.MethodPost {
		resp, err = http.PostForm(redirect, form)
	} else {
		u := redirect
		if len(form) > 0 {
			u += "?" + form.Encode()
		}
		resp, err = http.Get(u)
	}
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// transferAwaitingPayer starts a transfer and waits for its action_required event.
func (h *harness) transferAwaitingPayer(t *testing.T, payoutID string, tr bank131.Transfer) (providers.Outcome, providers.Event) {
	t.Helper()
	out, err := h.provider.Transfer(context.Background(), providers.Ref{PayoutID: payoutID}, tr)
	require.NoError(t, err)
	require.Regexp(t, `^ps_\d+$`, out.Ref.SessionID)
	require.Equal(t, providers.StatePending, out.State)
	e := h.nextEvent(t)
	require.Equal(t, bank131.EventActionRequired, e.Kind)
	require.Equal(t, out.Ref, e.Outcome.Ref)
	require.Equal(t, providers.StatePending, e.Outcome.State)
	require.Equal(t, h.api.URL+"/_sandbox/3ds/"+out.Ref.SessionID, e.Outcome.Details[bank131.DetailRedirectURL])
	return out, e
}

func TestSandbox_TransferPassesThreeDSecureThenPaysOut(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		t.Run(method, func(t *testing.T) {
			h := newHarness(t)
			ctx := context.Background()
			out, action := h.transferAwaitingPayer(t, "po_transfer", seedTransfer())
			require.Empty(t, h.sandbox.Ledger(), "no money moves before 3-D Secure")
			require.Equal(t, "GET", action.Outcome.Details[bank131.DetailRedirectMethod])

			require.Equal(t, http.StatusOK, passThreeDS(t, method, action.Outcome.Details[bank131.DetailRedirectURL], nil))

			finished := h.nextEvent(t)
			require.Equal(t, providers.EventPaymentFinished, finished.Kind, "no confirm: straight to payment_finished")
			require.Equal(t, out.Ref, finished.Outcome.Ref)
			require.Equal(t, providers.StateSucceeded, finished.Outcome.State)
			require.Regexp(t, `^rt_\d+$`, finished.Outcome.Details[bank131.DetailRecurrentToken])
			require.Empty(t, finished.Outcome.Details[bank131.DetailRedirectURL], "nothing more to do for the payer")
			require.Equal(t, &AmountDetails{Amount: 10843, Currency: "tjs"}, &AmountDetails{
				Amount: finished.Outcome.Amount.Value, Currency: strings.ToLower(finished.Outcome.Amount.Currency)})

			st, err := h.provider.Status(ctx, out.Ref)
			require.NoError(t, err)
			require.Equal(t, providers.StateSucceeded, st.State)
			require.Equal(t, "accepted", st.Details[bank131.DetailSessionStatus])
			require.Equal(t, finished.Outcome.Details[bank131.DetailRecurrentToken], st.Details[bank131.DetailRecurrentToken])
			ledger := h.sandbox.Ledger()
			require.Len(t, ledger, 1)
			require.Equal(t, LedgerEntry{SessionID: out.Ref.SessionID, PaymentID: out.Ref.PaymentID, Metadata: "po_transfer",
				Method: "transfer", Amount: 10843, Currency: "tjs", CardLast4: "1098", SourceAmount: 100000,
				SourceCurrency: "rub", ExecutedAt: ledger[0].ExecutedAt}, ledger[0])

			require.Equal(t, http.StatusConflict, passThreeDS(t, method, action.Outcome.Details[bank131.DetailRedirectURL], nil),
				"3-D Secure is passed once")
			_, err = h.provider.Confirm(ctx, out.Ref)
			requireProviderError(t, err, providers.Known, "session_wrong_state")
			h.noEvent(t)
			require.Len(t, h.sandbox.Ledger(), 1)
		})
	}
}

func TestSandbox_TransferThatFails(t *testing.T) {
	declined := seedTransfer()
	declined.RecipientCard = SandboxCardDeclined
	tests := []struct {
		name string
		tr   bank131.Transfer
		form url.Values
		code string
	}{
		{"the payer fails 3-D Secure", seedTransfer(), url.Values{"result": {"fail"}}, "3DS_error"},
		{"the recipient's card is declined", declined, nil, "declined_by_issuer_bank"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			out, action := h.transferAwaitingPayer(t, "po_fail", tt.tr)

			require.Equal(t, http.StatusOK, passThreeDS(t, http.MethodPost, action.Outcome.Details[bank131.DetailRedirectURL], tt.form))

			e := h.nextEvent(t)
			require.Equal(t, providers.EventPaymentFinished, e.Kind)
			require.Equal(t, out.Ref, e.Outcome.Ref)
			require.Equal(t, providers.StateFailed, e.Outcome.State)
			require.Equal(t, tt.code, e.Outcome.ErrorCode)
			require.Empty(t, e.Outcome.Details[bank131.DetailRecurrentToken])
			require.Empty(t, h.sandbox.Ledger())
		})
	}
}

func TestSandbox_TransferWithoutWebhooksIsPolled(t *testing.T) {
	h := newHarness(t, withNoWebhooks())
	ctx := context.Background()
	tr := seedTransfer()
	tr.Recurrent = false
	out, err := h.provider.Transfer(ctx, providers.Ref{PayoutID: "po_poll_t"}, tr)
	require.NoError(t, err)
	require.Empty(t, out.Details[bank131.DetailRedirectURL], "the redirect comes with action_required, after the answer")

	var redirect string
	require.Eventually(t, func() bool {
		st, err := h.provider.Transfer(ctx, out.Ref, tr) // with a session: the status
		redirect = st.Details[bank131.DetailRedirectURL]
		return err == nil && redirect != ""
	}, 5*time.Second, 2*time.Millisecond)
	require.Equal(t, http.StatusOK, passThreeDS(t, http.MethodGet, redirect, nil))
	require.Eventually(t, func() bool {
		st, err := h.provider.Status(ctx, out.Ref)
		return err == nil && st.State == providers.StateSucceeded && st.Details[bank131.DetailRecurrentToken] == ""
	}, 5*time.Second, 2*time.Millisecond)
	require.Empty(t, h.receivedHooks())
	require.Len(t, h.sandbox.Ledger(), 1)
}

func TestSandbox_RepeatedTransferIsRefusedByItsIdempotencyKey(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	_, err := h.provider.Transfer(ctx, providers.Ref{PayoutID: "po_twice"}, seedTransfer())
	require.NoError(t, err)

	_, err = h.provider.Transfer(ctx, providers.Ref{PayoutID: "po_twice"}, seedTransfer())

	pe := requireProviderError(t, err, providers.Unknown, "idempotency_key_already_exists")
	require.True(t, pe.Exists)
	require.NotContains(t, err.Error(), SandboxCardSucceeds)
}

func TestSandbox_RejectsInvalidTransfers(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name   string
		change func(map[string]any)
		field  string
	}{
		{"a rate of two places, as the example's provider_rate", func(b map[string]any) {
			b["amounts"].(map[string]any)["provider_rate"].(map[string]any)["rate"] = "8.22"
		}, "amounts.provider_rate.rate"},
		{"a rate of five places as a number", func(b map[string]any) {
			b["amounts"].(map[string]any)["rate"].(map[string]any)["rate"] = json.Number("9.22221")
		}, "amounts.rate.rate"},
		{"a rate to another currency", func(b map[string]any) {
			b["amounts"].(map[string]any)["rate"].(map[string]any)["to_currency"] = "uzs"
		}, "amounts.rate.to_currency"},
		{"a source not in roubles", func(b map[string]any) {
			b["amounts"].(map[string]any)["source"].(map[string]any)["currency"] = "usd"
		}, "amounts.source.currency"},
		{"no amounts", func(b map[string]any) { delete(b, "amounts") }, "amounts"},
		{"no amount_details", func(b map[string]any) { delete(b, "amount_details") }, "amount_details"},
		{"a sender card failing Luhn", func(b map[string]any) {
			senderCard(b)["number"] = "4242424242424241"
		}, "payment_details_multi[0].card.bank_card.number"},
		{"a security code of two digits", func(b map[string]any) { senderCard(b)["security_code"] = "12" },
			"security_code"},
		{"an expiry month 13", func(b map[string]any) { senderCard(b)["expiration_month"] = "13" }, "expiration_month"},
		{"no recipient card", func(b map[string]any) { delete(b, "payout_details_multi") }, "payout_details_multi"},
		{"no sender name", func(b map[string]any) {
			b["participant_details"].(map[string]any)["sender"].(map[string]any)["last_name"] = ""
		}, "participant_details.sender"},
		{"no provider_tx_id", func(b map[string]any) { delete(b, "payment_metadata") }, "payment_metadata.provider_tx_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := seedMultiInit("po_bad")
			var b map[string]any
			dec := json.NewDecoder(strings.NewReader(string(raw)))
			dec.UseNumber()
			require.NoError(t, dec.Decode(&b))
			tt.change(b)
			raw, err := json.Marshal(b)
			require.NoError(t, err)

			status, env, answer := h.post(t, h.partner, testProject, "session/multi/init", raw, nil)

			require.Equal(t, http.StatusBadRequest, status)
			require.Equal(t, "invalid_request", env.Error.Code)
			require.Contains(t, env.Error.Description, tt.field)
			require.NotContains(t, string(answer), "424242424242424")
			require.NotContains(t, string(answer), `"123"`)
		})
	}
	h.noEvent(t)
}

// senderCard is the sender's bank_card in a decoded multi/init body.
func senderCard(b map[string]any) map[string]any {
	pm := b["payment_details_multi"].([]any)[0].(map[string]any)
	return pm["card"].(map[string]any)["bank_card"].(map[string]any)
}

func TestSandbox_APromoRateNeedsItsProjectInTheHeader(t *testing.T) {
	h := newHarness(t)
	body := func(rate string) []byte {
		seed := string(seedMultiInit("po_promo"))
		require.Contains(t, seed, `"rate": "9.2222"`)
		return []byte(strings.Replace(seed, `"rate": "9.2222"`, `"rate": "`+rate+`"`, 1))
	}
	tests := []struct {
		name, project, rate string
		ok                  bool
		says                string
	}{
		{"the seed's rate, our project", testProject, "9.2222", true, ""},
		{"the promo rate, its project", SandboxPromoProject, SandboxPromoRate, true, ""},
		{"the promo rate, our project", testProject, SandboxPromoRate, false, "X-PARTNER-PROJECT"},
		{"the promo project, another rate", SandboxPromoProject, "9.2222", false, "X-PARTNER-PROJECT"},
		{"an unknown project", "promo_nope", SandboxPromoRate, false, "X-PARTNER-PROJECT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, env, _ := h.post(t, h.partner, tt.project, "session/multi/init", body(tt.rate), nil)

			if tt.ok {
				require.Equal(t, http.StatusOK, status, "%+v", env.Error)
				return
			}
			require.NotEqual(t, http.StatusOK, status)
			require.NotNil(t, env.Error)
			require.Contains(t, env.Error.Description, tt.says)
		})
	}
}

func TestSandbox_TransferAtAPromoRateThroughTheProvider(t *testing.T) {
	h := newHarness(t)
	promo := seedTransfer()
	promo.Amounts.Rate.Rate = SandboxPromoRate
	_, err := h.provider.Transfer(context.Background(), providers.Ref{PayoutID: "po_promo_without"}, promo)
	pe := requireProviderError(t, err, providers.Known, "invalid_request")
	require.Contains(t, pe.Description, "promo")

	promo.PromoProjectID = SandboxPromoProject
	h.transferAwaitingPayer(t, "po_promo", promo)
}

func TestSandbox_TakesARateAsAJSONNumberToo(t *testing.T) {
	h := newHarness(t)
	seed := string(seedMultiInit("po_number"))
	raw := []byte(strings.Replace(seed, `"rate": "9.2222"`, `"rate": 9.2222`, 1))
	require.NotEqual(t, seed, string(raw), "the seed's rate was not turned into a number")

	status, env, _ := h.post(t, h.partner, testProject, "session/multi/init", raw, nil)

	require.Equal(t, http.StatusOK, status, "%+v", env.Error)
}

func TestSandbox_TransferAwaitingThePayerSurvivesReopen(t *testing.T) {
	file := stateFile(t)
	h := newHarness(t, withStateFile(file))
	out, action := h.transferAwaitingPayer(t, "po_t_reopen", seedTransfer())
	h.awaitSent(t, out.Ref.SessionID, hookActionRequired)
	h.kill(t)

	h = newHarness(t, withStateFile(file))
	h.noEvent(t) // action_required was delivered: not sent again
	old, err := url.Parse(action.Outcome.Details[bank131.DetailRedirectURL])
	require.NoError(t, err)
	redirect := h.api.URL + old.Path // the reopened sandbox listens on another port
	require.Equal(t, http.StatusOK, passThreeDS(t, http.MethodGet, redirect, nil))
	e := h.nextEvent(t)
	require.Equal(t, providers.EventPaymentFinished, e.Kind)
	require.Equal(t, providers.StateSucceeded, e.Outcome.State)
	require.Len(t, h.sandbox.Ledger(), 1)

	data, err := os.ReadFile(file)
	require.NoError(t, err)
	for _, secret := range []string{SandboxCardSucceeds, "5058270610441098", `"123"`} {
		require.NotContains(t, string(data), secret)
	}
	for _, b := range h.receivedHooks() {
		require.NotContains(t, string(b), SandboxCardSucceeds)
	}
}

func TestSandbox_ThreeDSPageOfNoTransfer(t *testing.T) {
	h := newHarness(t)
	ref := h.awaitingConfirm(t, "po_card", SandboxCardSucceeds)

	require.Equal(t, http.StatusNotFound, passThreeDS(t, http.MethodGet, h.api.URL+"/_sandbox/3ds/ps_0", nil))
	require.Equal(t, http.StatusNotFound, passThreeDS(t, http.MethodGet,
		fmt.Sprintf("%s/_sandbox/3ds/%s", h.api.URL, ref.SessionID), nil), "a card payout has no 3-D Secure")
}
