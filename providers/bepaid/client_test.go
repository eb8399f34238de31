package bepaid

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bepaid/sandbox"
	"github.com/payoutflow/payoutflow/providers/internal/providertest"
)

// seedRequest is the seed's payout request, as written there and as the client sends it: exp_month the two-digit
// string of the example, exp_year the integer the table and the example give.
const seedRequest = `{"request": {
	"amount": 100, "currency": "RUB", "description": "Test transaction ütf", "tracking_id": "tracking_id_000",
	"recipient": {"ip": "127.0.0.1", "email": "john@example.com", "birth_date": "1990-10-20"},
	"sender": {"ip": "127.0.0.1", "email": "john@example.com", "birth_date": "1990-10-20"},
	"recipient_billing_address": {"first_name": "John", "last_name": "Doe", "country": "US", "city": "Denver",
		"state": "CO", "zip": "96002", "address": "1st Street", "phone": "375444444444"},
	"sender_billing_address": {"first_name": "John", "last_name": "Doe", "country": "US", "city": "Denver",
		"state": "CO", "zip": "96002", "address": "1st Street", "phone": "375444444444"},
	"recipient_credit_card": {"number": "5555555555554444", "holder": "John Doe", "exp_month": "12", "exp_year": 2022},
	"additional_data": {"document": {"type": "PASSPORT", "issuer": "Organization name", "series": "MP",
		"number": "1234567890", "issued_at": "2010-03-12", "valid_until": "2025-03-12"}}
}}`

// seedResponse is the seed's answer, as bePaid documents it.
const seedResponse = `{
  "transaction": {
    "uid": "1-d43572b244", "status": "successful", "amount": 100, "currency": "RUB",
    "description": "Test transaction ütf", "type": "payout", "payment_method_type": "credit_card",
    "tracking_id": "tracking_id_000", "message": "Successfully processed", "test": false,
    "created_at": "2021-07-01T13:44:56.936Z", "updated_at": "2021-07-01T13:44:57.228Z",
    "paid_at": "2021-07-01T13:44:57.217Z", "manually_corrected_at": null, "language": "en",
    "redirect_url": "http://127.0.0.1:9887/process/1-d43572b244",
    "credit_card": {"holder": "John Doe", "stamp": "e8a7e0cb4816c2bb608ee9a02f4f091a4982875b750bc7aba893f0ff688e2557",
      "brand": "master", "last_4": "4444", "first_1": "5", "bin": "555555", "issuer_country": null,
      "issuer_name": null, "product": null, "exp_month": 12, "exp_year": 2022, "token_provider": null, "token": null},
    "status_code": null,
    "recipient": {"ip": "127.0.0.1", "email": "john@example.com", "device_id": null, "birth_date": "1990-10-20"},
    "recipient_credit_card": {"holder": "John Doe",
      "stamp": "e8a7e0cb4816c2bb608ee9a02f4f091a4982875b750bc7aba893f0ff688e2557", "brand": "master",
      "last_4": "4444", "first_1": "5", "bin": "555555", "issuer_country": null, "issuer_name": null,
      "product": null, "exp_month": 12, "exp_year": 2022, "token_provider": null, "token": null},
    "recipient_billing_address": {"first_name": "John", "last_name": "Doe", "address": "1st Street",
      "country": "US", "city": "Denver", "zip": "96002", "state": "CO", "phone": "375444444444"},
    "receipt_url": "default_domain/customer/transactions/1-d43572b244/57cc78eb",
    "id": "1-d43572b244",
    "additional_data": {
      "document": {"type": "PASSPORT", "issuer": "Organization name", "series": "MP", "number": "1234567890",
        "issued_at": "2010-03-12", "valid_until": "2025-03-12"},
      "payout": {"auth_code": null, "bank_code": null, "rrn": null, "ref_id": "1569310086280783205",
        "message": "Successfully processed", "amount": 100, "currency": "RUB", "billing_descriptor": null,
        "gateway_id": 1, "status": "successful"}
    }
  }
}`

// fakeGateway answers every request with status and body, and records what it got.
func fakeGateway(t *testing.T, status int, body string) (*httptest.Server, func() []providertest.Request) {
	t.Helper()
	return providertest.FakeAPI(t, status, body)
}

