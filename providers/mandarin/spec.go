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
		Title:    "Mandarin",
		Methods:  []string{payout.MethodCardNumber, payout.MethodCardToken, payout.MethodPaymentPage, payout.MethodSBP},
		Options:  []string{payout.OptionSBPWithoutName},
		Failures: failures,
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
// last and first name; the phone it sends (recipient.phone, else billing_address.phone) as +7 and 10 digits; for
// an SBP payout, no recipient.phone other than destination.sbp.phone, the phone it sends; and, where no default is
// configured, a phone and an email to send as customerInfo (seed 004: both required).
func (p *Provider) Validate(req payout.Request) error {
	r, sbp := req.Recipient, req.Destination.SBP
	if sbp != nil && !sbp.WithoutName && len(strings.Fields(r.FullName)) < 2 {
		return payout.NewFieldError("recipient.full_name", "incomplete_name", "an SBP payout with the name needs the recipient's "+
			"last name, first name and, where the passport has one, middle name, as \"Иванов Петр Сергеевич\"")
	}
	if r.Phone != "" && !payout.ValidPhone(r.Phone) {
		return payout.NewFieldError("recipient.phone", "invalid_phone", "mandarin takes the recipient's phone (customerInfo.phone) as +7 followed by 10 digits, as +79001234567")
	}
	if sbp != nil && r.Phone != "" && r.Phone != sbp.Phone {
		return payout.NewFieldError("recipient.phone", "phone_mismatch", "mandarin sends an SBP payout's destination.sbp.phone as the recipient's phone (customerInfo.phone): "+
			"recipient.phone must be the same number, or left out")
	}
	if a := r.Address; sbp == nil && r.Phone == "" && a != nil && a.Phone != "" && !payout.ValidPhone(a.Phone) {
		return payout.NewFieldError("recipient.billing_address.phone", "invalid_phone", "mandarin sends billing_address.phone, when recipient.phone is not given, as the recipient's phone "+
			"(customerInfo.phone), which it takes as +7 followed by 10 digits, as +79001234567")
	}
	phone, email := p.customer(req)
	if phone == "" {
		return payout.NewFieldError("recipient.phone", "required", "mandarin requires the recipient's phone (customerInfo.phone), as +79001234567")
	}
	if email == "" {
		return payout.NewFieldError("recipient.email", "required", "mandarin requires the recipient's email (customerInfo.email)")
	}
	return nil
}
