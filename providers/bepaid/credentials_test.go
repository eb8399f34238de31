package bepaid

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bepaid/sandbox"
)

func TestCheckCredentials_TheSandboxRefusesAWrongShopOrSecret(t *testing.T) {
	sb := sandbox.NewSandbox(sandbox.SandboxConfig{ShopID: testShopID, SecretKey: testSecretKey})
	t.Cleanup(sb.Close)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	gone := httptest.NewServer(sb)
	gone.Close()

	tests := []struct {
		name    string
		cfg     Config
		refused bool
		fails   bool
	}{
		{"the shop's credentials are accepted", Config{BaseURL: srv.URL, ShopID: testShopID, SecretKey: testSecretKey}, false, false},
		{"a wrong secret is refused", Config{BaseURL: srv.URL, ShopID: testShopID, SecretKey: "wrong"}, true, true},
		{"another shop is refused", Config{BaseURL: srv.URL, ShopID: "362", SecretKey: testSecretKey}, true, true},
		{"a gateway that does not answer refuses nothing", Config{BaseURL: gone.URL, ShopID: testShopID, SecretKey: testSecretKey}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl, err := NewClient(tt.cfg)
			require.NoError(t, err)
			err = NewProvider(cl, ProviderOptions{}).CheckCredentials(context.Background())
			require.Equal(t, tt.fails, err != nil, "error: %v", err)
			require.Equal(t, tt.refused, errors.Is(err, providers.ErrCredentialsRefused), "error: %v", err)
		})
	}
	require.Empty(t, sb.Ledger(), "the check moves no money")
	var _ providers.CredentialChecker = (*Provider)(nil)
}
