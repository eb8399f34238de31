package mandarin

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/internal/providertest"
	"github.com/payoutflow/payoutflow/providers/mandarin/sandbox"
)

func TestCheckCredentials_TheSandboxRefusesAWrongMerchantOrSecret(t *testing.T) {
	env := newEnv(t, ProviderOptions{}, sandbox.SandboxConfig{})
	gone := httptest.NewServer(env.sandbox)
	gone.Close()
	with := func(base, merchant, secret, channel string) func(*testing.T) providers.CredentialChecker {
		return func(t *testing.T) providers.CredentialChecker {
			cl, err := NewClient(Config{BaseURL: base, MerchantID: merchant, Secret: secret})
			require.NoError(t, err)
			return NewProvider(cl, ProviderOptions{Channel: channel})
		}
	}

	providertest.RequireCredentialChecks(t, []providertest.Credentials{
		{Name: "the merchant's secret is accepted", Checker: with(env.api.URL, testMerchantID, testSecret, "")},
		{Name: "a wrong secret is refused", Checker: with(env.api.URL, testMerchantID, "wrong", ""), Refused: true, Fails: true},
		{Name: "another merchant is refused", Checker: with(env.api.URL, "4321", testSecret, ""), Refused: true, Fails: true},
		{Name: "a channel that is not the merchant's still proves the secret", Checker: with(env.api.URL, testMerchantID, testSecret, "no_such_channel")},
		{Name: "Mandarin not answering refuses nothing", Checker: with(gone.URL, testMerchantID, testSecret, ""), Fails: true},
	})
	require.Empty(t, env.sandbox.Ledger(), "the check moves no money")
}
