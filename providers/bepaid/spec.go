package bepaid

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
)

var (
	_ providers.Plugin        = (*Provider)(nil)
	_ providers.CreateChecker = (*Provider)(nil)
)

// MaxHolder is bePaid's limit of a card holder's name.
const MaxHolder = 32

// Spec: bePaid pays to card numbers and tokens, and takes no option.
func (p *Provider) Spec() providers.Spec {
	return providers.Spec{Title: "bePaid", Methods: []string{payout.MethodCardNumber, payout.MethodCardToken},
		Failures: failures}
}

// Capabilities: bePaid pays on submit, so approval comes first. It lists a payout by tracking_id only once it has
// processed it, and its duplicate_check forgets after 30 s, so a payout whose submit went unanswered is sent again
// only after ten minutes of showing none; it answers within a day. It pays in any currency the engine knows.
func (p *Provider) Capabilities(payout.Request) providers.Capabilities {
	return providers.Capabilities{SettlePeriod: 10 * time.Minute, DedupWindow: 10 * time.Minute, PendingLimit: 24 * time.Hour}
}

// Validate checks what bePaid asks beyond the common fields: a card number goes with its holder and expiry.
func (p *Provider) Validate(req payout.Request) error {
	c := req.Destination.Card
	if c == nil || c.Number == "" {
		return nil
	}
	holder := strings.TrimSpace(c.Holder)
	switch {
	case holder == "":
		return payout.NewFieldError("destination.card.holder", "required", "bepaid needs the card holder's name with a card number")
	case utf8.RuneCountInString(holder) > MaxHolder:
		return payout.NewFieldError("destination.card.holder", "too_long", "card holder is longer than %d characters", MaxHolder)
	case payout.LooksLikeCardNumber(holder):
		return payout.NewFieldError("destination.card.holder", "card_number_not_allowed", "card holder must not carry a card number")
	case !payout.ValidExpMonth(c.ExpMonth):
		return payout.NewFieldError("destination.card.exp_month", "invalid_exp_month", "exp_month must be two digits, 01 to 12")
	case !payout.ValidExpYear(c.ExpYear):
		return payout.NewFieldError("destination.card.exp_year", "invalid_exp_year", "exp_year must be four digits, e.g. 2030")
	}
	return nil
}

// CheckCreate refuses a card number whose expiry month has ended by now (in UTC), as bePaid refuses it
// (recipient_credit_card.exp_year "is expired"): at create, by the API, never in the workflow (providers.CreateChecker).
func (p *Provider) CheckCreate(req payout.Request, now time.Time) error {
	c := req.Destination.Card
	if c == nil || c.Number == "" {
		return nil
	}
	month, err1 := strconv.Atoi(c.ExpMonth)
	year, err2 := strconv.Atoi(c.ExpYear)
	if err1 != nil || err2 != nil {
		return nil // Validate refuses it
	}
	now = now.UTC()
	if year < now.Year() || year == now.Year() && month < int(now.Month()) {
		return payout.NewFieldError("destination.card.exp_year", "card_expired", "the card expired at the end of %s/%s", c.ExpMonth, c.ExpYear)
	}
	return nil
}
