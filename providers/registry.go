package providers

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/payoutflow/payoutflow/payout"
)

// Registry holds the configured providers by name, with the receivers of their webhooks. The API asks it to
// validate a request and to tell how its provider treats it; the worker's activities call its providers.
type Registry struct {
	byName map[string]*entry
	names  []string
}

type entry struct {
	reg      *Registry
	plugin   Plugin
	webhooks Webhooks
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{byName: map[string]*entry{}} }

// Add registers a provider and the receiver of its webhooks (nil when it sends none). A receiver that also
// implements Verifications answers the provider's verifications. It records the provider's title for the payouts'
// summaries and notes (payout.ProviderTitle), and its failure table (payout.ProviderFailure).
func (r *Registry) Add(p Plugin, hooks Webhooks) error {
	name := p.Name()
	if name == "" {
		return fmt.Errorf("register provider: empty name")
	}
	if _, ok := r.byName[name]; ok {
		return fmt.Errorf("register provider %s: registered twice", name)
	}
	r.byName[name] = &entry{reg: r, plugin: p, webhooks: hooks}
	r.names = append(r.names, name)
	slices.Sort(r.names)
	if t := p.Spec().Title; t != "" {
		payout.SetProviderTitle(name, t)
	}
	payout.SetFailureTable(name, p.Spec().Failures)
	return nil
}

// Names lists the registered providers' names, sorted.
func (r *Registry) Names() []string { return slices.Clone(r.names) }

// Get returns the provider by name.
func (r *Registry) Get(name string) (Plugin, bool) {
	e, ok := r.byName[name]
	if !ok {
		return nil, false
	}
	return e.plugin, true
}

// Providers lists the registered providers, by name.
func (r *Registry) Providers() []Provider {
	out := make([]Provider, 0, len(r.names))
	for _, n := range r.names {
		out = append(out, r.byName[n].plugin)
	}
	return out
}

// Webhooks returns the receiver of the provider's webhooks.
func (r *Registry) Webhooks(name string) (Webhooks, bool) {
	e, ok := r.byName[name]
	if !ok || e.webhooks == nil {
		return nil, false
	}
	return e.webhooks, true
}

// Verifications returns what answers the provider's verifications.
func (r *Registry) Verifications(name string) (Verifications, bool) {
	hooks, ok := r.Webhooks(name)
	if !ok {
		return nil, false
	}
	v, ok := hooks.(Verifications)
	return v, ok
}

// Validate is the API's check of a request at create: ValidateAt now. It reads the clock, so no workflow or
// activity calls it.
func (r *Registry) Validate(req payout.Request) error { return r.ValidateAt(req, time.Now()) }

// ValidateAt checks a request created at now: ValidateRules, then CheckMoment. The error is a *payout.FieldError
// naming the first wrong field.
func (r *Registry) ValidateAt(req payout.Request, now time.Time) error {
	if err := r.ValidateRules(req); err != nil {
		return err
	}
	return r.CheckMoment(req, now)
}

// ValidateRules checks what holds of a request whenever it is read: the common rules of payout.Request.Validate and
// its provider's.
func (r *Registry) ValidateRules(req payout.Request) error {
	e, ok := r.byName[req.Provider]
	if !ok {
		if req.Provider != "" {
			return payout.NewFieldError("provider", "unknown_provider", "provider %q is not one of %s",
				req.Provider, strings.Join(r.names, ", "))
		}
		return req.Validate(nil)
	}
	return req.Validate(e)
}

// CheckMoment checks the provider's rules of the moment for a new payout made at now (CreateChecker: a card that
// has expired). A repeat of a create that passed them when it was made is not held to them again.
func (r *Registry) CheckMoment(req payout.Request, now time.Time) error {
	if e, ok := r.byName[req.Provider]; ok {
		if c, ok := e.plugin.(CreateChecker); ok {
			return c.CheckCreate(req, now)
		}
	}
	return nil
}

// Capabilities tells how the request's provider treats it; the zero value for a provider not registered.
func (r *Registry) Capabilities(req payout.Request) Capabilities {
	e, ok := r.byName[req.Provider]
	if !ok {
		return Capabilities{}
	}
	return e.plugin.Capabilities(req)
}

// Methods lists the methods the provider pays by (payout.ProviderRules).
func (e *entry) Methods() []string { return e.plugin.Spec().Methods }

// Check checks the request's options and currency against what its provider takes, then asks the provider
// (payout.ProviderRules).
func (e *entry) Check(req payout.Request) error {
	name := e.plugin.Name()
	taken := e.plugin.Spec().Options
	for _, opt := range req.Options() {
		if !slices.Contains(taken, opt) {
			return payout.NewFieldError(opt, "not_supported", "%s", e.reg.notTaken(opt))
		}
	}
	if cs := e.plugin.Capabilities(req).Currencies; len(cs) > 0 && !slices.Contains(cs, req.Amount.Currency) {
		return payout.NewFieldError("amount.currency", "currency_not_supported", "%s pays out in %s only",
			name, strings.Join(cs, ", "))
	}
	return e.plugin.Validate(req)
}

// optionWords say what a provider does that takes an option.
var optionWords = map[string]string{
	payout.OptionSingleRequest:  "takes single_request",
	payout.OptionSourceAccount:  "takes source_account",
	payout.OptionSBPWithoutName: "pays SBP payouts without the recipient's name",
}

// notTaken says which registered providers take an option: "only bank131 takes single_request".
func (r *Registry) notTaken(opt string) string {
	var takers []string
	for _, n := range r.names {
		if slices.Contains(r.byName[n].plugin.Spec().Options, opt) {
			takers = append(takers, n)
		}
	}
	words := optionWords[opt]
	if words == "" {
		words = "takes " + opt
	}
	if len(takers) == 0 {
		return "no provider configured here " + words
	}
	return "only " + strings.Join(takers, ", ") + " " + words
}
