package payout

import (
	"slices"
	"sync"
)

// Failure is why a payout failed or was cancelled. Code is payoutflow's own (one of FailureCodes), the same for
// every provider; ProviderCode and ProviderMessage keep the provider's words where it gave them. Payouts recorded
// before the vocabulary hold the provider's code in Code and its words in Description: State.NormaliseFailure
// reads them as they are read now.
type Failure struct {
	Code        string `json:"code"`
	Description string `json:"description,omitempty"`
	// ProviderCode is the provider's code, as its client names it (Bank 131's error.code, bePaid's bank_code,
	// Mandarin's status).
	ProviderCode string `json:"provider_code,omitempty"`
	// ProviderMessage is the provider's description, never holding a card number.
	ProviderMessage string `json:"provider_message,omitempty"`
}

// The failure codes: a closed list, documented in the README ("One vocabulary of failures"). A code is added here,
// to FailureCodes and to the README together; none is ever renamed.
const (
	// FailureDeclinedByIssuer: the recipient's bank (the card's issuer, or the SBP bank) declined the payout.
	FailureDeclinedByIssuer = "declined_by_issuer"
	// FailureDeclined: the provider declined the payout and gave no reason.
	FailureDeclined = "declined"
	// FailureInsufficientFunds: not enough money where the payout is paid from (the balance at the provider, a
	// transfer's sender card).
	FailureInsufficientFunds = "insufficient_funds"
	// FailureInvalidCard: the card does not exist, is blocked or its token is unknown.
	FailureInvalidCard = "invalid_card"
	// FailureCardExpired: the card has expired.
	FailureCardExpired = "card_expired"
	// FailureLimitExceeded: the amount, or the number of payouts, is outside a limit of the provider or the bank.
	FailureLimitExceeded = "limit_exceeded"
	// FailureRecipientNotFound: the recipient's bank has no account for the destination (an SBP phone).
	FailureRecipientNotFound = "recipient_not_found"
	// FailureRecipientNotEligible: the recipient cannot take this payout (the card takes no payouts, a country or
	// a taxpayer status refused).
	FailureRecipientNotEligible = "recipient_not_eligible"
	// FailurePayerAuthentication: the payer of a transfer did not pass 3-D Secure.
	FailurePayerAuthentication = "payer_authentication_failed"
	// FailureRiskCheck: a security or anti-fraud check of the provider or the bank refused the payout.
	FailureRiskCheck = "rejected_by_risk_check"
	// FailureInvalidRequest: the provider refused the request as invalid or out of turn.
	FailureInvalidRequest = "invalid_request"
	// FailureDuplicate: the provider refused the payout as a repeat of one it has.
	FailureDuplicate = "duplicate_payout"
	// FailureProviderMisconfigured: the provider refused payoutflow's credentials or rights.
	FailureProviderMisconfigured = "provider_misconfigured"
	// FailureProviderUnavailable: the provider, or a bank behind it, could not be reached or failed inside.
	FailureProviderUnavailable = "provider_unavailable"
	// FailureProviderRejected is the default: the provider refused for a reason payoutflow has no code for; its
	// code is in ProviderCode, and is logged.
	FailureProviderRejected = "provider_rejected"
	// FailureMarkedFailed: an operator marked the payout failed (resolve).
	FailureMarkedFailed = "marked_failed"
	// FailureCancelledByPolicy: the policy declined the payout.
	FailureCancelledByPolicy = "cancelled_by_policy"
	// FailureCancelledByOperator: a person cancelled the payout (API, Temporal UI), or the provider reports the
	// cancel payoutflow asked of it.
	FailureCancelledByOperator = "cancelled_by_operator"
	// FailureApprovalExpired: nobody decided before the approval deadline.
	FailureApprovalExpired = "approval_expired"
	// FailureAmountMismatch: the provider was ready to pay another amount than the one requested, so payoutflow
	// cancelled the payout.
	FailureAmountMismatch = "amount_mismatch"
	// FailureCancelledByProvider: the provider cancelled the payout without being asked.
	FailureCancelledByProvider = "cancelled_by_provider"
)

// failureWords say what each code means, for a Failure without the provider's words; the keys are the closed list.
var failureWords = map[string]string{
	FailureDeclinedByIssuer:      "the recipient's bank declined the payout",
	FailureDeclined:              "the provider declined the payout and gave no reason",
	FailureInsufficientFunds:     "not enough money where the payout is paid from",
	FailureInvalidCard:           "the card does not exist, is blocked, or its token is unknown",
	FailureCardExpired:           "the card has expired",
	FailureLimitExceeded:         "the amount or the number of payouts is outside a limit",
	FailureRecipientNotFound:     "the recipient's bank has no account for the destination",
	FailureRecipientNotEligible:  "the recipient cannot take this payout",
	FailurePayerAuthentication:   "the payer did not pass 3-D Secure",
	FailureRiskCheck:             "a security check refused the payout",
	FailureInvalidRequest:        "the provider refused the request as invalid",
	FailureDuplicate:             "the provider refused the payout as a repeat",
	FailureProviderMisconfigured: "the provider refused payoutflow's credentials",
	FailureProviderUnavailable:   "the provider could not be reached",
	FailureProviderRejected:      "the provider refused the payout",
	FailureMarkedFailed:          "an operator marked the payout failed",
	FailureCancelledByPolicy:     "the policy declined the payout",
	FailureCancelledByOperator:   "cancelled by a person",
	FailureApprovalExpired:       "nobody approved the payout before its deadline",
	FailureAmountMismatch:        "the provider was ready to pay another amount than the one requested",
	FailureCancelledByProvider:   "the provider cancelled the payout",
}

