package mandarin

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/providers/internal/providertest"
	"github.com/payoutflow/payoutflow/providers/mandarin/sandbox"
)

func TestFailures_EachMandarinCodeMapsToItsFailureCode(t *testing.T) {
	rows := map[string]string{
		"failed":               payout.FailureDeclined,
		"fail":                 payout.FailureDeclined,
		"sbp_fail":             payout.FailureDeclinedByIssuer,
		"sbp_failed":           payout.FailureDeclinedByIssuer,
		"-2":                   payout.FailureDuplicate,
		"duplicate_order_id":   payout.FailureDuplicate,
		"invalid_request":      payout.FailureInvalidRequest,
		"bad_request":          payout.FailureInvalidRequest,
		"not_found":            payout.FailureInvalidRequest,
		"not_supported":        payout.FailureInvalidRequest,
		"unsupported_payout":   payout.FailureInvalidRequest,
		"unknown_bank":         payout.FailureInvalidRequest,
		"unauthorized":         payout.FailureProviderMisconfigured,
		"operation_id_unknown": payout.FailureProviderUnavailable,
	}
	providertest.RequireFailureTable(t, failures, rows)
}

func TestFailures_UnknownMandarinCodeIsProviderRejected(t *testing.T) {
	got, known := failures.Map("-7")
	require.False(t, known)
	require.Equal(t, payout.FailureProviderRejected, got)
}

// The sandbox's failed payouts (callback, operation, SBP status) and refusals, read by this client as it reads
// Mandarin's, each have a failure code of their own.
func TestFailures_EverySandboxCodeHasItsOwnFailureCode(t *testing.T) {
	var codes []string
	for _, status := range sandbox.FailureStatuses {
		op := operationOutcome(providers.Ref{PayoutID: "po_1"}, Operation{State: status})
		require.Equal(t, providers.StateFailed, op.State, status)
		codes = append(codes, op.ErrorCode, status, codeSBPPrefix+strings.ToLower(status))
	}
	for _, status := range sandbox.RefusalStatuses {
		codes = append(codes, refusalCode(status, &APIError{Message: "Invalid request"}))
	}
	for _, ec := range sandbox.ErrorCodes {
		codes = append(codes, refusalCode(400, &APIError{Message: "Duplicate order id", ErrorCode: &ec}))
	}
	for _, code := range codes {
		got, known := failures.Map(code)
		require.True(t, known, "code %q is not in the table", code)
		require.NotEqual(t, payout.FailureProviderRejected, got, code)
	}
}
