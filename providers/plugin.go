package providers

import (
	"time"

	"github.com/payoutflow/payoutflow/payout"
)

// Plugin is a provider as the registry wires it: the calls the workflow drives, and what the provider declares of
// itself, so that nothing outside its package need name it.
type Plugin interface {
	Provider
	// Spec is what the provider is: its title and the methods and options it takes.
	Spec() Spec
	// Capabilities is how the provider treats this request; the request is valid (Validate).
	Capabilities(req payout.Request) Capabilities
	// Validate checks what the provider asks of a request beyond the common fields, once the common checks, the
	// method, the options and the currency have passed; its error is a *payout.FieldError.
	Validate(req payout.Request) error
}

// CreateChecker is a plugin with rules that hold at the moment a payout is created, against the clock (a card that
// has expired). The API checks them once, at create (Registry.Validate); a payout's workflow and activities never
// do, so that time neither changes a replay nor fails a running payout on a later retry.
type CreateChecker interface {
	// CheckCreate checks the request, valid (Validate), as created at now; its error is a *payout.FieldError.
	CheckCreate(req payout.Request, now time.Time) error
}

// Spec is what a provider is, whatever the request.
type Spec struct {
	// Title is the provider's name as people write it ("Bank 131").
	Title string
	// Methods are the methods (payout.Method*) it pays by.
	Methods []string
	// Options are the options (payout.Option*) it takes.
	Options []string
	// Failures maps the provider's failure codes to payoutflow's (payout.FailureCodes); a code it has not maps to
	// payout.FailureProviderRejected.
	Failures payout.FailureTable
}

// Capabilities is how a provider treats one request: the payout workflow's input is made from it.
type Capabilities struct {
	// ConfirmsAtProvider: the provider holds a submitted payout until it is confirmed (a ready_to_confirm, or a
	// recipient's name to check). Where it does not, approval comes before submit, so that no money moves before
	// approval.
	ConfirmsAtProvider bool
	// LooksUpBySubmit: the provider's only way to find a payout whose submit went unanswered is to submit it again
	// under the same payout ID, which it refuses as a duplicate while the first one stands. Such a resubmit is the
	// provider's lookup, not a second payout.
	LooksUpBySubmit bool
	// OpensOnSubmit: the payout has no step before submit; the provider creates it on submit.
	OpensOnSubmit bool
	// SubmitTimeout is how long one submit may take, as the provider advises; 0 for the engine's default.
	SubmitTimeout time.Duration
	// SettlePeriod is how long the provider may take to show a payout it was sent: after a submit whose outcome is
	// unknown, a payout is sent again only once the provider has shown none for this long.
	SettlePeriod time.Duration
	// DedupWindow is how long a repeat under the same payout ID is refused by the provider as a duplicate while
	// the first one stands (LooksUpBySubmit): only within it is a repeat the provider's lookup.
	DedupWindow time.Duration
	// PendingLimit is how long the provider may keep a payout pending, by default, before an operator is told.
	PendingLimit time.Duration
	// Currencies are the currencies it pays this request in; empty means every currency the engine knows.
	Currencies []string
}
