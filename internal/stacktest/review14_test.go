package stacktest

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/api"
)

// Review 14: the API answers OPTIONS on every path with 204 (and lists OPTIONS in the Allow of its 405s), a method
// and a status the contract does not describe; a backend or a generated client trusting the contract is told a
// path takes GET only. ContractTransport reports it.
func TestReview14_EveryMethodTheAPIAnswersIsInTheContract(t *testing.T) {
	sum := sha256.Sum256([]byte("pf_reader"))
	keys, err := api.NewKeys([]api.Key{{Name: "reader", SHA256: hex.EncodeToString(sum[:]), Scopes: []string{"read"}}})
	require.NoError(t, err)
	srv := httptest.NewServer(api.New(api.Config{Keys: keys}))
	t.Cleanup(srv.Close)
	for _, path := range []string{"/v1/payouts", "/v1/events", "/v1/openapi.json"} {
		t.Run(path, func(t *testing.T) {
			rep := &reports{}
			req, err := http.NewRequest(http.MethodOptions, srv.URL+path, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer pf_reader")
			res, err := ContractClient(rep).Do(req)
			require.NoError(t, err)
			res.Body.Close()
			require.Empty(t, rep.got, "OPTIONS %s answered %d, Allow %q", path, res.StatusCode, res.Header.Get("Allow"))
		})
	}
}
