package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/payoutflow/payoutflow/payout"
)

// Search attributes of a payout workflow, for operators' filters in Temporal UI. None holds a card number, phone or
// name.
var (
	AttrStatus           = temporal.NewSearchAttributeKeyKeyword("PayoutStatus")
	AttrProvider         = temporal.NewSearchAttributeKeyKeyword("PayoutProvider")
	AttrMethod           = temporal.NewSearchAttributeKeyKeyword("PayoutMethod")
	AttrAmount           = temporal.NewSearchAttributeKeyInt64("PayoutAmount")
	AttrCurrency         = temporal.NewSearchAttributeKeyKeyword("PayoutCurrency")
	AttrAwaitingApproval = temporal.NewSearchAttributeKeyBool("AwaitingApproval")
	AttrNeedsAttention   = temporal.NewSearchAttributeKeyBool("NeedsAttention")
)

// SearchAttributeTypes lists the search attributes to register on a namespace.
var SearchAttributeTypes = map[string]enumspb.IndexedValueType{
	AttrStatus.GetName():           enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	AttrProvider.GetName():         enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	AttrMethod.GetName():           enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	AttrAmount.GetName():           enumspb.INDEXED_VALUE_TYPE_INT,
	AttrCurrency.GetName():         enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	AttrAwaitingApproval.GetName(): enumspb.INDEXED_VALUE_TYPE_BOOL,
	AttrNeedsAttention.GetName():   enumspb.INDEXED_VALUE_TYPE_BOOL,
}

// SearchAttributes returns the search attribute updates that describe a payout's state.
func SearchAttributes(s payout.State) []temporal.SearchAttributeUpdate {
	return []temporal.SearchAttributeUpdate{
		AttrStatus.ValueSet(string(s.Status)),
		AttrProvider.ValueSet(s.Provider),
		AttrMethod.ValueSet(s.Method),
		AttrAmount.ValueSet(s.Amount.Value),
		AttrCurrency.ValueSet(s.Amount.Currency),
		AttrAwaitingApproval.ValueSet(s.Status == payout.StatusAwaitingApproval),
		AttrNeedsAttention.ValueSet(s.Status == payout.StatusNeedsAttention),
	}
}
