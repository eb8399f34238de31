package mandarin

import (
	"strings"
	"time"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
)

var _ providers.Plugin = (*Provider)(nil)

// Spec: Mandarin pays to card numbers and tokens, through its payment page and by SBP, with or without the
// recipient's name.
func (p *Provider) Spec() providers.Spec {
	return providers.Spec{
		Title:   "Mandarin",
		Methods: []string{payout.MethodCardNumber, payout.MethodCardToken, payout.MethodPaymentPage, payout.MethodSBP},
		Options: []string{payout.OptionSBPWithoutName},
	}
}

// Capabilities: Mandarin holds an SBP payout sent without the name until the recipient's bank has given the name
// and it is confirmed; any other payout it pays on submit, so approval comes first. Its only lookup of a payout
// whose submit went unanswered is to submit it again under the same orderId, which it refuses as a duplicate while
// the first stands; it accepts a repeat of an orderId whose first payout failed, and its create may run 600 s, so
// the repeat is a lookup for ten minutes. It answers within a day, in roubles.
func (p *Provider) Capabilities(req payout.Request) providers.Capabilities {
	return providers.Capabilities{
		ConfirmsAtProvider: req.Destination.SBP != nil && req.Destination.SBP.WithoutName,
		LooksUpBySubmit:    true,
		SubmitTimeout:      600 * time.Second,
		SettlePeriod:       10 * time.Minute,
		DedupWindow:        10 * time.Minute,
		PendingLimit:       24 * time.Hour,
		Currencies:         []string{"RUB"},
	}
}

// Validate checks what Mandarin asks beyond the common fields: for an SBP payout with the name, the recipient's
// last and first name; the recipient's phone, when given, as +7 and 10 digits.
func (p *Provider) Validate(req payout.Request) error {
	if s := req.Destination.SBP; s != nil && !s.WithoutName && len(strings.Fields(req.Recipient.FullName)) < 2 {
		return payout.NewFieldError("recipient.full_name", "incomplete_name", "an SBP payout with the name needs the recipient's "+
			"last name, first name and, where the passport has one, middle name, as \"Иванов Петр Сергеевич\"")
	}
	if p := req.Recipient.Phone; p != "" && !payout.ValidPhone(p) {
		return payout.NewFieldError("recipient.phone", "invalid_phone", "mandarin takes the recipient's phone (customerInfo.phone) as +7 followed by 10 digits, as +79001234567")
	}
	return nil
}
