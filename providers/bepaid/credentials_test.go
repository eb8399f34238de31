package bepaid

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bepaid/sandbox"
	"github.com/payoutflow/payoutflow/providers/internal/providertest"
)

func TestCheckCredentials_TheSandboxRefusesAWrongShopOrSecret(t *testing.T) {
	sb := sandbox.NewSandbox(sandbox.SandboxConfig{ShopID: testShopID, SecretKey: testSecretKey})
	t.Cleanup(sb.Close)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	gone := httptest.NewServer(sb)
	gone.Close()
	with := func(base, shop, secret string) func(*testing.T) providers.CredentialChecker {
		return func(t *testing.T) providers.CredentialChecker {
			cl, err := NewClient(Config{BaseURL: base, ShopID: shop, SecretKey: secret})
			require.NoError(t, err)
			return NewProvider(cl, ProviderOptions{})
		}
	}

	providertest.RequireCredentialChecks(t, []providertest.Credentials{
		{Name: "the shop's credentials are accepted", Checker: with(srv.URL, testShopID, testSecretKey)},
		{Name: "a wrong secret is refused", Checker: with(srv.URL, testShopID, "wrong"), Refused: true, Fails: true},
		{Name: "another shop is refused", Checker: with(srv.URL, "362", testSecretKey), Refused: true, Fails: true},
		{Name: "a gateway that does not answer refuses nothing", Checker: with(gone.URL, testShopID, testSecretKey), Fails: true},
	})
	require.Empty(t, sb.Ledger(), "the check moves no money")
}
