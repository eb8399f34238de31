package sandbox

import "strings"

// The sandbox's promo rate (seed 002): a transfer at it must name SandboxPromoProject in X-PARTNER-PROJECT.
const (
	// SandboxPromoProject is the project id of the sandbox's promo rate.
	SandboxPromoProject = "promo_131"
	// SandboxPromoRate is the sandbox's promo rate, in roubles per unit of any payout currency.
	SandboxPromoRate = "8.8888"
)

// promoRates are the sandbox's promo rates by project id: SandboxConfig.PromoRates, or the default one.
func promoRates(cfg map[string]string) map[string]string {
	if cfg == nil {
		return map[string]string{SandboxPromoProject: SandboxPromoRate}
	}
	return cfg
}

// knownProject reports whether project may call the sandbox: its partner's project, or a promo rate's.
func (s *Sandbox) knownProject(project string) bool {
	_, promo := s.promoRates[project]
	return project != "" && (s.project == "" || project == s.project || promo)
}

// checkPromo checks X-PARTNER-PROJECT against amounts.rate, as seed 002 says: a transfer at a promo rate names the
// promo rate's project, and a promo rate's project goes with its rate.
func (s *Sandbox) checkPromo(project string, rate Rate) *apiFailure {
	if promo, ok := s.promoRates[project]; ok && !sameRate(promo, rate) {
		return invalid("X-PARTNER-PROJECT names the project of the promo rate %s, not of amounts.rate", promo)
	}
	for id, promo := range s.promoRates {
		if sameRate(promo, rate) && project != id {
			return invalid("amounts.rate is a promo rate: X-PARTNER-PROJECT must be its project's id")
		}
	}
	return nil
}

// sameRate reports whether two rates of four decimal places are the same number ("08.8888" is "8.8888").
func sameRate(a string, b Rate) bool {
	return strings.TrimLeft(a, "0") == strings.TrimLeft(string(b), "0")
}
