package workflows

import "github.com/payoutflow/payoutflow/payout"

// The worker's registry of providers records each provider's title; these tests have no registry.
func init() { payout.SetProviderTitle("bank131", "Bank 131") }
