package bank131

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
)

// The seed's ready_to_confirm webhook.
const readyToConfirmHook = `{
"type": "ready_to_confirm",
"session": {
  "id": "ps_3230", "status": "in_progress",
  "created_at": "2018-05-27T02:03:00.000000Z", "updated_at": "2018-05-27T02:03:00.000000Z",
  "next_action": "confirm",
  "payments": [{
    "id": "po_2018", "status": "pending", "created_at": "2018-05-27T02:03:00.000000Z",
    "customer": {"reference": "user123", "contacts": [{"email": "user@gmail.com"}]},
    "payment_method": {"type": "card", "card": {"last4": "4242", "brand": "visa"}},
    "amount_details": {"amount": 10000, "currency": "rub"},
    "metadata": "good"
  }]
}}`

func signedHeader(t *testing.T, body string) http.Header {
	t.Helper()
	_, bank := testKeys(t)
	sig, err := Sign(bank, []byte(body))
	require.NoError(t, err)
	return http.Header{"X-Partner-Sign": []string{sig}}
}

func TestWebhooks_ReadyToConfirmBecomesAnEvent(t *testing.T) {
	_, bank := testKeys(t)
	w := NewWebhooks(&bank.PublicKey)

	events, err := w.Translate(signedHeader(t, readyToConfirmHook), []byte(readyToConfirmHook))

	require.NoError(t, err)
	require.Equal(t, []providers.Event{{
		Kind:     providers.EventReadyToConfirm,
		Provider: "bank131",
		Outcome: providers.Outcome{
			Ref:    providers.Ref{PayoutID: "good", SessionID: "ps_3230", PaymentID: "po_2018"},
			State:  providers.StateAwaitingConfirm,
			Card:   &payout.MaskedCard{Brand: "visa", Last4: "4242"},
			Amount: &payout.Amount{Value: 10000, Currency: "RUB"},
		},
	}}, events)
}

func TestWebhooks_PaymentFinishedBecomesAnEvent(t *testing.T) {
	_, bank := testKeys(t)
	w := NewWebhooks(&bank.PublicKey)
	tests := []struct {
		name  string
		body  string
		state providers.State
		code  string
	}{
		{"succeeded, payout ID as a string",
			`{"type":"payment_finished","session":{"id":"ps_1","status":"accepted","payments":[{"id":"po_1","status":"succeeded","metadata":"po_ours"}]}}`,
			providers.StateSucceeded, ""},
		{"failed, payout ID in an object",
			`{"type":"payment_finished","session":{"id":"ps_1","status":"error","payments":[{"id":"po_1","status":"failed","metadata":{"payout_id":"po_ours"},"error":{"code":"declined_by_issuer_bank","description":"Declined by issuer bank"}}]}}`,
			providers.StateFailed, "declined_by_issuer_bank"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := w.Translate(signedHeader(t, tt.body), []byte(tt.body))

			require.NoError(t, err)
			require.Len(t, events, 1)
			require.Equal(t, providers.EventPaymentFinished, events[0].Kind)
			require.Equal(t, providers.Ref{PayoutID: "po_ours", SessionID: "ps_1", PaymentID: "po_1"}, events[0].Outcome.Ref)
			require.Equal(t, tt.state, events[0].Outcome.State)
			require.Equal(t, tt.code, events[0].Outcome.ErrorCode)
		})
	}
}

// paymentFinishedV2Hook is the seed's webhook (001, step 3) at its end, with the result where step 5 says it is:
// in status of payout_list, the API v2 name of payments (payout_details that of payment_method).
const paymentFinishedV2Hook = `{
"type": "payment_finished",
"session": {
  "id": "ps_3230", "status": "accepted",
  "created_at": "2018-05-27T02:03:00.000000Z", "updated_at": "2018-05-27T02:03:00.000000Z",
  "payout_list": [{
    "id": "po_2018", "status": "succeeded", "created_at": "2018-05-27T02:03:00.000000Z",
    "customer": {"reference": "user123", "contacts": [{"email": "user123@test.ru"}]},
    "payout_details": {"type": "card", "card": {"type": "tokenized_card",
      "tokenized_card": {"token": "759c9852dde2211d7531b3d905c1d513fbfb914bee87fb567d99c7b2f2c2ad44"}}},
    "amount_details": {"amount": 10000, "currency": "rub"},
    "metadata": "good"
  }]
}}`

