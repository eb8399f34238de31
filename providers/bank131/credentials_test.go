package bank131

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bank131/sandbox"
)

func TestCheckCredentials_TheSandboxRefusesAWrongKeyOrProject(t *testing.T) {
	partner, bank := testKeys(t)
	sb := sandbox.NewSandbox(sandbox.SandboxConfig{PartnerPublicKey: &partner.PublicKey, Project: testProject})
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
		{"our key and project are accepted", Config{BaseURL: srv.URL, Project: testProject, PrivateKey: partner}, false, false},
		{"a signature by another key is refused", Config{BaseURL: srv.URL, Project: testProject, PrivateKey: bank}, true, true},
		{"an unknown project is refused", Config{BaseURL: srv.URL, Project: "other", PrivateKey: partner}, true, true},
		{"a bank that does not answer refuses nothing", Config{BaseURL: gone.URL, Project: testProject, PrivateKey: partner}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cl, err := NewClient(tt.cfg)
			require.NoError(t, err)
			err = NewProvider(cl).CheckCredentials(context.Background())
			require.Equal(t, tt.fails, err != nil, "error: %v", err)
			require.Equal(t, tt.refused, errors.Is(err, providers.ErrCredentialsRefused), "error: %v", err)
		})
	}
	var _ providers.CredentialChecker = (*Provider)(nil)
}
