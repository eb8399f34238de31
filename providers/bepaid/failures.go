package bepaid

import "github.com/payoutflow/payoutflow/payout"

// codeDeclined is the code of a failed transaction that names no bank_code: bePaid declined it (a verification
// declined, a rule of the shop) without the bank's word.
const codeDeclined = "declined"

// failures maps bePaid's codes to payoutflow's failure codes: a failed payout's bank_code (the card network's
// response code, ISO 8583 as bePaid passes it on: only 05 is in the seed's sandbox, the others are the network's
// common ones), codeDeclined, and this client's codes for refused calls. A code not here is
// payout.FailureProviderRejected.
var failures = payout.FailureTable{
	"04":             payout.FailureRiskCheck,        // pick up card
	"05":             payout.FailureDeclinedByIssuer, // do not honour
	"07":             payout.FailureRiskCheck,        // pick up card, special condition
	"12":             payout.FailureDeclinedByIssuer, // invalid transaction
	"13":             payout.FailureLimitExceeded,    // invalid amount
	"14":             payout.FailureInvalidCard,      // no such card number
	"15":             payout.FailureInvalidCard,      // no such issuer
	"41":             payout.FailureInvalidCard,      // lost card
	"43":             payout.FailureInvalidCard,      // stolen card
	"51":             payout.FailureInsufficientFunds,
	"54":             payout.FailureCardExpired,
	"57":             payout.FailureRecipientNotEligible, // not permitted to the cardholder
	"58":             payout.FailureRecipientNotEligible, // not permitted to the terminal
	"59":             payout.FailureRiskCheck,            // suspected fraud
	"61":             payout.FailureLimitExceeded,        // exceeds the amount limit
	"62":             payout.FailureRecipientNotEligible, // restricted card
	"65":             payout.FailureLimitExceeded,        // exceeds the frequency limit
	"91":             payout.FailureProviderUnavailable,  // issuer unavailable
	"96":             payout.FailureProviderUnavailable,  // system malfunction
	codeDeclined:     payout.FailureDeclined,
	CodeValidation:   payout.FailureInvalidRequest,
	CodeBadRequest:   payout.FailureInvalidRequest,
	CodeNotFound:     payout.FailureInvalidRequest,
	CodeNotSupported: payout.FailureInvalidRequest,
	CodeDuplicate:    payout.FailureDuplicate,
	CodeUnauthorized: payout.FailureProviderMisconfigured,
	CodeForbidden:    payout.FailureProviderMisconfigured,
}
