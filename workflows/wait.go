// Waiting for the provider's word: its webhooks taken as hints, its answers when asked (lookup, polling with
// backoff), states that only move forward, and the timers the waits run on.

package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/payoutflow/payoutflow/activities"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
)

// waitAtProvider waits until done holds, taking webhooks as they come; when none comes in time, it asks the
// provider, waiting twice as long each time. A webhook's final claim is checked with the provider before it counts.
func (p *run) waitAtProvider(ctx workflow.Context, done func() bool) {
	wait := p.in.PollAfter
	if p.waitingSince.IsZero() { // else a run before this one began the wait
		p.waitingSince = workflow.Now(ctx)
	}
	defer func() { p.waitingSince, p.pendingFlagged = time.Time{}, false }()
	for !done() && ctx.Err() == nil {
		p.continueAt(ctx)
		if p.v2() && !p.pendingFlagged && workflow.Now(ctx).Sub(p.waitingSince) >= p.pendingLimit() && !p.at.State.Final() {
			p.pendingFlagged = true
			if p.state.Status != payout.StatusNeedsAttention {
				p.attention(ctx, fmt.Sprintf("the provider has kept the payout %s for %s, longer than it should: "+
					"look at it with the provider; still asking", p.at.State, p.pendingLimit()))
			}
		}
		unnamed := p.at.Ref.SessionID == ""
		ok, _ := p.awaitFor(ctx, wait, "wait for the provider's webhook", func() bool { return done() || p.claim != nil || p.lookNow || (unnamed && p.at.Ref.SessionID != "") })
		if ok && p.claim == nil && !p.lookNow && !(unnamed && p.at.Ref.SessionID != "") {
			return
		}
		p.lookNow = false
		if !ok {
			wait = min(wait*2, p.pollMax())
		}
		claim := p.claim
		p.claim = nil // a claim arriving during the lookup is checked on the next round
		if claim != nil && p.at.Ref.SessionID == "" && claim.Ref.SessionID != "" {
			// The provider named its id of the payout in a verified webhook for this payout: ask by it.
			p.at.Ref.SessionID = claim.Ref.SessionID
			p.note(ctx, "the provider's id of the payout is known from its webhook: "+claim.Ref.SessionID)
		}
		if p.at.Ref.SessionID == "" && p.in.Request.Transfer != nil {
			// A transfer whose start went unanswered is known to the bank only by the session it has not named
			// yet: nothing to ask by. Its webhook, which names it, is awaited.
			continue
		}
		p.checking = claim // carried into the next run should this lookup continue as new
		out := p.lookup(ctx)
		p.checking = nil
		p.polls++
		p.showPayerAction(ctx, out)
		if why := out.Details[providers.DetailAttention]; why != "" && !out.State.Final() && p.state.Status != payout.StatusNeedsAttention {
			p.attention(ctx, why)
		}
		if advances(p.at.State, out.State) {
			p.absorb(out)
		} else if p.at.Ref.SessionID == "" && out.Ref.SessionID != "" {
			p.absorb(out) // the payout's id, learnt by the lookup
		} else if claim != nil {
			p.note(ctx, fmt.Sprintf("a webhook said %s, the provider says %s: waiting", claim.State, out.State))
		}
	}
}

// onProviderEvent takes a verified webhook. Webhooks are hints: only forward moves count, repeats and late or
// foreign ones change nothing.
func (p *run) onProviderEvent(ctx workflow.Context, name string, ev providers.Event) {
	o := ev.Outcome
	if p.at.Ref.SessionID != "" && o.Ref.SessionID != "" && o.Ref.SessionID != p.at.Ref.SessionID {
		p.note(ctx, fmt.Sprintf("%s for another session (%s) ignored", name, o.Ref.SessionID))
		return
	}
	if name == SignalActionRequired {
		if p.at.Ref.SessionID == "" && o.Ref.SessionID != "" && !p.at.State.Final() {
			p.at.Ref.SessionID = o.Ref.SessionID
			p.state.ProviderRefs = mergeRefs(p.state.ProviderRefs, refs(p.at.Ref))
		}
		p.showPayerAction(ctx, o)
		return
	}
	switch {
	case p.at.State.Final() || p.claim != nil:
		return // already final or being checked: a repeat
	case o.State.Final():
		p.claim = &o
	case name == SignalSBPStatus:
		// The bank's answer is a hint, like a final claim: what counts, the name included, is what the provider
		// says when asked.
		p.claim = &o
	case name == SignalReadyToConfirm && o.State == providers.StateAwaitingConfirm:
		if p.at.State == providers.StateAwaitingConfirm || p.state.Status == payout.StatusConfirmed {
			return // a repeat, or late after our confirm
		}
		p.absorb(o)
	}
}

// take absorbs what a submit answered, unless a webhook that came meanwhile has moved the payout further (a
// ready_to_confirm may overtake the answer of the start that caused it): states only move forward.
func (p *run) take(o providers.Outcome) {
	if p.at.State != providers.StateCreated && p.at.State != "" && !advances(p.at.State, o.State) {
		o.State, o.ErrorCode, o.ErrorDescription = p.at.State, p.at.ErrorCode, p.at.ErrorDescription
		if o.Amount == nil {
			o.Amount = p.at.Amount
		}
	}
	p.absorb(o)
}