func TestWebhooks_PayoutListIsReadAsPayments(t *testing.T) {
	_, bank := testKeys(t)
	w := NewWebhooks(&bank.PublicKey)
	readyV2 := strings.Replace(readyToConfirmHook, `"payments"`, `"payout_list"`, 1)
	readyV2 = strings.Replace(readyV2, `"payment_method"`, `"payout_details"`, 1)
	tests := []struct {
		name, body string
		want       providers.Event
	}{
		{"payment_finished", paymentFinishedV2Hook, providers.Event{
			Kind: providers.EventPaymentFinished, Provider: "bank131",
			Outcome: providers.Outcome{
				Ref:    providers.Ref{PayoutID: "good", SessionID: "ps_3230", PaymentID: "po_2018"},
				State:  providers.StateSucceeded,
				Amount: &payout.Amount{Value: 10000, Currency: "RUB"},
			},
		}},
		{"ready_to_confirm", readyV2, providers.Event{
			Kind: providers.EventReadyToConfirm, Provider: "bank131",
			Outcome: providers.Outcome{
				Ref:    providers.Ref{PayoutID: "good", SessionID: "ps_3230", PaymentID: "po_2018"},
				State:  providers.StateAwaitingConfirm,
				Card:   &payout.MaskedCard{Brand: "visa", Last4: "4242"},
				Amount: &payout.Amount{Value: 10000, Currency: "RUB"},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := w.Translate(signedHeader(t, tt.body), []byte(tt.body))

			require.NoError(t, err)
			require.Equal(t, []providers.Event{tt.want}, events)
		})
	}
}

func TestWebhooks_ForgedSignatureIsRejected(t *testing.T) {
	partner, bank := testKeys(t)
	w := NewWebhooks(&bank.PublicKey)
	byPartner, err := Sign(partner, []byte(readyToConfirmHook))
	require.NoError(t, err)
	tests := []struct {
		name   string
		header http.Header
		body   string
	}{
		{"no signature", http.Header{}, readyToConfirmHook},
		{"signed by another key", http.Header{"X-Partner-Sign": []string{byPartner}}, readyToConfirmHook},
		{"body changed after signing", signedHeader(t, readyToConfirmHook), readyToConfirmHook + " "},
		{"signature not base64", http.Header{"X-Partner-Sign": []string{"a4f1698616d6"}}, readyToConfirmHook},
		{"garbage with no signature", http.Header{}, "not json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := w.Translate(tt.header, []byte(tt.body))

			require.ErrorIs(t, err, providers.ErrBadSignature)
			require.Nil(t, events)
		})
	}
}

func TestWebhooks_WithoutBankKeyEverythingIsRejected(t *testing.T) {
	events, err := NewWebhooks(nil).Translate(signedHeader(t, readyToConfirmHook), []byte(readyToConfirmHook))

	require.ErrorIs(t, err, providers.ErrBadSignature)
	require.Nil(t, events)
}