func newTestClient(t *testing.T, baseURL string) *Client {
	t.Helper()
	c, err := NewClient(Config{BaseURL: baseURL, ShopID: testShopID, SecretKey: testSecretKey})
	require.NoError(t, err)
	return c
}

// seedPayoutRequest is the seed's request as a PayoutRequest.
func seedPayoutRequest() PayoutRequest {
	addr := &BillingAddress{FirstName: "John", LastName: "Doe", Country: "US", City: "Denver", State: "CO",
		Zip: "96002", Address: "1st Street", Phone: "375444444444"}
	return PayoutRequest{
		Amount:      100,
		Currency:    "RUB",
		Description: "Test transaction ütf",
		TrackingID:  "tracking_id_000",
		Card: &RecipientCard{Number: "5555555555554444", Holder: "John Doe", ExpMonth: "12",
			ExpYear: 2022},
		Recipient:               &Person{IP: "127.0.0.1", Email: "john@example.com", BirthDate: "1990-10-20"},
		Sender:                  &Person{IP: "127.0.0.1", Email: "john@example.com", BirthDate: "1990-10-20"},
		RecipientBillingAddress: addr,
		SenderBillingAddress:    addr,
		AdditionalData: &RequestData{Document: &Document{Type: "PASSPORT", Issuer: "Organization name",
			Series: "MP", Number: "1234567890", IssuedAt: "2010-03-12", ValidUntil: "2025-03-12"}},
	}
}

func TestClient_SendsTheSeedsPayoutRequest(t *testing.T) {
	srv, requests := fakeGateway(t, http.StatusOK, seedResponse)
	c := newTestClient(t, srv.URL)

	_, err := c.CreatePayout(context.Background(), seedPayoutRequest())
	require.NoError(t, err)

	reqs := requests()
	require.Len(t, reqs, 1)
	got := reqs[0]
	require.Equal(t, http.MethodPost, got.Method)
	require.Equal(t, "/transactions/payouts", got.Path)
	require.Equal(t, "application/json", got.Header.Get("Content-Type"))
	require.Equal(t, "application/json", got.Header.Get("Accept"))
	user, pass, ok := (&http.Request{Header: got.Header}).BasicAuth()
	require.True(t, ok)
	require.Equal(t, testShopID, user)
	require.Equal(t, testSecretKey, pass)
	require.JSONEq(t, seedRequest, string(got.Body))
}

func TestClient_SendsATokenAndLeavesEmptyFieldsOut(t *testing.T) {
	srv, requests := fakeGateway(t, http.StatusOK, seedResponse)
	c := newTestClient(t, srv.URL)
	off := false

	_, err := c.CreatePayout(context.Background(), PayoutRequest{Amount: 100, Currency: "BYN",
		Description: "d", DuplicateCheck: &off, Card: &RecipientCard{Token: sandbox.SandboxTokenSucceeds}})
	require.NoError(t, err)

	require.JSONEq(t, `{"request":{"amount":100,"currency":"BYN","description":"d","duplicate_check":false,
		"recipient_credit_card":{"token":"`+sandbox.SandboxTokenSucceeds+`"}}}`, string(requests()[0].Body))
}

func TestClient_ReadsTheSeedsAnswer(t *testing.T) {
	srv, _ := fakeGateway(t, http.StatusOK, seedResponse)
	c := newTestClient(t, srv.URL)

	tx, err := c.CreatePayout(context.Background(), seedPayoutRequest())

	require.NoError(t, err)
	require.Equal(t, "1-d43572b244", tx.UID)
	require.Equal(t, StatusSuccessful, tx.Status)
	require.Equal(t, int64(100), tx.Amount)
	require.Equal(t, "RUB", tx.Currency)
	require.Equal(t, "payout", tx.Type)
	require.Equal(t, "tracking_id_000", tx.TrackingID)
	require.Equal(t, "Successfully processed", tx.Message)
	require.Equal(t, "2021-07-01T13:44:56.936Z", tx.CreatedAt)
	require.Equal(t, time.Date(2021, 7, 1, 13, 44, 56, 936_000_000, time.UTC), tx.Created())
	require.Equal(t, "2021-07-01T13:44:57.217Z", tx.PaidAt)
	require.Equal(t, &CreditCard{Holder: "John Doe",
		Stamp: "e8a7e0cb4816c2bb608ee9a02f4f091a4982875b750bc7aba893f0ff688e2557", Brand: "master", Last4: "4444",
		First1: "5", BIN: "555555"}, tx.Card())
	require.Equal(t, &PayoutDetails{Status: "successful", Message: "Successfully processed",
		RefID: "1569310086280783205"}, tx.PayoutDetails())
}

