package workflows

import (
	"context"
	"fmt"
	"sort"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
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
	// AttrContradiction marks a payout whose provider contradicted how it ended (set only then).
	AttrContradiction = temporal.NewSearchAttributeKeyBool("PayoutContradiction")
	// AttrEventAt is the time of the payout's last event, for GET /v1/events (set from versionEvents on).
	AttrEventAt = temporal.NewSearchAttributeKeyTime("PayoutEventAt")
	// AttrCreatedBy names the API key that created the payout; the API sets it at start (a backend lists its own).
	AttrCreatedBy = temporal.NewSearchAttributeKeyKeyword("PayoutCreatedBy")
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
	AttrContradiction.GetName():    enumspb.INDEXED_VALUE_TYPE_BOOL,
	AttrEventAt.GetName():          enumspb.INDEXED_VALUE_TYPE_DATETIME,
	AttrCreatedBy.GetName():        enumspb.INDEXED_VALUE_TYPE_KEYWORD,
}

// SearchAttributes returns the search attribute updates that describe a payout's state.
func SearchAttributes(s payout.State) []temporal.SearchAttributeUpdate {
	updates := []temporal.SearchAttributeUpdate{
		AttrStatus.ValueSet(string(s.Status)),
		AttrProvider.ValueSet(s.Provider),
		AttrMethod.ValueSet(s.Method),
		AttrAmount.ValueSet(s.Amount.Value),
		AttrCurrency.ValueSet(s.Amount.Currency),
		AttrAwaitingApproval.ValueSet(s.Status == payout.StatusAwaitingApproval),
		AttrNeedsAttention.ValueSet(s.Status == payout.StatusNeedsAttention),
	}
	if s.Contradiction != nil {
		updates = append(updates, AttrContradiction.ValueSet(true))
	}
	return updates
}

// searchKey names the values of search attribute updates, to tell whether they changed.
func searchKey(updates []temporal.SearchAttributeUpdate) string {
	sa := temporal.NewSearchAttributes(updates...)
	var parts []string
	for k, v := range sa.GetUntypedValues() {
		parts = append(parts, fmt.Sprintf("%s=%v", k.GetName(), v))
	}
	sort.Strings(parts) // map order is random: the key must be the same on every replay
	return strings.Join(parts, ";")
}

// EnsureSearchAttributes registers on the namespace the payout search attributes it lacks. It is how a worker
// prepares a fresh Temporal cluster; the embedded dev server registers them before it starts.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes of %s: %w", namespace, err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range SearchAttributeTypes {
		if _, ok := have.GetCustomAttributes()[name]; !ok {
			missing[name] = typ
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing,
	})
	if err != nil {
		return fmt.Errorf("add search attributes to %s: %w", namespace, err)
	}
	return nil
}
