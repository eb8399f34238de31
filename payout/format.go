package payout

import (
	"fmt"
	"strings"
	"sync"
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

// titles are the providers' names as people write them, by name.
var titles sync.Map

// SetProviderTitle records a provider's name as people write it (the registry of providers records each one's).
func SetProviderTitle(name, title string) { titles.Store(name, title) }

// ProviderTitle is a provider's name as people write it; name itself when no title was recorded.
func ProviderTitle(name string) string {
	if t, ok := titles.Load(name); ok {
		return t.(string)
	}
	return name
}

// Summary reads like "100.00 RUB to Visa •4242 via Acme Pay": what a payout is, in plain words, without secrets.
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
