package providertest

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/providers"
)

// Credentials is one credential check to make: the provider, built with some credentials, and what it must tell.
type Credentials struct {
	Name    string
	Checker func(t *testing.T) providers.CredentialChecker
	// Refused: the provider refuses the credentials. Fails: the check errs (refused, or the provider did not tell).
	Refused, Fails bool
}

// RequireCredentialChecks makes each check and asserts what it told.
func RequireCredentialChecks(t *testing.T, checks []Credentials) {
	t.Helper()
	for _, c := range checks {
		t.Run(c.Name, func(t *testing.T) {
			err := c.Checker(t).CheckCredentials(context.Background())
			require.Equal(t, c.Fails, err != nil, "error: %v", err)
			require.Equal(t, c.Refused, errors.Is(err, providers.ErrCredentialsRefused), "error: %v", err)
		})
	}
}
