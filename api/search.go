package api

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/workflows"
)

const enumsReject = enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE

// searchAttributes are a new payout's search attributes, set at start so that it is findable at once; who created
// it is set only here (the workflow never changes it).
func searchAttributes(s payout.State, more ...temporal.SearchAttributeUpdate) temporal.SearchAttributes {
	updates := append(workflows.SearchAttributes(s), workflows.AttrCreatedBy.ValueSet(s.CreatedBy))
	return temporal.NewSearchAttributes(append(updates, more...)...)
}
