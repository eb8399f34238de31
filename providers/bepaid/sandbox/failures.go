package sandbox

import "net/http"

// BankCodeDeclined is the bank_code of a payout the sandbox declines (SandboxCardDeclined, SandboxTokenDeclined).
const BankCodeDeclined = "05"

// FailureBankCodes lists the bank_code of every failed payout the sandbox makes: "" is a payout declined by the
// verification_url's answer, which has no bank's word.
var FailureBankCodes = []string{BankCodeDeclined, ""}

// RefusalStatuses lists the HTTP statuses the sandbox refuses a call with, with bePaid's error answer.
var RefusalStatuses = []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusNotFound,
	http.StatusMethodNotAllowed, http.StatusUnprocessableEntity}
