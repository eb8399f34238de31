package bank131

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
)

var _ providers.Plugin = (*Provider)(nil)

// MaxSBPDescription is Bank 131's limit of an SBP payout's description.
const MaxSBPDescription = 140

// Spec: Bank 131 pays to card numbers and tokens, by SBP, and makes cross-border transfers; it takes single-request
// payouts and payouts from a source account.
func (p *Provider) Spec() providers.Spec {
	return providers.Spec{
		Title:    "Bank 131",
		Methods:  []string{payout.MethodCardNumber, payout.MethodCardToken, payout.MethodSBP, payout.MethodTransfer},
		Options:  []string{payout.OptionSingleRequest, payout.OptionSourceAccount},
		Failures: failures,
	}
}

// Capabilities: Bank 131 holds every payout until it is confirmed (ready_to_confirm, then session/confirm). A
// single-request payout is created on submit (session/init/payout, and its nominal and rko variants for a source
// account), and a second submit under the same idempotency key is refused as idempotency_key_already_exists until
// the bank names the session: that resubmit is its lookup. Its session status is its own record of the start it
// took, so it settles in two minutes; it keeps an idempotency key for as long as the session, which this engine
// does not rely on past an hour; it settles within three banking days. It pays in roubles, but for a transfer,
// which pays the recipient's currency.
func (p *Provider) Capabilities(req payout.Request) providers.Capabilities {
	c := providers.Capabilities{
		ConfirmsAtProvider: true,
		OpensOnSubmit:      SingleRequest(req),
		LooksUpBySubmit:    SingleRequest(req),
		SettlePeriod:       2 * time.Minute,
		DedupWindow:        time.Hour,
		PendingLimit:       72 * time.Hour,
	}
	if req.Transfer == nil {
		c.Currencies = []string{"RUB"}
	}
	return c
}

// Validate checks what Bank 131 asks beyond the common fields: an SBP payout's description, and the single-request
// and source-account options. A transfer's fields are checked in common.
func (p *Provider) Validate(req payout.Request) error {
	if req.Transfer != nil {
		return nil
	}
	if req.Destination.SBP != nil {
		switch n := utf8.RuneCountInString(strings.TrimSpace(req.Description)); {
		case n == 0:
			return payout.NewFieldError("description", "required", "a bank131 SBP payout needs a description (at most %d characters)", MaxSBPDescription)
		case n > MaxSBPDescription:
			return payout.NewFieldError("description", "too_long", "a bank131 SBP payout's description is at most %d characters", MaxSBPDescription)
		}
		if req.SingleRequest {
			return payout.NewFieldError("single_request", "not_supported", "single_request is for card payouts")
		}
	}
	switch req.SourceAccount {
	case "":
	case payout.SourceNominal, payout.SourceSettlement:
		if req.Method() != payout.MethodCardToken {
			return payout.NewFieldError("source_account", "token_required", "payouts from a %s account go to a card token", req.SourceAccount)
		}
	default:
		return payout.NewFieldError("source_account", "unknown_source_account", "source_account is one of nominal, settlement (or omitted)")
	}
	return nil
}
