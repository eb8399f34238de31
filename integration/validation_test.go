package integration

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
)

func newServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestCreatePayout_BadInputIsRejectedAndStartsNothing(t *testing.T) {
	valid := cardPayout(cardSucceeds)
	tests := []struct {
		name   string
		key    string
		body   string
		status int
		code   string
		field  string
	}{
		{"no idempotency key", "-", valid, 400, "idempotency_key_required", "Idempotency-Key"},
		{"idempotency key with spaces", "a key", valid, 400, "invalid_idempotency_key", "Idempotency-Key"},
		{"empty body", "", "", 400, "invalid_json", ""},
		{"not json", "", "{provider: bank131", 400, "invalid_json", ""},
		{"json array", "", "[1,2]", 400, "invalid_json", ""},
		{"amount is a string", "", strings.Replace(valid, `"value":10000`, `"value":"100"`, 1), 400, "invalid_type", "amount.value"},
		{"unknown field", "", strings.Replace(valid, `"provider"`, `"pan":"1","provider"`, 1), 400, "unknown_field", "pan"},
		{"missing provider", "", strings.Replace(valid, `"provider":"bank131",`, ``, 1), 422, "required", "provider"},
		{"unknown provider", "", strings.Replace(valid, `"bank131"`, `"paypal"`, 1), 422, "unknown_provider", "provider"},
		{"zero amount", "", strings.Replace(valid, `"value":10000`, `"value":0`, 1), 422, "must_be_positive", "amount.value"},
		{"negative amount", "", strings.Replace(valid, `"value":10000`, `"value":-5`, 1), 422, "must_be_positive", "amount.value"},
		{"unknown currency", "", strings.Replace(valid, `"RUB"`, `"XYZ"`, 1), 422, "unknown_currency", "amount.currency"},
		{"lower-case currency", "", strings.Replace(valid, `"RUB"`, `"rub"`, 1), 422, "unknown_currency", "amount.currency"},
		{"currency bank131 does not pay cards in", "", strings.Replace(valid, `"RUB"`, `"USD"`, 1), 422, "currency_not_supported", "amount.currency"},
		{"card fails luhn", "", cardPayout("4242424242424241"), 422, "invalid_luhn", "destination.card.number"},
		{"card too short", "", cardPayout("424242424242"), 422, "invalid_length", "destination.card.number"},
		{"card with spaces", "", cardPayout("4242 4242 4242 4242"), 422, "not_digits", "destination.card.number"},
		{"no card", "", strings.Replace(valid, `"card":{"number":"4242424242424242"}`, `"card":{}`, 1), 422, "required", "destination.card.number"},
		{"unknown destination", "", strings.Replace(valid, `"type":"card"`, `"type":"iban"`, 1), 422, "unknown_destination_type", "destination.type"},
		{"method the provider lacks", "", `{"provider":"bepaid","amount":{"value":100,"currency":"RUB"},"destination":{"type":"sbp","sbp":{"phone":"+79001234567","bank_id":"100000000111"}},"recipient":{"full_name":"Ivanov Ivan"}}`, 422, "method_not_supported", "destination.type"},
		{"no recipient name", "", strings.Replace(valid, `"Ivanov Ivan"`, `"  "`, 1), 422, "required", "recipient.full_name"},
		{"description too long", "", strings.Replace(valid, `"Payout for order 123"`, `"`+strings.Repeat("x", 256)+`"`, 1), 422, "too_long", "description"},
		{"card number hidden in metadata", "", strings.Replace(valid, `"order_id":"123"`, `"note":"4242424242424242"`, 1), 422, "card_number_not_allowed", "metadata.note"},
		{"fractional amount", "", strings.Replace(valid, `"value":10000`, `"value":100.5`, 1), 400, "not_an_integer", "amount.value"},
		{"amount with an exponent", "", strings.Replace(valid, `"value":10000`, `"value":1e4`, 1), 400, "not_an_integer", "amount.value"},
		{"huge amount", "", strings.Replace(valid, `"value":10000`, `"value":100000000000000000000`, 1), 400, "out_of_range", "amount.value"},
		{"body too large", "", `{"description":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "body_too_large", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := tt.key
			headers := map[string]string{}
			switch key {
			case "":
				key = t.Name()
				headers["Idempotency-Key"] = key
			case "-":
			default:
				headers["Idempotency-Key"] = key
			}
			r := do(t, st.api.URL, http.MethodPost, "/v1/payouts", headers, tt.body)
			require.Equal(t, tt.status, r.Status, string(r.Body))
			code, field := r.apiError(t)
			require.Equal(t, tt.code, code)
			require.Equal(t, tt.field, field)
			require.NotContains(t, string(r.Body), "4242424242424242", "an error never echoes a card number")
			if tt.field == "amount.value" && tt.status == http.StatusBadRequest {
				require.Contains(t, string(r.Body), "an integer number of minor units (kopecks)")
			}
			if tt.status == http.StatusRequestEntityTooLarge {
				require.Contains(t, string(r.Body), "64 KiB (65536 bytes)", "413 says the limit")
			}
			if tt.key == "" {
				require.False(t, payoutStarted(t, key), "a rejected request starts no workflow")
			}
		})
	}
}

func TestDecision_BadInputIsRejected(t *testing.T) {
	id := create(t, st.api.URL, t.Name(), cardPayout(cardSucceeds)).state(t).ID
	waitFor(t, id, payout.StatusAwaitingApproval)
	tests := []struct {
		name, path, body string
		status           int
		code, field      string
	}{
		{"confirm claiming another identity", "/v1/payouts/" + id + "/confirm", `{"by":"someone-else","reason":"x"}`, 422, "identity_mismatch", "by"},
		{"confirm with unknown field", "/v1/payouts/" + id + "/confirm", `{"reason":"a","approve":true}`, 400, "unknown_field", "approve"},
		{"confirm of an unknown payout", "/v1/payouts/" + payout.ID("nope") + "/confirm", `{}`, 404, "payout_not_found", ""},
		{"get of a malformed id", "/v1/payouts/../../etc", ``, 404, "not_found", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := http.MethodPost
			if tt.body == "" {
				method = http.MethodGet
			}
			r := do(t, st.api.URL, method, tt.path, nil, tt.body)
			require.Equal(t, tt.status, r.Status, string(r.Body))
			code, field := r.apiError(t)
			require.Equal(t, tt.code, code)
			require.Equal(t, tt.field, field)
		})
	}
	require.Equal(t, payout.StatusAwaitingApproval, get(t, id).Status, "rejected decisions changed nothing")
	r := decide(t, st.api.URL, "test", id, "cancel", "")
	require.Equal(t, http.StatusAccepted, r.Status)
	waitFor(t, id, payout.StatusCancelled)
}

func TestCreatePayout_CardNumberInTheNameIsRefused(t *testing.T) {
	body := strings.Replace(cardPayout(cardSucceeds), `"Ivanov Ivan"`, `"Ivan 4000000000000002"`, 1)
	r := create(t, st.api.URL, t.Name(), body)
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	code, field := r.apiError(t)
	require.Equal(t, "card_number_not_allowed", code)
	require.Equal(t, "recipient.full_name", field)
}