func TestTransaction_PayoutDetailsAndCardFallBack(t *testing.T) {
	details := &PayoutDetails{Status: "failed", BankCode: "05"}
	card := &CreditCard{Last4: "4444"}

	tx := Transaction{Payout: details, CreditCard: card}

	require.Equal(t, details, tx.PayoutDetails(), "a top-level payout section is read when additional_data has none")
	require.Equal(t, card, tx.Card(), "credit_card is read when recipient_credit_card is missing")
	require.Nil(t, Transaction{}.PayoutDetails())
	require.Nil(t, Transaction{}.Card())
	require.True(t, Transaction{CreatedAt: "yesterday"}.Created().IsZero())
}

func TestText_ReadsStringsNumbersAndNull(t *testing.T) {
	var d PayoutDetails
	require.NoError(t, jsonUnmarshal(`{"bank_code":5,"rrn":"000123","auth_code":null,"ref_id":1.5e3}`, &d))
	require.Equal(t, PayoutDetails{BankCode: "5", RRN: "000123", RefID: "1.5e3"}, d)
	require.Error(t, jsonUnmarshal(`{"bank_code":{"a":1}}`, &d))
}

func TestClient_QueriesByUIDAndByTrackingID(t *testing.T) {
	srv, requests := fakeGateway(t, http.StatusOK, `{"transaction":{"uid":"1-a","status":"pending"},
		"transactions":[{"uid":"1-a","status":"pending"},{"uid":"1-b","status":"failed"}]}`)
	c := newTestClient(t, srv.URL)
	ctx := context.Background()

	tx, err := c.Transaction(ctx, "1-a")
	require.NoError(t, err)
	require.Equal(t, "1-a", tx.UID)
	txs, err := c.ByTrackingID(ctx, "po_1;x/y")
	require.NoError(t, err)
	require.Len(t, txs, 2)
	require.Equal(t, "1-b", txs[1].UID)

	reqs := requests()
	require.Len(t, reqs, 2)
	require.Equal(t, http.MethodGet, reqs[0].Method)
	require.Equal(t, "/transactions/1-a", reqs[0].Path)
	require.Empty(t, reqs[0].Body)
	require.Empty(t, reqs[0].Header.Get("Content-Type"), "a GET has no body")
	require.Equal(t, "application/json", reqs[0].Header.Get("Accept"))
	require.Equal(t, "/v2/transactions/tracking_id/po_1%3Bx%2Fy", reqs[1].RawPath, "the id is one escaped segment")
	for _, r := range reqs {
		user, pass, ok := (&http.Request{Header: r.Header}).BasicAuth()
		require.True(t, ok)
		require.Equal(t, testShopID+":"+testSecretKey, user+":"+pass)
	}
}

func TestClient_ByTrackingIDWithNoneIsAnEmptyList(t *testing.T) {
	srv, _ := fakeGateway(t, http.StatusOK, `{"transactions":[]}`)
	c := newTestClient(t, srv.URL)

	txs, err := c.ByTrackingID(context.Background(), "po_none")

	require.NoError(t, err)
	require.Empty(t, txs)
}

func TestClient_RefusesEmptyIdentifiersWithoutSending(t *testing.T) {
	srv, requests := fakeGateway(t, http.StatusOK, `{}`)
	c := newTestClient(t, srv.URL)

	_, err := c.Transaction(context.Background(), "")
	requireProviderError(t, err, providers.Known, "")
	_, err = c.ByTrackingID(context.Background(), "")
	requireProviderError(t, err, providers.Known, "")

	require.Empty(t, requests())
}

