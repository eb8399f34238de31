package integration

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
)

// requireListedFailure checks that the list shows the payout with the failure GET shows.
func requireListedFailure(t *testing.T, id string, want *payout.Failure) {
	t.Helper()
	var got *payout.Failure
	require.Eventually(t, func() bool {
		page, r := list(t, url.Values{"status": {string(payout.StatusFailed)}, "limit": {"100"}})
		require.Equal(t, http.StatusOK, r.Status, string(r.Body))
		for _, p := range page.Payouts {
			if p.ID == id {
				got = p.Failure
				return true
			}
		}
		return false
	}, 10*time.Second, 100*time.Millisecond, "payout %s is not listed as failed", id)
	require.Equal(t, want, got)
}
