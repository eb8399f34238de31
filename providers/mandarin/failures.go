package mandarin

import "github.com/payoutflow/payoutflow/payout"

// codeSBPPrefix prefixes an SBP status that failed a payout (sbp_fail): the recipient's bank refused it.
const codeSBPPrefix = "sbp_"

// failures maps Mandarin's codes to payoutflow's failure codes: a failed transaction's status (its callback and
// operation give no reason, so it is payout.FailureDeclined), a failed SBP status, the documented errorCode -2, and
// this client's codes for refused calls. A code not here is payout.FailureProviderRejected.
var failures = payout.FailureTable{
	StatusFailed:                 payout.FailureDeclined,
	StatusFail:                   payout.FailureDeclined,
	codeSBPPrefix + StatusFail:   payout.FailureDeclinedByIssuer,
	codeSBPPrefix + StatusFailed: payout.FailureDeclinedByIssuer,
	"-2":                         payout.FailureDuplicate,
	CodeDuplicateOrderID:         payout.FailureDuplicate,
	CodeInvalidRequest:           payout.FailureInvalidRequest,
	CodeBadRequest:               payout.FailureInvalidRequest,
	CodeNotFound:                 payout.FailureInvalidRequest,
	CodeNotSupported:             payout.FailureInvalidRequest,
	CodeUnsupportedPayout:        payout.FailureInvalidRequest,
	CodeUnknownBank:              payout.FailureInvalidRequest,
	CodeUnauthorized:             payout.FailureProviderMisconfigured,
	CodeOperationIDUnknown:       payout.FailureProviderUnavailable,
}