func TestClient_MapsFailedAnswersToCertainty(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		certainty providers.Certainty
		code      string
		desc      string
	}{
		{"a 422 in the documented shape is a known validation error", 422,
			`{"message":"Amount must be greater than 0.","errors":{"amount":["must be greater than 0"]}}`,
			providers.Known, CodeValidation, "Amount must be greater than 0."},
		{"a 422 in the response shape is a known validation error", 422,
			`{"response":{"message":"Card number is invalid.","errors":{"credit_card":{"number":["is invalid"]}}}}`,
			providers.Known, CodeValidation, "Card number is invalid."},
		{"errors without a message describe the refusal", 422,
			`{"errors":{"credit_card":{"number":["is invalid"]},"amount":["must be greater than 0"]}}`,
			providers.Known, CodeValidation, "amount must be greater than 0; credit_card.number is invalid"},
		{"a 401 is a known refusal", 401, `{"message":"Unauthorized","errors":{}}`,
			providers.Known, CodeUnauthorized, "Unauthorized"},
		{"a 403 is a known refusal", 403, `{"message":"Shop is inactive"}`,
			providers.Known, CodeForbidden, "Shop is inactive"},
		{"a 404 with bePaid's body is a known not found", 404, `{"message":"Record not found"}`,
			providers.Known, CodeNotFound, "Record not found"},
		{"another 4xx with bePaid's body is a known bad request", 400, `{"message":"Bad request"}`,
			providers.Known, CodeBadRequest, "Bad request"},
		{"an API v3 code is kept", 422,
			`{"code":"F.1000","friendly_message":"Try again","message":"Declined by risk rules","errors":{}}`,
			providers.Known, "F.1000", "Declined by risk rules"},
		{"a duplicate_check refusal is unknown: the earlier request may have paid", 422,
			`{"message":"Duplicate transaction: the same amount to the same card within 30 seconds","errors":{"base":["Duplicate transaction: the same amount to the same card within 30 seconds"]}}`,
			providers.Unknown, CodeDuplicate, "Duplicate transaction: the same amount to the same card within 30 seconds"},
		{"a duplicate named only in errors.base is unknown", 422,
			`{"response":{"message":"Transaction refused","errors":{"base":["Duplicate request"]}}}`,
			providers.Unknown, CodeDuplicate, "Transaction refused"},
		{"500 with bePaid's body is unknown", 500, `{"message":"Internal error","errors":{}}`,
			providers.Unknown, "", "Internal error"},
		{"500 without a body is unknown", 500, ``, providers.Unknown, "", ""},
		{"504 without a body is unknown", 504, ``, providers.Unknown, "", ""},
		{"502 from a proxy is unknown", 502, `<html>Bad Gateway</html>`, providers.Unknown, "", ""},
		{"a 4xx that is not bePaid's answer is unknown", 404, `<html>Not Found</html>`, providers.Unknown, "", ""},
		{"a 4xx with an empty error body is unknown", 422, `{"message":"","errors":{}}`, providers.Unknown, "", ""},
		{"an unreadable 2xx is unknown", 200, `{"transaction":`, providers.Unknown, "", ""},
		{"a 2xx without a transaction is unknown", 200, `{}`, providers.Unknown, "", ""},
		{"a 2xx with a transaction without uid is unknown", 200, `{"transaction":{"status":"successful"}}`,
			providers.Unknown, "", ""},
		{"a 2xx with an error body is unknown", 200, `{"response":{"message":"Something failed"}}`,
			providers.Unknown, "", "Something failed"},
		{"a redirect is unknown", 302, ``, providers.Unknown, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := fakeGateway(t, tt.status, tt.body)
			c := newTestClient(t, srv.URL)

			_, err := c.CreatePayout(context.Background(), seedPayoutRequest())

			pe := requireProviderError(t, err, tt.certainty, tt.code)
			require.Equal(t, "transactions/payouts", pe.Op)
			require.Equal(t, tt.status, pe.HTTPStatus)
			require.Equal(t, tt.desc, pe.Description)
			require.Equal(t, tt.certainty == providers.Unknown, providers.IsUnknown(err))
		})
	}
}

