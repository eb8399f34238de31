package sandbox

// The error codes the sandbox answers with: in a session's or a payout's error, or in a refused call's answer.
// They are Bank 131's (reference/providers.md, "Errors").
const (
	CodeDeclinedByIssuerBank      = "declined_by_issuer_bank"
	CodeAccountNotFound           = "account_not_found"
	CodeProviderIssuerUnavailable = "provider_issuer_unavailable"
	CodeProviderTimeout           = "provider_timeout"
	Code3DSError                  = "3DS_error"
	CodeSessionCancelledByPartner = "session_cancelled_by_partner"
	CodeInvalidRequest            = "invalid_request"
	CodeSessionWrongState         = "session_wrong_state"
	CodeIdempotencyKeyExists      = "idempotency_key_already_exists"
	CodeIdentificationError       = "identification_error"
	CodeAuthenticationError       = "authentication_error"
	CodeInternalError             = "internal_error"
)

// FailureCodes lists every error code the sandbox answers with.
var FailureCodes = []string{
	CodeDeclinedByIssuerBank, CodeAccountNotFound, CodeProviderIssuerUnavailable, CodeProviderTimeout, Code3DSError,
	CodeSessionCancelledByPartner, CodeInvalidRequest, CodeSessionWrongState, CodeIdempotencyKeyExists,
	CodeIdentificationError, CodeAuthenticationError, CodeInternalError,
}
