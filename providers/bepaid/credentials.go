package bepaid

import (
	"context"

	"github.com/payoutflow/payoutflow/providers"
)

// credentialsTrackingID is the tracking_id the credential check looks up: no payout has it (ours are payout IDs,
// po_…), so the answer is an empty list, or a refusal of the shop's credentials.
const credentialsTrackingID = "payoutflow-credentials-check"

// CheckCredentials looks up a tracking_id that no payout has (GET /v2/transactions/tracking_id/{id}) with the
// shop's Basic credentials: it moves no money. Its error wraps providers.ErrCredentialsRefused when bePaid answers
// 401 or 403 (providers.CredentialChecker).
func (p *Provider) CheckCredentials(ctx context.Context) error {
	_, err := p.client.ByTrackingID(ctx, credentialsTrackingID)
	return providers.RefusedCredentials(err)
}