func TestAPIError_Fields(t *testing.T) {
	e := parseAPIError([]byte(`{"response":{"message":"m","errors":{"amount":["must be greater than 0"],
		"recipient_credit_card":{"number":["is invalid","is too short"],"holder":"can't be blank"},"ignored":1}}}`))

	require.NotNil(t, e)
	require.Equal(t, "m", e.Message)
	require.Equal(t, map[string][]string{
		"amount":                       {"must be greater than 0"},
		"recipient_credit_card.number": {"is invalid", "is too short"},
		"recipient_credit_card.holder": {"can't be blank"},
	}, e.Fields())
	require.Nil(t, parseAPIError([]byte(`{"transaction":{"uid":"1"}}`)))
	require.Nil(t, parseAPIError([]byte(`not json`)))
}

func TestClient_TimeoutIsUnknown(t *testing.T) {
	srv := providertest.SilentServer(t)
	c, err := NewClient(Config{BaseURL: srv.URL, ShopID: testShopID, SecretKey: testSecretKey,
		HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
	require.NoError(t, err)

	_, err = c.CreatePayout(context.Background(), seedPayoutRequest())

	pe := requireProviderError(t, err, providers.Unknown, "")
	require.Zero(t, pe.HTTPStatus)
	var netErr net.Error
	require.ErrorAs(t, err, &netErr)
	require.True(t, netErr.Timeout())
	require.NotContains(t, err.Error(), "5555555555554444")
}

func TestClient_ContextDeadlineIsUnknown(t *testing.T) {
	srv := providertest.SilentServer(t)
	c := newTestClient(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()

	_, err := c.Transaction(ctx, "1-a")

	requireProviderError(t, err, providers.Unknown, "")
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestClient_RefusedConnectionIsUnknown(t *testing.T) {
	c := newTestClient(t, providertest.ClosedURL())

	_, err := c.CreatePayout(context.Background(), seedPayoutRequest())

	requireProviderError(t, err, providers.Unknown, "")
}

func TestClient_ErrorsNeverHoldTheCardNumber(t *testing.T) {
	answers := map[string]struct {
		status int
		body   string
	}{
		"message quoting the card":  {422, `{"message":"Card 5555 5555 5555 4444 is invalid","errors":{}}`},
		"errors quoting the card":   {422, `{"errors":{"recipient_credit_card":{"number":["5555555555554444 is invalid"]}}}`},
		"500":                       {500, `oops`},
		"unreadable 2xx quoting it": {200, `{"transaction":{"uid":"1","amount":5555555555554444.5}}`},
	}
	for name, a := range answers {
		t.Run(name, func(t *testing.T) {
			srv, _ := fakeGateway(t, a.status, a.body)
			c := newTestClient(t, srv.URL)

			_, err := c.CreatePayout(context.Background(), seedPayoutRequest())

			require.Error(t, err)
			require.NotContains(t, strings.ReplaceAll(err.Error(), " ", ""), "5555555555554444")
			require.NotContains(t, fmt.Sprintf("%+v", err), "5555555555554444")
		})
	}
}

func TestNewClient_RejectsIncompleteConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no shop id", Config{SecretKey: testSecretKey}},
		{"no secret key", Config{ShopID: testShopID}},
		{"a base URL without scheme", Config{BaseURL: "gateway.bepaid.by", ShopID: testShopID, SecretKey: testSecretKey}},
		{"a base URL that does not parse", Config{BaseURL: "http://[::1", ShopID: testShopID, SecretKey: testSecretKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewClient(tt.cfg)
			require.Error(t, err)
		})
	}
}

func TestNewClient_DefaultsToTheGateway(t *testing.T) {
	c, err := NewClient(Config{ShopID: testShopID, SecretKey: testSecretKey})

	require.NoError(t, err)
	require.Equal(t, "https://gateway.bepaid.by/", c.base)
	require.Equal(t, 30*time.Second, c.http.Timeout)
	require.NotNil(t, c.http.CheckRedirect, "redirects are not followed")
}

func TestPayoutRequest_StringMasksTheCardNumber(t *testing.T) {
	p := seedPayoutRequest()

	for _, s := range []string{p.String(), fmt.Sprint(p), fmt.Sprintf("%v", p), fmt.Sprintf("%+v", p),
		fmt.Sprintf("%#v", p), fmt.Sprintf("%+v", p.Card), fmt.Sprintf("%#v", p.Card), fmt.Sprint(&p)} {
		require.NotContains(t, s, "5555555555554444")
		require.Contains(t, s, "4444")
	}
	require.Contains(t, (&RecipientCard{Token: "t"}).String(), "token")
}
