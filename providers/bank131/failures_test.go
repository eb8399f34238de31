package bank131

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers/bank131/sandbox"
	"github.com/payoutflow/payoutflow/providers/internal/providertest"
)

func TestFailures_EachBank131CodeMapsToItsFailureCode(t *testing.T) {
	rows := map[string]string{
		"declined_by_issuer_bank":              payout.FailureDeclinedByIssuer,
		"not_permitted_by_issuer_bank":         payout.FailureRecipientNotEligible,
		"insufficient_funds":                   payout.FailureInsufficientFunds,
		"insufficient_wallet_balance":          payout.FailureInsufficientFunds,
		"bank_card_expired":                    payout.FailureCardExpired,
		"card_number_does_not_exist":           payout.FailureInvalidCard,
		"binding_is_deactivated":               payout.FailureInvalidCard,
		"invalid_token":                        payout.FailureInvalidCard,
		"provider_exceeds_amount_limit":        payout.FailureLimitExceeded,
		"amount_less_allowed_provider":         payout.FailureLimitExceeded,
		"activity_count_exceeded":              payout.FailureLimitExceeded,
		"taxpayer_income_exceeds_amount_limit": payout.FailureLimitExceeded,
		"account_not_found":                    payout.FailureRecipientNotFound,
		"provider_foreign_transfer_prohibited": payout.FailureRecipientNotEligible,
		"taxpayer_unknown":                     payout.FailureRecipientNotEligible,
		"taxpayer_not_bound":                   payout.FailureRecipientNotEligible,
		"3DS_error":                            payout.FailurePayerAuthentication,
		"operation_rejected":                   payout.FailureRiskCheck,
		"invalid_request":                      payout.FailureInvalidRequest,
		"session_wrong_state":                  payout.FailureInvalidRequest,
		"idempotency_key_already_exists":       payout.FailureDuplicate,
		"identification_error":                 payout.FailureProviderMisconfigured,
		"authentication_error":                 payout.FailureProviderMisconfigured,
		"authorization_error":                  payout.FailureProviderMisconfigured,
		"internal_error":                       payout.FailureProviderUnavailable,
		"provider_internal_error":              payout.FailureProviderUnavailable,
		"provider_issuer_unavailable":          payout.FailureProviderUnavailable,
		"provider_timeout":                     payout.FailureProviderUnavailable,
		"wallet_internal_error":                payout.FailureProviderUnavailable,
		"routing_internal_error":               payout.FailureProviderUnavailable,
		"npd_service_internal_error":           payout.FailureProviderUnavailable,
		"confirm_timeout":                      payout.FailureProviderUnavailable,
		"session_cancelled":                    payout.FailureCancelledByProvider,
		"session_cancelled_by_partner":         payout.FailureCancelledByOperator,
	}
	providertest.RequireFailureTable(t, failures, rows)
}

func TestFailures_UnknownBank131CodeIsProviderRejected(t *testing.T) {
	got, known := failures.Map("taxpayer_already_bound")
	require.False(t, known)
	require.Equal(t, payout.FailureProviderRejected, got)
}

func TestFailures_EverySandboxCodeHasItsOwnFailureCode(t *testing.T) {
	for _, code := range sandbox.FailureCodes {
		got, known := failures.Map(code)
		require.True(t, known, "sandbox code %s is not in the table", code)
		require.NotEqual(t, payout.FailureProviderRejected, got, code)
	}
}
