package mandarin

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/mandarin/sandbox"
)

func TestCheckCredentials_TheSandboxRefusesAWrongMerchantOrSecret(t *testing.T) {
	env := newEnv(t, ProviderOptions{}, sandbox.SandboxConfig{})
	gone := httptest.NewServer(env.sandbox)
	gone.Close()

	tests := []struct {
		name    string
		cfg     Config
		opts    ProviderOptions
		refused bool
		fails   bool
	}{
		{"the merchant's secret is accepted", Config{BaseURL: env.api.URL, MerchantID: testMerchantID, Secret: testSecret}, ProviderOptions{}, false, false},
		{"a wrong secret is refused", Config{BaseURL: env.api.URL, MerchantID: testMerchantID, Secret: "wrong"}, ProviderOptions{}, true, true},
		{"another merchant is refused", Config{BaseURL: env.api.URL, MerchantID: "4321", Secret: testSecret}, ProviderOptions{}, true, true},
		{"a channel that is not the merchant's still proves the secret", Config{BaseURL: env.api.URL, MerchantID: testMerchantID, Secret: testSecret}, ProviderOptions{Channel: "no_such_channel"}, false, false},
		{"Mandarin not answering refuses nothing", Config{BaseURL: gone.URL, MerchantID: testMerchantID, Secret: testSecret}, ProviderOptions{}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl, err := NewClient(tt.cfg)
			require.NoError(t, err)
			err = NewProvider(cl, tt.opts).CheckCredentials(context.Background())
			require.Equal(t, tt.fails, err != nil, "error: %v", err)
			require.Equal(t, tt.refused, errors.Is(err, providers.ErrCredentialsRefused), "error: %v", err)
		})
	}
	require.Empty(t, env.sandbox.Ledger(), "the check moves no money")
	var _ providers.CredentialChecker = (*Provider)(nil)
}
