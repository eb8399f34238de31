package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers/bank131"
)

// Cross-border transfers (Bank 131's session/multi/init): the sender pays by card in roubles after 3-D Secure, the
// recipient's card is paid in another currency.

// transferBody is seed 002's transfer as a payoutflow request; change edits it before it is encoded.
func transferBody(t *testing.T, change func(m map[string]any)) string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(`{
	  "provider": "bank131",
	  "amount": {"value": 10843, "currency": "TJS"},
	  "destination": {"type": "card", "card": {"number": "5058270610441098"}},
	  "recipient": {"full_name": "Pahmutov Maksim Semenovich"},
	  "description": "Transfer to family",
	  "transfer": {
	    "source": {"value": 100000, "currency": "RUB"},
	    "rate": "9.2222",
	    "provider_rate": "8.2200",
	    "provider_tx_id": "test1",
	    "recurrent": true,
	    "return_url": "https://shop.example/back",
	    "customer_reference": "lucky",
	    "sender": {
	      "first_name": "Ольга", "last_name": "Пахмутова", "middle_name": "Семёновна",
	      "citizenship_country": "RUS", "country": "TUR", "city": "Уренгой", "street": "Конаковская", "building": "1",
	      "birth_date": "1998-03-15", "phone": "+79376151530",
	      "document": {"type": "Паспорт гражданина Российской Федерации", "number": "8008 579120",
	                   "issued_at": "2020-03-01", "issued_by": "ОВД ПО Кировскому району"}
	    },
	    "recipient": {"first_name": "Maksim", "last_name": "Pahmutov", "middle_name": "Semenovich",
	                  "birth_date": "2000-11-08", "phone": "+43523452345"},
	    "sender_card": {"number": "4242424242424242", "exp_month": "01", "exp_year": "2029", "cvv": "987"}
	  }
	}`), &m))
	if change != nil {
		change(m)
	}
	b, err := json.Marshal(m)
	require.NoError(t, err)
	return string(b)
}

func transferPart(m map[string]any) map[string]any { return m["transfer"].(map[string]any) }

func TestTransfer_PayerPasses3DSecureAndTheRecipientIsPaid(t *testing.T) {
	id := createNew(t, st.api.URL, t.Name(), transferBody(t, nil))

	// The bank asks the payer to pass 3-D Secure; the redirect is in the payout's state for the backend.
	var s payout.State
	waitUntil(t, func() bool { s = get(t, id); return s.PayerAction != nil })
	require.Equal(t, payout.StatusSubmitted, s.Status)
	require.Contains(t, s.PayerAction.RedirectURL, "/_sandbox/3ds/")
	require.Empty(t, ledgerFor(id), "no money moves before 3-D Secure")

	res, err := http.Get(s.PayerAction.RedirectURL) // the payer's browser
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)

	s = waitFor(t, id, payout.StatusSucceeded)
	require.Regexp(t, `^rt_\d+$`, s.ProviderRefs[bank131.DetailRecurrentToken], "the recurrent token is kept")
	require.Equal(t, "transfer", s.Method)
	entries := ledgerFor(id)
	require.Len(t, entries, 1)
	require.Equal(t, int64(10843), entries[0].Amount)
	require.Equal(t, "tjs", entries[0].Currency)
	require.Equal(t, int64(100000), entries[0].SourceAmount)

	// The sender's card and its security code never reach Temporal.
	scanner := newLeakScanner("4242424242424242")
	for _, ev := range historyEvents(t, id) {
		require.Empty(t, scanner.message(eventName(ev), ev), "the stored history, each payload's bytes")
	}
	requireNotLogged(t, "logs hold no sender card", "4242424242424242")
	decoded := decodedHistory(t, id) // what the codec would show with the key
	require.NotContains(t, decoded, "4242424242424242", "the sender's card is not even in the encrypted input")
	require.NotContains(t, decoded, `"cvv"`)
	require.NotContains(t, decoded, "sender_card")
	require.Contains(t, decoded, "5058270610441098", "(the recipient's card is, encrypted, as for every card payout)")

	// The same request again is the same payout: the bank is not asked twice.
	again := create(t, st.api.URL, t.Name(), transferBody(t, nil))
	require.Equal(t, http.StatusOK, again.Status, string(again.Body))
	require.Len(t, ledgerFor(id), 1)
}

