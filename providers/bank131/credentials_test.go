package bank131

import (
	"crypto/rsa"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bank131/sandbox"
	"github.com/payoutflow/payoutflow/providers/internal/providertest"
)

func TestCheckCredentials_TheSandboxRefusesAWrongKeyOrProject(t *testing.T) {
	partner, bank := testKeys(t)
	sb := sandbox.NewSandbox(sandbox.SandboxConfig{PartnerPublicKey: &partner.PublicKey, Project: testProject})
	t.Cleanup(sb.Close)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	gone := httptest.NewServer(sb)
	gone.Close()
	with := func(base, project string, key *rsa.PrivateKey) func(*testing.T) providers.CredentialChecker {
		return func(t *testing.T) providers.CredentialChecker {
			cl, err := NewClient(Config{BaseURL: base, Project: project, PrivateKey: key})
			require.NoError(t, err)
			return NewProvider(cl)
		}
	}

	providertest.RequireCredentialChecks(t, []providertest.Credentials{
		{Name: "our key and project are accepted", Checker: with(srv.URL, testProject, partner)},
		{Name: "a signature by another key is refused", Checker: with(srv.URL, testProject, bank), Refused: true, Fails: true},
		{Name: "an unknown project is refused", Checker: with(srv.URL, "other", partner), Refused: true, Fails: true},
		{Name: "a bank that does not answer refuses nothing", Checker: with(gone.URL, testProject, partner), Fails: true},
	})
	require.Empty(t, sb.Ledger(), "the check moves no money")
}
