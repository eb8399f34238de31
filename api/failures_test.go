package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bank131"
)

// A payout recorded before the vocabulary (its failure holds Bank 131's code as the code, a cancel holds none) is
// read through the API in the vocabulary, with the provider's words beside it.
func TestRead_FailureRecordedBeforeTheVocabularyIsReadInIt(t *testing.T) {
	sum := sha256.Sum256([]byte("secret"))
	keys, err := NewKeys([]Key{{Name: "ops", SHA256: hex.EncodeToString(sum[:]), Scopes: allScopes}})
	require.NoError(t, err)
	fc := &review2Client{}
	reg := providers.NewRegistry()
	require.NoError(t, reg.Add(bank131.NewProvider(nil), nil))
	h := New(Config{Client: fc, Keys: keys, FingerprintKeys: [][]byte{[]byte("f")}, DecisionKey: []byte("d"), Providers: reg})
	do := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer secret")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "order-vocabulary")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := do(http.MethodPost, "/v1/payouts", `{"provider": "bank131", "amount": {"value": 10000, "currency": "RUB"},
		"destination": {"type": "card", "card": {"number": "4242424242424242"}},
		"recipient": {"full_name": "Ivanov Ivan"}, "description": "Payout for order 123"}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	var created payout.State
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &created))

	for _, tc := range []struct {
		name     string
		recorded payout.State
		want     string
	}{
		{"failed with the provider's code", payout.State{Status: payout.StatusFailed,
			Failure: &payout.Failure{Code: "declined_by_issuer_bank", Description: "Declined by issuer bank"}},
			`{"code": "declined_by_issuer", "description": "Declined by issuer bank",
			  "provider_code": "declined_by_issuer_bank", "provider_message": "Declined by issuer bank"}`},
		{"failed with a code Bank 131's table has not", payout.State{Status: payout.StatusFailed,
			Failure: &payout.Failure{Code: "taxpayer_already_bound"}},
			`{"code": "provider_rejected", "description": "the provider refused the payout", "provider_code": "taxpayer_already_bound"}`},
		{"failed with payoutflow's own code", payout.State{Status: payout.StatusFailed,
			Failure: &payout.Failure{Code: "insufficient_balance", Description: "the balance does not cover the payout"}},
			`{"code": "insufficient_funds", "description": "the balance does not cover the payout"}`},
		{"cancelled by a person", payout.State{Status: payout.StatusCancelled,
			Approval: &payout.Approval{By: "alice", Reason: "wrong card"}},
			`{"code": "cancelled_by_operator", "description": "cancelled by alice: wrong card"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc.live = created
			fc.live.Status, fc.live.Failure, fc.live.Approval = tc.recorded.Status, tc.recorded.Failure, tc.recorded.Approval
			rec := do(http.MethodGet, "/v1/payouts/"+created.ID, "")
			require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
			var got struct {
				Failure json.RawMessage `json:"failure"`
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
			require.JSONEq(t, tc.want, string(got.Failure))
		})
	}
}
