package api

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/workflows"
)

const enumsReject = enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE

// searchAttributes are a new payout's search attributes, set at start so that it is findable at once.
func searchAttributes(s payout.State) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(workflows.SearchAttributes(s)...)
}