// FailureCodes is the closed list of failure codes, sorted.
func FailureCodes() []string {
	out := make([]string, 0, len(failureWords))
	for c := range failureWords {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// IsFailureCode reports whether code is one of FailureCodes.
func IsFailureCode(code string) bool {
	_, ok := failureWords[code]
	return ok
}

// FailureWords says what a failure code means.
func FailureWords(code string) string { return failureWords[code] }

// FailureTable is one provider's mapping of its failure codes to payoutflow's (FailureCodes); each provider
// package declares its own.
type FailureTable map[string]string

// Map is the failure code of the provider's code, and whether the table has it: FailureProviderRejected when it
// has not.
func (t FailureTable) Map(providerCode string) (string, bool) {
	if c, ok := t[providerCode]; ok {
		return c, true
	}
	return FailureProviderRejected, false
}

// failureTables are the providers' failure tables, by name (the registry of providers records each one's, as it
// records titles).
var failureTables sync.Map

// SetFailureTable records a provider's failure table.
func SetFailureTable(provider string, t FailureTable) { failureTables.Store(provider, t) }

func failureTable(provider string) FailureTable {
	if t, ok := failureTables.Load(provider); ok {
		return t.(FailureTable)
	}
	return nil
}

// ProviderFailure is the failure a provider reported with its code and message, mapped by the provider's table: a
// code the table has not gives FailureProviderRejected and known false, for the caller to log. A failure with no
// code at all is FailureDeclined: the provider said it failed and nothing more.
func ProviderFailure(provider, providerCode, message string) (f Failure, known bool) {
	f = Failure{ProviderCode: providerCode, ProviderMessage: message, Description: message}
	f.Code, known = FailureDeclined, true
	if providerCode != "" {
		f.Code, known = failureTable(provider).Map(providerCode)
	}
	if f.Description == "" {
		f.Description = failureWords[f.Code]
	}
	return f, known
}

// OwnFailure is a failure payoutflow decided itself: a code of FailureCodes, with its words.
func OwnFailure(code, description string) *Failure {
	if description == "" {
		description = failureWords[code]
	}
	return &Failure{Code: code, Description: description}
}

// legacyFailureCodes are payoutflow's own codes from before the vocabulary, as they read now.
var legacyFailureCodes = map[string]string{
	"provider_failed":      FailureDeclined,
	"insufficient_balance": FailureInsufficientFunds,
}

// The actors of decisions no person made, as the workflow records them (policy.Actor, workflows.SystemActor), and
// the reason it records when the approval deadline passes: every other decision of ActorSystem is an amount
// mismatch.
const (
	ActorPolicy            = "policy"
	ActorSystem            = "payoutflow"
	ApprovalDeadlineReason = "approval deadline passed"
)

// NormaliseFailure makes the failure of a finished payout read in the vocabulary, whatever code recorded it: a
// failure recorded before the vocabulary (the provider's code in Code) is mapped by the provider's table, keeping
// the provider's words; a cancelled payout without one gets the reason of who cancelled it. It is idempotent. It
// returns the provider code that the table has not, "" when there is none, for the caller to log.
func (s *State) NormaliseFailure() (unknown string) {
	f := s.Failure
	switch {
	case f == nil && s.Status == StatusCancelled:
		s.Failure = cancelFailure(s.Approval)
	case f == nil || f.ProviderCode != "" || IsFailureCode(f.Code):
	case legacyFailureCodes[f.Code] != "":
		s.Failure = OwnFailure(legacyFailureCodes[f.Code], f.Description)
	default:
		nf, known := ProviderFailure(s.Provider, f.Code, f.Description)
		s.Failure = &nf
		if !known {
			unknown = f.Code
		}
	}
	return unknown
}

// cancelFailure is why a payout was cancelled, by its decision (nil when it was not decided here).
func cancelFailure(a *Approval) *Failure {
	switch {
	case a == nil || a.Approved:
		return OwnFailure(FailureCancelledByProvider, "")
	case a.By == ActorPolicy:
		return OwnFailure(FailureCancelledByPolicy, a.Reason)
	case a.By == ActorSystem && a.Reason == ApprovalDeadlineReason:
		return OwnFailure(FailureApprovalExpired, a.Reason)
	case a.By == ActorSystem:
		return OwnFailure(FailureAmountMismatch, a.Reason)
	}
	words := "cancelled by " + a.By
	if a.Reason != "" {
		words += ": " + a.Reason
	}
	return OwnFailure(FailureCancelledByOperator, words)
}
