package sandbox

import "net/http"

// FailureStatuses lists the status of every failed payout the sandbox makes: a transaction's callback status and
// an SBP payout's status.
var FailureStatuses = []string{StatusFailed, StatusFail}

// RefusalStatuses lists the HTTP statuses the sandbox refuses a call with, with Mandarin's error answer; ErrorCodes
// lists the errorCode values it gives in one.
var (
	RefusalStatuses = []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusNotFound,
		http.StatusMethodNotAllowed}
	ErrorCodes = []int{errorCodeDuplicate}
)
