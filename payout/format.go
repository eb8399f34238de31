package payout

import (
	"fmt"
	"strings"
)

// String reads like "100.00 RUB".
func (a Amount) String() string {
	exp, ok := currencies[a.Currency]
	if !ok {
		exp = 2
	}
	v := a.Value
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	if exp == 0 {
		return fmt.Sprintf("%s%d %s", sign, v, a.Currency)
	}
	div := int64(1)
	for range exp {
		div *= 10
	}
	return fmt.Sprintf("%s%d.%0*d %s", sign, v/div, exp, v%div, a.Currency)
}

// ProviderTitle is a provider's name as people write it.
func ProviderTitle(name string) string {
	switch name {
	case ProviderBank131:
		return "Bank 131"
	case ProviderBePaid:
		return "bePaid"
	case ProviderMandarin:
		return "Mandarin"
	}
	return name
}

// Summary reads like "100.00 RUB to Visa •4242 via Bank 131": what a payout is, in plain words, without secrets.
func (s State) Summary() string {
	var to string
	switch {
	case s.Destination.Card != nil:
		to = s.Destination.Card.String()
	case s.Destination.SBP != nil:
		to = "SBP phone •" + s.Destination.SBP.PhoneLast4
	default:
		to = strings.ReplaceAll(s.Destination.Type, "_", " ")
	}
	return fmt.Sprintf("%s to %s via %s", s.Amount, to, ProviderTitle(s.Provider))
}