// absorb takes what the provider said, keeping references already known.
func (p *run) absorb(o providers.Outcome) {
	ref := p.at.Ref
	if o.Ref.SessionID != "" {
		ref.SessionID = o.Ref.SessionID
	}
	if o.Ref.PaymentID != "" {
		ref.PaymentID = o.Ref.PaymentID
	}
	o.Ref = ref
	p.at = o
	// Keep what the provider said before, update what it says now.
	p.state.ProviderRefs = mergeRefs(mergeRefs(p.state.ProviderRefs, refs(ref)), o.Details)
	if o.Card != nil && p.state.Destination.Card != nil && p.state.Destination.Card.Last4 == "" {
		p.state.Destination.Card = o.Card
	}
	p.changed()
}

// advances reports whether the provider's state to is news after from: states only move forward.
func advances(from, to providers.State) bool {
	switch {
	case from.Final():
		return false
	case to.Final():
		return true
	case to == providers.StateAwaitingConfirm:
		return from != providers.StateAwaitingConfirm
	case to == providers.StatePending:
		return from == providers.StateCreated
	}
	return false
}

// lookup asks the provider where the payout stands. It does not give up: while the provider cannot tell, the payout
// is marked for an operator and asked again later, never assumed failed or resent.
func (p *run) lookup(ctx workflow.Context) providers.Outcome {
	if p.in.LookupBySubmit && p.at.Ref.SessionID == "" {
		return p.lookupBySubmit(ctx)
	}
	for ctx.Err() == nil {
		var out providers.Outcome
		err := p.status(ctx, &out)
		if err == nil {
			return out
		}
		if p.state.Status != payout.StatusNeedsAttention {
			p.attention(ctx, "the provider could not tell where the payout stands: "+errorCode(err))
		}
		_, _ = p.awaitFor(ctx, p.pollMax(), "ask the provider again", func() bool { return p.lookNow })
		p.lookNow = false
		p.polls++
		p.continueAt(ctx) // a provider that cannot tell for months: the wait goes on in a new run
	}
	return p.at // the workflow was cancelled
}

// status asks the provider where the payout stands: a local activity under versionLean (it moves no money).
func (p *run) status(ctx workflow.Context, out *providers.Outcome) error {
	if p.lean() {
		return p.runLocal(localOptions(ctx, lookupRetries()), localStatus, p.call(), out)
	}
	return workflow.ExecuteActivity(withLookupRetries(ctx), (*activities.Activities).Status, p.call()).Get(ctx, out)
}

// showPayerAction puts the redirect the payer must follow, as the provider gives it, into the payout's state.
func (p *run) showPayerAction(ctx workflow.Context, o providers.Outcome) {
	url := o.Details[providers.DetailRedirectURL]
	if url == "" || o.State.Final() || p.at.State.Final() || (p.state.PayerAction != nil && p.state.PayerAction.RedirectURL == url) {
		return
	}
	p.state.PayerAction = &payout.PayerAction{RedirectURL: url, Method: o.Details[providers.DetailRedirectMethod]}
	p.note(ctx, "the payer must pass 3-D Secure: payer_action.redirect_url")
	p.publish(ctx)
}

// watch asks the provider, in the background, until it waits for confirmation, where no webhook will tell (the
// recipient's bank checking an SBP payout without the name); what it finds comes back as the sbp_status signal.
// The returned func stops it.
func (p *run) watch(ctx workflow.Context) (stop func()) {
	if !p.namedByBank() {
		return func() {}
	}
	every := p.in.WatchEvery
	if every <= 0 {
		every = DefaultWatchEvery
	}
	wctx, cancel := workflow.WithCancel(ctx)
	wctx = workflow.WithActivityOptions(wctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 5,
			NonRetryableErrorTypes: []string{activities.ErrConfig}},
		Summary: "ask the recipient's bank for the name",
	})
	workflow.ExecuteActivity(wctx, (*activities.Activities).Watch,
		activities.WatchCall{Call: p.call(), Every: every, Signal: SignalSBPStatus})
	return cancel
}

// backoff waits before attempt+1: 10 s, then twice as long each time, up to the longest wait, or until stop holds.
// It reports whether stop held.
func (p *run) backoff(ctx workflow.Context, attempt int, stop func() bool) bool {
	wait := min(10*time.Second<<min(attempt-1, 10), p.pollMax())
	ok, _ := p.awaitFor(ctx, wait, "wait before trying again", stop)
	return ok
}

// awaitFor waits until cond holds or d has passed, and reports whether cond held. From versionMoneySafety2 on, a
// timer no longer needed is cancelled: left alone it would fire later and cost a workflow task for nothing.
func (p *run) awaitFor(ctx workflow.Context, d time.Duration, summary string, cond func() bool) (bool, error) {
	if p.lean() {
		return p.awaitLean(ctx, d, summary, cond)
	}
	if !p.v2() {
		return workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: d,
			TimerOptions: workflow.TimerOptions{Summary: summary}}, cond)
	}
	if cond() {
		return true, nil
	}
	timerCtx, cancel := workflow.WithCancel(ctx)
	timer := workflow.NewTimerWithOptions(timerCtx, d, workflow.TimerOptions{Summary: summary})
	if err := workflow.Await(ctx, func() bool { return timer.IsReady() || cond() }); err != nil {
		return false, err
	}
	if !cond() {
		return false, nil
	}
	if !timer.IsReady() {
		cancel()
	}
	return true, nil
}

// pollMax is the longest wait between two asks of the provider.
func (p *run) pollMax() time.Duration {
	if p.in.PollMax > 0 {
		return p.in.PollMax
	}
	return maxPollInterval
}

// pendingLimit is how long the provider may keep the payout undecided before an operator is told (Input.PendingLimit).
func (p *run) pendingLimit() time.Duration {
	if p.in.PendingLimit > 0 {
		return p.in.PendingLimit
	}
	return DefaultPendingLimit
}