func TestWebhooks_SignedButMalformedBodyIsReported(t *testing.T) {
	_, bank := testKeys(t)
	w := NewWebhooks(&bank.PublicKey)
	tests := map[string]string{
		"not JSON":                `not json`,
		"no type":                 `{"session":{"id":"ps_1"}}`,
		"no session":              `{"type":"payment_finished"}`,
		"no session id":           `{"type":"payment_finished","session":{"status":"accepted"}}`,
		"no payment":              `{"type":"ready_to_confirm","session":{"id":"ps_1","status":"in_progress"}}`,
		"no metadata":             `{"type":"payment_finished","session":{"id":"ps_1","payments":[{"id":"po_1","status":"succeeded"}]}}`,
		"metadata without ID":     `{"type":"payment_finished","session":{"id":"ps_1","payments":[{"id":"po_1","status":"succeeded","metadata":{"order":"1"}}]}}`,
		"card number in a number": `{"type":"payment_finished","session":{"id":"ps_1","payments":[{"amount_details":{"amount":4242424242424242.5}}]}}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			events, err := w.Translate(signedHeader(t, body), []byte(body))

			var malformed *providers.MalformedError
			require.ErrorAs(t, err, &malformed)
			require.NotContains(t, err.Error(), "4242424242424242")
			require.Nil(t, events)
		})
	}
}

func TestWebhooks_OtherTypesAreIgnored(t *testing.T) {
	_, bank := testKeys(t)
	w := NewWebhooks(&bank.PublicKey)
	// action_required without a payout in its metadata concerns acquiring: see TestWebhooks_ActionRequired*.
	for _, typ := range []string{"action_required", "ready_to_capture", "payment_refunded", "transaction_registration"} {
		t.Run(typ, func(t *testing.T) {
			body := `{"type":"` + typ + `","session":{"id":"ps_1","status":"in_progress"}}`

			events, err := w.Translate(signedHeader(t, body), []byte(body))

			require.NoError(t, err)
			require.Empty(t, events)
		})
	}
}

// actionRequiredHook is an action_required webhook of a transfer (the transfer API's session, v1 names): the
// payer must pass 3-D Secure.
const actionRequiredHook = `{
"type": "action_required",
"session": {
  "id": "ps_5988", "status": "in_progress",
  "created_at": "2024-07-02T12:13:23.692217Z", "updated_at": "2024-07-02T12:13:24.871574Z",
  "payments": [{
    "id": "po_2040", "status": "in_progress", "created_at": "2024-07-02T12:13:24.894376Z",
    "customer": {"reference": "lucky"},
    "payment_method": {"type": "card", "card": {"brand": "mir", "last4": "1098", "country_iso3": "TJK"}},
    "amount_details": {"amount": 10843, "currency": "tjs"},
    "metadata": "po_ours"
  }],
  "acquiring_payments": [{
    "id": "pm_3345", "status": "in_progress", "created_at": "2024-07-02T12:13:24.894294Z",
    "payment_details": {"type": "card", "card": {"brand": "visa", "last4": "4242", "country_iso3": "GBR"}},
    "amount_details": {"amount": 10843, "currency": "tjs"},
    "customer_interaction": {"type": "redirect", "redirect": {"url": "https://acs.example/3ds?md=1",
      "base_url": "https://acs.example/3ds", "method": "POST", "qs": {"md": "1"}, "params": {"PaReq": "x"}}}
  }]
}}`

func TestWebhooks_ActionRequiredBecomesAnEvent(t *testing.T) {
	_, bank := testKeys(t)
	w := NewWebhooks(&bank.PublicKey)
	onlyAcquiring := strings.Replace(actionRequiredHook, `"metadata": "po_ours"`, `"metadata": null`, 1)
	onlyAcquiring = strings.Replace(onlyAcquiring, `"customer_interaction"`, `"metadata": {"payout_id": "po_ours"}, "customer_interaction"`, 1)
	tests := map[string]string{
		"payout ID in the payout":            actionRequiredHook,
		"payout ID in the acquiring payment": onlyAcquiring,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			events, err := w.Translate(signedHeader(t, body), []byte(body))

			require.NoError(t, err)
			require.Equal(t, []providers.Event{{
				Kind:     EventActionRequired,
				Provider: "bank131",
				Outcome: providers.Outcome{
					Ref:     providers.Ref{PayoutID: "po_ours", SessionID: "ps_5988", PaymentID: "po_2040"},
					State:   providers.StatePending,
					Card:    &payout.MaskedCard{Brand: "mir", Last4: "1098"},
					Amount:  &payout.Amount{Value: 10843, Currency: "TJS"},
					Details: map[string]string{"redirect_url": "https://acs.example/3ds?md=1", "redirect_method": "POST"},
				},
			}}, events)
		})
	}
}

func TestWebhooks_ActionRequiredOfNoPayoutIsIgnored(t *testing.T) {
	_, bank := testKeys(t)
	w := NewWebhooks(&bank.PublicKey)
	body := strings.Replace(actionRequiredHook, `"metadata": "po_ours"`, `"metadata": "not json`, 1)
	body = strings.Replace(body, `"metadata": "not json`, `"metadata": {"order": "1"}`, 1)

	events, err := w.Translate(signedHeader(t, body), []byte(body))

	require.NoError(t, err)
	require.Empty(t, events, "an acquiring payment's action_required: no payout waits for it")
	_, err = w.Translate(signedHeader(t, `{"type":"action_required"}`), []byte(`{"type":"action_required"}`))
	var malformed *providers.MalformedError
	require.ErrorAs(t, err, &malformed)
}
