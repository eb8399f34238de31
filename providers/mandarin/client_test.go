package mandarin

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/internal/providertest"
	"github.com/payoutflow/payoutflow/providers/mandarin/sandbox"
)

func testClient(t *testing.T, baseURL string) *Client {
	t.Helper()
	c, err := NewClient(Config{BaseURL: baseURL, MerchantID: testMerchantID, Secret: testSecret,
		RequestTimeout: 200 * time.Millisecond, CreateTimeout: 200 * time.Millisecond})
	require.NoError(t, err)
	return c
}

func TestClientSignsEveryRequestWithAFreshRequestID(t *testing.T) {
	srv, reqs := providertest.FakeAPI(t, http.StatusOK, `{"id":"43913ddc000c4d3990fddbd3980c1725"}`)
	c := testClient(t, srv.URL)
	for range 2 {
		_, err := c.CreateTransaction(t.Context(), TransactionRequest{Payment: Payment{OrderID: "o1",
			Action: ActionPayout, Price: FormatPrice(10000)}})
		require.NoError(t, err)
	}
	got := reqs()
	require.Len(t, got, 2)
	var ids []string
	for _, r := range got {
		require.Equal(t, "/api/transactions", r.Path)
		id, ok := CheckXAuth(r.Header.Get("X-Auth"), testMerchantID, testSecret)
		require.True(t, ok)
		ids = append(ids, id)
	}
	require.NotEqual(t, ids[0], ids[1])
	var body map[string]any
	require.NoError(t, json.Unmarshal(got[0].Body, &body))
	require.Equal(t, map[string]any{"orderId": "o1", "action": "payout", "price": "100.00"}, body["payment"])
}

func TestClientTellsKnownFromUnknownFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		body      string
		certainty providers.Certainty
		code      string
	}{
		{"502 is unknown", http.StatusBadGateway, ``, providers.Unknown, ""},
		{"504 is unknown", http.StatusGatewayTimeout, ``, providers.Unknown, ""},
		{"duplicate order id is unknown", http.StatusBadRequest, `{"error":"Duplicate order id 5f2f found for ` +
			`incomplete payout transaction","errorCode":-2}`, providers.Unknown, CodeDuplicateOrderID},
		{"invalid request is known", http.StatusBadRequest, `{"error":"Invalid request"}`, providers.Known,
			CodeInvalidRequest},
		{"unauthorized is known", http.StatusUnauthorized, `{"error":"Unauthorized"}`, providers.Known,
			CodeUnauthorized},
		{"other error code is known", http.StatusBadRequest, `{"error":"x","errorCode":-7}`, providers.Known, "-7"},
		{"4xx that is not mandarin's is unknown", http.StatusBadRequest, `<html>`, providers.Unknown, ""},
		{"200 without id is unknown", http.StatusOK, `{}`, providers.Unknown, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := providertest.FakeAPI(t, tc.status, tc.body)
			_, err := testClient(t, srv.URL).CreateTransaction(t.Context(), TransactionRequest{})
			pe := providertest.RequireError(t, err, Name, tc.certainty, tc.code)
			require.Equal(t, tc.status, pe.HTTPStatus)
		})
	}
}

func TestClientTimeoutsAndConnectionErrorsAreUnknown(t *testing.T) {
	_, err := testClient(t, providertest.SilentServer(t).URL).CreateTransaction(t.Context(), TransactionRequest{})
	providertest.RequireError(t, err, Name, providers.Unknown, "")
	_, err = testClient(t, providertest.ClosedURL()).Operation(t.Context(), "x")
	providertest.RequireError(t, err, Name, providers.Unknown, "")
}

func TestClientErrorsNeverHoldACardNumber(t *testing.T) {
	srv, _ := providertest.FakeAPI(t, http.StatusBadRequest, `{"error":"bad card 4012888888881881"}`)
	_, err := testClient(t, srv.URL).CreateTransaction(t.Context(), TransactionRequest{
		Target: &Target{KnownCardNumber: sandbox.SandboxCardSucceeds}})
	providertest.RequireError(t, err, Name, providers.Known, CodeInvalidRequest)
	require.NotContains(t, err.Error(), sandbox.SandboxCardSucceeds)
}

func TestNewClientDefaultsToMandarinsTimeout(t *testing.T) {
	c, err := NewClient(Config{MerchantID: "1", Secret: "s"})
	require.NoError(t, err)
	require.Equal(t, 600*time.Second, c.createTimeout)
	require.Equal(t, DefaultBaseURL+"/", c.base)
	_, err = NewClient(Config{MerchantID: "", Secret: "s"})
	require.Error(t, err)
}
