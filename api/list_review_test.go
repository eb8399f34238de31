package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
)

func TestListPayouts_TheMethodFilterTakesEveryMethodAPayoutCanHave(t *testing.T) {
	// PayoutMethod is Request.Method(): transfers (Bank 131) and payment-page payouts (Mandarin) have one too, but the
	// list's filter knows only card_number, card_token and sbp, so an operator cannot list them by method.
	secret := "review-read-key"
	sum := sha256.Sum256([]byte(secret))
	keys, err := NewKeys([]Key{{Name: "reader", SHA256: hex.EncodeToString(sum[:]), Scopes: []string{ScopeRead}}})
	require.NoError(t, err)
	srv := httptest.NewServer(New(Config{Keys: keys, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()

	methods := map[string]payout.Request{
		"transfer":     {Transfer: &payout.Transfer{}},
		"payment_page": {Destination: payout.Destination{Type: payout.DestinationPaymentPage}},
	}
	for want, req := range methods {
		t.Run(want, func(t *testing.T) {
			require.Equal(t, want, req.Method(), "premise: such a payout's method")
			r, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/payouts?method="+want, nil)
			require.NoError(t, err)
			r.Header.Set("Authorization", "Bearer "+secret)
			resp, err := http.DefaultClient.Do(r)
			require.NoError(t, err)
			defer resp.Body.Close()
			var body struct {
				Error struct{ Code, Field string } `json:"error"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&body)
			require.NotEqual(t, "invalid_filter", body.Error.Code, "method=%s is refused as a filter (HTTP %d)", want, resp.StatusCode)
		})
	}
}

func TestListPayouts_AProviderNoLongerConfiguredHereCanStillBeListed(t *testing.T) {
	// Payouts outlive configuration: a payout made through a provider that this API no longer has configured (its
	// keys removed, or an API that serves another provider) still runs and still carries PayoutProvider. The filter
	// took every provider name before the registry; it now takes only the registered ones.
	secret := "review-read-key"
	sum := sha256.Sum256([]byte(secret))
	keys, err := NewKeys([]Key{{Name: "reader", SHA256: hex.EncodeToString(sum[:]), Scopes: []string{ScopeRead}}})
	require.NoError(t, err)
	srv := httptest.NewServer(New(Config{Keys: keys, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()

	r, err := http.NewRequest(http.MethodGet, srv.URL+"/v1/payouts?provider=bepaid", nil)
	require.NoError(t, err)
	r.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(r)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct {
		Error struct{ Code, Field, Message string } `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	require.NotEqual(t, "invalid_filter", body.Error.Code, "provider=bepaid is refused as a filter (HTTP %d: %s)",
		resp.StatusCode, body.Error.Message)
}
