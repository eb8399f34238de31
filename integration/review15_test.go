package integration

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/internal/health"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bepaid"
	bepaidsandbox "github.com/payoutflow/payoutflow/providers/bepaid/sandbox"
	"github.com/payoutflow/payoutflow/providers/mandarin"
	mandarinsandbox "github.com/payoutflow/payoutflow/providers/mandarin/sandbox"
)

// TestReadyz_OneProviderRefusingOurCredentialsDoesNotTakeTheAPIOutOfTheLoadBalancer: README points the load
// balancer at the API's /readyz (API_ADDR) and says of a provider that refuses our credentials "its payouts fail
// meanwhile". But the API's /readyz answers 503 then, so every API instance leaves the load balancer at once (they
// share the credentials): creates for the other providers, every provider's webhooks, approvals and reads are
// refused too. One provider's rotated secret must be named in /readyz's JSON without making the API unready.
func TestReadyz_OneProviderRefusingOurCredentialsDoesNotTakeTheAPIOutOfTheLoadBalancer(t *testing.T) {
	bepaidSB := bepaidsandbox.NewSandbox(bepaidsandbox.SandboxConfig{ShopID: "r15-shop", SecretKey: "the-shops-secret"})
	t.Cleanup(bepaidSB.Close)
	mandarinSB := mandarinsandbox.NewSandbox(mandarinsandbox.SandboxConfig{MerchantID: "15", Secret: "the-merchants-secret"})
	t.Cleanup(mandarinSB.Close)
	serve := func(h http.Handler) string {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	bpc, err := bepaid.NewClient(bepaid.Config{BaseURL: serve(bepaidSB), ShopID: "r15-shop", SecretKey: "a-wrong-secret"})
	require.NoError(t, err)
	mc, err := mandarin.NewClient(mandarin.Config{BaseURL: serve(mandarinSB), MerchantID: "15", Secret: "the-merchants-secret"})
	require.NoError(t, err)
	reg := providers.NewRegistry()
	require.NoError(t, reg.Add(bepaid.NewProvider(bpc, bepaid.ProviderOptions{}), nil))
	require.NoError(t, reg.Add(mandarin.NewProvider(mc, mandarin.ProviderOptions{}), nil))

	cfg := healthConfig(t)
	cfg.TaskQueue = st.cfg.TaskQueue // the stack's worker polls it
	side := startAPIHealth(t, cfg, st.client, reg)
	var code int
	var rep health.Report
	require.Eventually(t, func() bool {
		code, rep = side.readyz(t)
		checks := map[string]health.Status{}
		for _, c := range rep.Checks {
			checks[c.Name] = c.Status
		}
		return checks[health.CheckWorkers] == health.OK && checks["provider.mandarin"] == health.OK &&
			checks["provider.bepaid"] == health.Failing
	}, 30*time.Second, 50*time.Millisecond, "last /readyz: %d %+v", code, rep)
	require.Equal(t, http.StatusOK, code, "the API is taken out of the load balancer for bePaid's credentials alone: %+v", rep)
}
