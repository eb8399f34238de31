package api

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
)

func TestListPayouts_TheMethodFilterTakesEveryMethodAPayoutCanHave(t *testing.T) {
	// PayoutMethod is Request.Method(): transfers (Bank 131) and payment-page payouts (Mandarin) have one too, but the
	// list's filter knows only card_number, card_token and sbp, so an operator cannot list them by method.
	srv, secret := readerServer(t)
	methods := map[string]payout.Request{
		"transfer":     {Transfer: &payout.Transfer{}},
		"payment_page": {Destination: payout.Destination{Type: payout.DestinationPaymentPage}},
	}
	for want, req := range methods {
		t.Run(want, func(t *testing.T) {
			require.Equal(t, want, req.Method(), "premise: such a payout's method")
			status, code, _ := get(t, srv, secret, "/v1/payouts?method="+want)
			require.NotEqual(t, "invalid_filter", code, "method=%s is refused as a filter (HTTP %d)", want, status)
		})
	}
}

func TestListPayouts_AProviderNoLongerConfiguredHereCanStillBeListed(t *testing.T) {
	// Payouts outlive configuration: a payout made through a provider that this API no longer has configured (its
	// keys removed, or an API that serves another provider) still runs and still carries PayoutProvider. The filter
	// took every provider name before the registry; it now takes only the registered ones.
	srv, secret := readerServer(t)
	status, code, _ := get(t, srv, secret, "/v1/payouts?provider=bepaid")
	require.NotEqual(t, "invalid_filter", code, "provider=bepaid is refused as a filter (HTTP %d)", status)
}
