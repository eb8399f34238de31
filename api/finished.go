package api

import (
	"fmt"
	"net/http"

	"github.com/payoutflow/payoutflow/payout"
)

// finished answers a decision about a payout that has ended: 409 payout_finished, saying how it ended, whoever
// asks and whatever they ask.
func finished(id string, st payout.State) *Error {
	how := string(st.Status)
	switch {
	case st.Status == payout.StatusCancelled && st.Approval != nil:
		how = "was cancelled by " + st.Approval.By
		if st.Approval.Reason != "" {
			how += ": " + st.Approval.Reason
		}
	case st.Status == payout.StatusCancelled:
		how = "was cancelled"
	case st.Status == payout.StatusFailed && st.Failure != nil && st.Failure.Code != "":
		how = "failed (" + st.Failure.Code + ")"
	}
	return apiError(http.StatusConflict, "payout_finished",
		fmt.Sprintf("payout %s is finished: it %s; a finished payout takes no confirm or cancel", id, how))
}
