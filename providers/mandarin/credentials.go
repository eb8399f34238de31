package mandarin

import (
	"context"
	"errors"
	"net/http"

	"github.com/payoutflow/payoutflow/providers"
)

// CheckCredentials reads the balance of the channel payouts are paid from (GET
// /api/account/channels/{name}/balance, seed 004) with X-Auth: it moves no money. Its error wraps
// providers.ErrCredentialsRefused when Mandarin answers 401 or 403 (providers.CredentialChecker). Mandarin's own
// "Unknown channel" (404) comes after X-Auth verified: the credentials are good, the channel is not the merchant's.
func (p *Provider) CheckCredentials(ctx context.Context) error {
	_, err := p.client.Balance(ctx, p.opts.Channel)
	var pe *providers.Error
	if errors.As(err, &pe) && pe.Certainty == providers.Known && pe.HTTPStatus == http.StatusNotFound {
		return nil
	}
	return providers.RefusedCredentials(err)
}
