package bank131

import (
	"context"
	"errors"
	"fmt"

	"github.com/payoutflow/payoutflow/providers"
)

// The bank's error codes that refuse who calls (providers.md 1.5): an unknown X-PARTNER-PROJECT, and an
// X-PARTNER-SIGN that does not verify. authorization_error is about a project's rights to one method, not about
// its credentials.
const (
	codeIdentificationError = "identification_error"
	codeAuthenticationError = "authentication_error"
	codeAuthorizationError  = "authorization_error"
)

// CheckCredentials asks for the bank's SBP bank list (GET fps/banks), signed as every call is: it moves no money.
// Its error wraps providers.ErrCredentialsRefused when the bank does not know the project or the signature does not
// verify (providers.CredentialChecker).
func (p *Provider) CheckCredentials(ctx context.Context) error {
	_, err := p.client.FPSBanks(ctx)
	var pe *providers.Error
	if errors.As(err, &pe) && (pe.Code == codeIdentificationError || pe.Code == codeAuthenticationError) {
		return fmt.Errorf("%w: %w", providers.ErrCredentialsRefused, err)
	}
	if errors.As(err, &pe) && pe.Code == codeAuthorizationError {
		// The bank knew us and checked the signature; the project only lacks SBP: the credentials are good.
		return nil
	}
	return err
}
