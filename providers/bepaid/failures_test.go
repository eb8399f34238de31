package bepaid

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/bepaid/sandbox"
	"github.com/payoutflow/payoutflow/providers/internal/providertest"
)

func TestFailures_EachBePaidCodeMapsToItsFailureCode(t *testing.T) {
	rows := map[string]string{
		"04":                payout.FailureRiskCheck,
		"05":                payout.FailureDeclinedByIssuer,
		"07":                payout.FailureRiskCheck,
		"12":                payout.FailureDeclinedByIssuer,
		"13":                payout.FailureLimitExceeded,
		"14":                payout.FailureInvalidCard,
		"15":                payout.FailureInvalidCard,
		"41":                payout.FailureInvalidCard,
		"43":                payout.FailureInvalidCard,
		"51":                payout.FailureInsufficientFunds,
		"54":                payout.FailureCardExpired,
		"57":                payout.FailureRecipientNotEligible,
		"58":                payout.FailureRecipientNotEligible,
		"59":                payout.FailureRiskCheck,
		"61":                payout.FailureLimitExceeded,
		"62":                payout.FailureRecipientNotEligible,
		"65":                payout.FailureLimitExceeded,
		"91":                payout.FailureProviderUnavailable,
		"96":                payout.FailureProviderUnavailable,
		"declined":          payout.FailureDeclined,
		"validation_error":  payout.FailureInvalidRequest,
		"bad_request":       payout.FailureInvalidRequest,
		"not_found":         payout.FailureInvalidRequest,
		"not_supported":     payout.FailureInvalidRequest,
		"duplicate_request": payout.FailureDuplicate,
		"unauthorized":      payout.FailureProviderMisconfigured,
		"forbidden":         payout.FailureProviderMisconfigured,
	}
	providertest.RequireFailureTable(t, failures, rows)
}

func TestFailures_UnknownBePaidCodeIsProviderRejected(t *testing.T) {
	got, known := failures.Map("F.1000")
	require.False(t, known)
	require.Equal(t, payout.FailureProviderRejected, got)
}

// The sandbox's failed payouts and refusals, read by this client as it reads bePaid's, each have a failure code
// of their own.
func TestFailures_EverySandboxCodeHasItsOwnFailureCode(t *testing.T) {
	var codes []string
	for _, bankCode := range sandbox.FailureBankCodes {
		tx := Transaction{UID: "1-abc", Status: StatusFailed, Message: "declined",
			Payout: &PayoutDetails{Status: StatusFailed, BankCode: Text(bankCode)}}
		o := outcome(providers.Ref{PayoutID: "po_1"}, tx)
		require.Equal(t, providers.StateFailed, o.State)
		codes = append(codes, o.ErrorCode)
	}
	for _, status := range sandbox.RefusalStatuses {
		codes = append(codes, refusalCode(status, &APIError{Message: "refused"}))
	}
	for _, code := range codes {
		got, known := failures.Map(code)
		require.True(t, known, "code %q is not in the table", code)
		require.NotEqual(t, payout.FailureProviderRejected, got, code)
	}
}
