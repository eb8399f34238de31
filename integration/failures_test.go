package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	pfclient "github.com/payoutflow/payoutflow/client"
	"github.com/payoutflow/payoutflow/payout"
)

// requireListedFailure checks that the list (read through the client) shows the payout with the failure GET shows.
func requireListedFailure(t *testing.T, id string, want *payout.Failure) {
	t.Helper()
	c := apiClient(st.api.URL, "backend")
	var got *pfclient.Failure
	require.Eventually(t, func() bool {
		for p, err := range c.List(context.Background(), pfclient.ListParams{Status: pfclient.StatusFailed, Limit: 100}) {
			if err != nil {
				return false
			}
			if p.ID == id {
				got = p.Failure
				return true
			}
		}
		return false
	}, 10*time.Second, 100*time.Millisecond, "payout %s is not listed as failed", id)
	require.NotNil(t, got, "payout %s is listed without its failure", id)
	require.Equal(t, *want, payout.Failure{Code: got.Code, Description: got.Description, ProviderCode: got.ProviderCode,
		ProviderMessage: got.ProviderMessage})
}