func TestTransfer_FailedAt3DSecureFails(t *testing.T) {
	id := createNew(t, st.api.URL, t.Name(), transferBody(t, nil))
	var s payout.State
	waitUntil(t, func() bool { s = get(t, id); return s.PayerAction != nil })
	res, err := http.Get(s.PayerAction.RedirectURL + "?result=fail")
	require.NoError(t, err)
	res.Body.Close()
	s = waitFor(t, id, payout.StatusFailed)
	require.Equal(t, payout.FailurePayerAuthentication, s.Failure.Code)
	require.Equal(t, "3DS_error", s.Failure.ProviderCode)
	require.Empty(t, ledgerFor(id))
}

func TestTransfer_BadInputIsRefusedAndStartsNothing(t *testing.T) {
	tests := []struct {
		name        string
		change      func(m map[string]any)
		field, code string
	}{
		{"rate with two places", func(m map[string]any) { transferPart(m)["rate"] = "9.22" }, "transfer.rate", "invalid_rate_precision"},
		{"rate as a number", func(m map[string]any) { transferPart(m)["rate"] = 9.2222 }, "transfer.rate", "invalid_type"},
		{"provider rate with five places", func(m map[string]any) { transferPart(m)["provider_rate"] = "8.22001" },
			"transfer.provider_rate", "invalid_rate_precision"},
		{"no sender document", func(m map[string]any) {
			delete(transferPart(m)["sender"].(map[string]any), "document")
		}, "transfer.sender.document", "required"},
		{"no sender card", func(m map[string]any) { delete(transferPart(m), "sender_card") }, "transfer.sender_card", "required"},
		{"bad cvv", func(m map[string]any) {
			transferPart(m)["sender_card"].(map[string]any)["cvv"] = "12"
		}, "transfer.sender_card.cvv", "invalid_cvv"},
		{"source not in roubles", func(m map[string]any) {
			transferPart(m)["source"] = map[string]any{"value": 100000, "currency": "USD"}
		}, "transfer.source.currency", "currency_not_supported"},
		{"no provider tx id", func(m map[string]any) { delete(transferPart(m), "provider_tx_id") }, "transfer.provider_tx_id", "required"},
		{"sender country not ISO3", func(m map[string]any) {
			transferPart(m)["sender"].(map[string]any)["country"] = "TR"
		}, "transfer.sender.country", "invalid_country"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireRefused(t, "transfer-"+tt.name, transferBody(t, tt.change), tt.field, tt.code)
		})
	}
}

// waitUntil polls cond until it holds, for up to 30 s.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, 30*time.Second, 50*time.Millisecond)
}

// decodedHistory is every payload of the payout's history, decrypted with the codec, as JSON text.
func decodedHistory(t *testing.T, id string) string {
	t.Helper()
	var sb strings.Builder
	it := st.raw.GetWorkflowHistory(context.Background(), id, "", false, 0)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		var payloads []*commonpb.Payload
		if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			payloads = a.GetInput().GetPayloads()
		}
		if a := ev.GetWorkflowExecutionSignaledEventAttributes(); a != nil {
			payloads = a.GetInput().GetPayloads()
		}
		for _, p := range payloads {
			var v any
			require.NoError(t, st.dc.FromPayload(p, &v))
			b, err := json.Marshal(v)
			require.NoError(t, err)
			sb.Write(b)
		}
	}
	return sb.String()
}

func TestTransfer_LostAnswerAndARepeatedCreatePayOnce(t *testing.T) {
	st.sandbox.FailNext(1) // multi/init takes effect, its answer is lost
	id := createNew(t, st.api.URL, t.Name(), transferBody(t, nil))

	// The backend, unsure, sends the same request again: the API hands it over again under the same key, which
	// the bank refuses as already known.
	again := create(t, st.api.URL, t.Name(), transferBody(t, nil))
	require.Equal(t, http.StatusOK, again.Status, string(again.Body))

	var s payout.State
	waitUntil(t, func() bool { s = get(t, id); return s.PayerAction != nil })
	res, err := http.Get(s.PayerAction.RedirectURL)
	require.NoError(t, err)
	res.Body.Close()
	waitFor(t, id, payout.StatusSucceeded)
	require.Len(t, ledgerFor(id), 1, "paid once")
}
