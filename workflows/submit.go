// Handing the payout to the provider: open it, check the balance, submit it (asking before any repeat, never
// resending blindly), and confirm it. The calls that move money run here, once per attempt.

package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/payoutflow/payoutflow/activities"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
)

// Balance checks before submit (Input.BalanceCheck).
const (
	// BalanceHold keeps a payout the balance cannot cover in needs_attention, asking again, until it can or an
	// operator cancels it.
	BalanceHold = "hold"
	// BalanceFail fails a payout the balance cannot cover, with nothing sent.
	BalanceFail = "fail"
)

// open registers the payout at the provider. It moves no money, so its activity retries on its own.
func (p *run) open(ctx workflow.Context) bool {
	var ref providers.Ref
	var err error
	if p.lean() { // it moves no money: a local activity
		err = p.runLocal(localOptions(ctx, safeRetries()), localOpen, p.call(), &ref)
	} else {
		err = workflow.ExecuteActivity(withSafeRetries(ctx), (*activities.Activities).Open, p.call()).Get(ctx, &ref)
	}
	if err != nil && !isRejected(err) {
		// Nothing was submitted, so no money can have moved: the payout fails cleanly.
		p.state.Failure = &payout.Failure{Code: "provider_unavailable", Description: "the provider could not be reached: " + errorCode(err)}
		p.setStatus(ctx, payout.StatusFailed, "could not open the payout at the provider")
		return false
	}
	if err != nil {
		return p.failFromError(ctx, err, "the provider refused to open the payout")
	}
	// The session is the provider's reference to a payout that moves no money yet: published with the payout's next
	// change a backend acts on.
	p.quietly(true, func() {
		p.absorb(providers.Outcome{Ref: ref, State: providers.StateCreated})
		if ref.SessionID != "" {
			p.note(ctx, "opened at "+payout.ProviderTitle(p.state.Provider))
		}
	})
	return true
}

// balanceCovers asks the provider's balance before submit, where configured. A balance that cannot cover the
// payout fails it (BalanceFail) or holds it for an operator, asking again, until it does or the payout is
// cancelled (BalanceHold). It reports whether to go on.
func (p *run) balanceCovers(ctx workflow.Context) bool {
	if p.in.BalanceCheck == "" {
		return true
	}
	held := false
	for attempt := 1; ctx.Err() == nil; attempt++ {
		var balance payout.Amount
		err := workflow.ExecuteActivity(withSafeRetries(ctx), (*activities.Activities).Balance, p.call()).Get(ctx, &balance)
		if err != nil {
			// The provider refuses what its balance cannot cover: sending it anyway loses nothing.
			p.note(ctx, "the balance could not be read ("+errorCode(err)+"); sending the payout anyway")
			return true
		}
		if balance.Currency != p.in.Request.Amount.Currency || balance.Value >= p.in.Request.Amount.Value {
			if held {
				p.setStatus(ctx, p.statusBeforeSubmit(), "the balance covers the payout now")
			}
			return true
		}
		why := fmt.Sprintf("the balance at %s (%s) does not cover the payout (%s)",
			payout.ProviderTitle(p.state.Provider), balance, p.in.Request.Amount)
		if p.in.BalanceCheck == BalanceFail {
			p.state.Failure = &payout.Failure{Code: "insufficient_balance", Description: why}
			if p.v3() {
				p.state.Failure = payout.OwnFailure(payout.FailureInsufficientFunds, why)
			}
			p.setStatus(ctx, payout.StatusFailed, why+"; nothing was sent")
			return false
		}
		if !held {
			p.attention(ctx, why+": held until it does; cancel the payout to drop it")
			held = true
		}
		if p.backoff(ctx, attempt, p.cancelRequested) {
			return false
		}
	}
	return false // the workflow was cancelled
}

// statusBeforeSubmit is the status a payout has just before it is submitted.
func (p *run) statusBeforeSubmit() payout.Status {
	if p.in.ApproveBeforeSubmit {
		return payout.StatusConfirmed
	}
	return payout.StatusCreated
}

// submit hands the payout to the provider once per attempt. Whatever goes wrong, the provider is asked whether it
// has the payout before anything else; a new attempt follows only when it has none.
func (p *run) submit(ctx workflow.Context) bool {
	if p.in.LookupBySubmit {
		return p.submitDeduplicated(ctx)
	}
	if p.v2() && p.in.ApproveBeforeSubmit {
		// A provider without a step before submit has no key of its own that makes a repeat harmless: after a
		// reset, or a new run under this payout id, the payout may stand there already. Ask before sending.
		if out := p.lookup(ctx); out.State != providers.StateCreated {
			p.take(out)
			p.setStatus(ctx, payout.StatusSubmitted, "the provider has the payout already (asked before sending it)")
			return !p.at.State.Final() || p.finishNow(ctx)
		}
	}
	unknownBefore := false
	for attempt := 1; ctx.Err() == nil; attempt++ {
		out, err := p.submitOnce(ctx)
		if err == nil {
			// Where the provider holds the payout for confirmation, its ready_to_confirm follows in moments: the
			// submitted status is published with it (or by quietFor), unless the provider gave something for the
			// backend (a payment page's link, say).
			p.quietly(!p.in.ApproveBeforeSubmit && len(out.Details) == 0 && !out.State.Final(), func() {
				p.take(out)
				p.setStatus(ctx, payout.StatusSubmitted, "submitted to "+payout.ProviderTitle(p.state.Provider))
			})
			return !p.at.State.Final() || p.finishNow(ctx)
		}
		settling := p.v2() && !(isRejected(err) && !unknownBefore)
		p.noteSubmitFailed(ctx, err, attempt, settling && !isExisting(err))
		if settling {
			out = p.settle(ctx, isExisting(err)) // the outcome is unknown: give the provider time to show it
		} else {
			out = p.lookup(ctx)
		}
		if out.State != providers.StateCreated {
			p.take(out)
			p.setStatus(ctx, payout.StatusSubmitted, "the provider has the payout (found by lookup)")
			return !p.at.State.Final() || p.finishNow(ctx)
		}
		// A refusal is final only when no earlier attempt might still be on its way to the provider.
		if isRejected(err) && !unknownBefore {
			return p.failFromError(ctx, err, "the provider refused the payout")
		}
		unknownBefore = unknownBefore || !isRejected(err)
		if attempt == maxAttempts {
			p.attention(ctx, fmt.Sprintf("submit failed %d times and the provider has no payout; cancel it to close it", attempt))
			p.waitAtProvider(ctx, func() bool { return p.cancelRequested() || p.at.State != providers.StateCreated })
			if p.cancelRequested() {
				return false
			}
			p.setStatus(ctx, payout.StatusSubmitted, "the provider has the payout (found by lookup)")
			return !p.at.State.Final() || p.finishNow(ctx)
		}
		if p.backoff(ctx, attempt, p.cancelRequested) {
			return false
		}
	}
	return false // the workflow was cancelled
}

// noteSubmitFailed notes a submit that did not succeed. Before the provider's settling period (settles), it says
// until when the payout is not sent again, or, on the last attempt, that an operator is asked after it. A note's
// text changes no command: it needs no version.
func (p *run) noteSubmitFailed(ctx workflow.Context, err error, attempt int, settles bool) {
	until := workflow.Now(ctx).Add(p.settleFor()).UTC().Format("15:04:05")
	switch {
	case settles && attempt < maxAttempts:
		p.note(ctx, fmt.Sprintf("submit did not succeed (%s): not sent again before %s UTC (the provider's "+
			"settling period, %s: a payout sent may take that long to show); asking the provider meanwhile",
			errorCode(err), until, p.settleFor()))
	case settles:
		p.note(ctx, fmt.Sprintf("submit did not succeed (%s), the last of %d attempts: asking the provider "+
			"until %s UTC (its settling period, %s); if it shows no payout by then, an operator is asked",
			errorCode(err), maxAttempts, until, p.settleFor()))
	default:
		p.note(ctx, "submit did not succeed ("+errorCode(err)+"), asking the provider")
	}
}

// settle asks the provider, after a submit whose outcome is unknown, until it names the payout or has shown none
// for the provider's settling period (Input.SettleFor): a payout the provider is still processing may not show at
// once, and a resend too early makes a second one. A refusal as a duplicate (exists) means the provider has it:
// then nothing is ever sent again, and the payout waits, asking, with an operator told once the period is over.
func (p *run) settle(ctx workflow.Context, exists bool) providers.Outcome {
	since, unnamed := workflow.Now(ctx), p.at.Ref.SessionID == ""
	period := p.settleFor()
	for attempt := 1; ctx.Err() == nil; attempt++ {
		out := p.lookup(ctx)
		if out.State != providers.StateCreated || p.cancelRequested() {
			return out
		}
		waited := workflow.Now(ctx).Sub(since)
		if waited >= period {
			if !exists {
				return out
			}
			if p.state.Status != payout.StatusNeedsAttention {
				p.attention(ctx, fmt.Sprintf("the provider refused a repeat as a duplicate but has shown no payout for %s: "+
					"nothing more is sent; look it up in the provider's back office", period))
			}
		}
		named := func() bool { return unnamed && p.at.Ref.SessionID != "" } // by a webhook or a verification
		p.backoff(ctx, attempt, func() bool { return p.lookNow || named() || p.cancelRequested() })
		p.lookNow = false
	}
	return p.at // the workflow was cancelled
}

// settleFor is how long the provider may take to show a payout it was sent (Input.SettleFor).
func (p *run) settleFor() time.Duration {
	if p.in.SettleFor > 0 {
		return p.in.SettleFor
	}
	return DefaultSettleFor
}

// submitDeduplicated is submit for a provider that refuses a second payout under the same payout ID while the
// first one stands, and has no other lookup: an attempt whose answer is lost is sent again
// under the same ID, which is the provider's own way of asking, and a duplicate means the first one stands.
func (p *run) submitDeduplicated(ctx workflow.Context) bool {
	unknownBefore := false
	for attempt := 1; ctx.Err() == nil; attempt++ {
		out, err := p.submitOnce(ctx)
		switch {
		case err == nil:
			p.take(out)
			p.setStatus(ctx, payout.StatusSubmitted, "submitted to "+payout.ProviderTitle(p.state.Provider))
			return !p.at.State.Final() || p.finishNow(ctx)
		case isExisting(err):
			if p.at.State == providers.StateCreated {
				p.absorb(providers.Outcome{State: providers.StatePending})
			}
			p.setStatus(ctx, payout.StatusSubmitted, "the provider has the payout already ("+errorCode(err)+"): waiting for its result")
			return !p.at.State.Final() || p.finishNow(ctx)
		case isRejected(err) && !unknownBefore:
			// Nothing was sent before: the refusal is final.
			return p.failFromError(ctx, err, "the provider refused the payout")
		case isRejected(err):
			// An earlier attempt may stand at the provider: a refusal now proves nothing about it.
			p.attention(ctx, "the provider refused a repeat of the payout ("+errorCode(err)+") after an attempt whose "+
				"outcome is unknown; still asking")
		}
		unknownBefore = unknownBefore || !isRejected(err)
		if p.v2() && p.pastDedup(ctx) {
			// The provider's refusal of a repeat no longer covers the first attempt: a repeat now could pay twice.
			p.stopResending(ctx)
			p.absorb(providers.Outcome{State: providers.StatePending})
			return true
		}
		p.note(ctx, "submit did not succeed ("+errorCode(err)+"); sending it again under the same payout id, which the provider deduplicates")
		if attempt == maxAttempts {
			p.attention(ctx, fmt.Sprintf("submit got no answer %d times; still asking the provider the same way", attempt))
		}
		// No stop on cancel: the payout may stand at the provider until it answers. A webhook that names the
		// payout answers for it.
		if p.backoff(ctx, attempt, func() bool { return p.at.Ref.SessionID != "" }) {
			p.setStatus(ctx, payout.StatusSubmitted, "the provider has the payout (its webhook named it)")
			return !p.at.State.Final() || p.finishNow(ctx)
		}
	}
	return false // the workflow was cancelled
}

// submitOnce sends the payout once under its payout ID.
func (p *run) submitOnce(ctx workflow.Context) (providers.Outcome, error) {
	if p.sentAt.IsZero() {
		p.sentAt = workflow.Now(ctx)
		if p.v2() {
			p.state.Sent = true
		}
	}
	var out providers.Outcome
	call := activities.SubmitCall{Call: p.call(), Request: p.in.Request}
	err := p.moveMoney(p.submitOptions(ctx), (*activities.Activities).Submit, call, &out)
	return out, err
}

// submitOptions runs a submit once, with the time the provider advises for it.
func (p *run) submitOptions(ctx workflow.Context) workflow.Context {
	if p.in.SubmitTimeout <= 0 {
		return withOneAttempt(ctx)
	}
	return withOneAttemptFor(ctx, p.in.SubmitTimeout+30*time.Second)
}

// lookupBySubmit asks a provider that has no other lookup (LookupBySubmit) by sending the payout again under the
// same payout ID: a duplicate means it stands, pending; an answer means the first one had failed or never
// arrived, and this one is the payout. It does not give up, like lookup.
//
// A refusal proves nothing here (the payout may stand from an earlier attempt): it is asked again. Once the
// provider has said "it exists" maxAttempts times without naming it, an operator is asked to look.
func (p *run) lookupBySubmit(ctx workflow.Context) providers.Outcome {
	for attempt := 1; ctx.Err() == nil; attempt++ {
		if p.v2() && p.pastDedup(ctx) {
			p.stopResending(ctx)
			return providers.Outcome{Ref: p.at.Ref, State: providers.StatePending}
		}
		out, err := p.submitOnce(ctx)
		switch {
		case err == nil:
			p.note(ctx, "the provider had no payout under this id; it has it now")
			return out
		case isExisting(err):
			if p.unnamed++; p.unnamed == maxAttempts && p.state.Status != payout.StatusNeedsAttention {
				p.attention(ctx, "the provider has the payout under this id but has not named it (no webhook yet): "+
					"look it up in the provider's back office; still asking")
			}
			return providers.Outcome{Ref: p.at.Ref, State: providers.StatePending}
		}
		if p.state.Status != payout.StatusNeedsAttention && (attempt == maxAttempts || isRejected(err)) {
			p.attention(ctx, "the provider could not tell where the payout stands: "+errorCode(err))
		}
		p.backoff(ctx, attempt, func() bool { return p.lookNow })
		p.lookNow = false
	}
	return p.at // the workflow was cancelled
}

// pastDedup reports whether the provider's refusal of a repeat under the same payout id may no longer cover the
// first attempt (Input.DedupFor after it was sent): a repeat now is not a lookup but maybe a second payout.
func (p *run) pastDedup(ctx workflow.Context) bool {
	window := p.in.DedupFor
	if window <= 0 {
		window = DefaultDedupFor
	}
	return !p.sentAt.IsZero() && workflow.Now(ctx).Sub(p.sentAt) >= window
}

// stopResending tells an operator, once, that the payout is no longer sent again: it waits for the provider's
// webhook, which names it, or for an operator who found it.
func (p *run) stopResending(ctx workflow.Context) {
	why := "the provider has not named the payout, and a repeat under its id is no longer a safe way to ask " +
		"(its duplicate check may not cover the first attempt any more): nothing more is sent; find it in the " +
		"provider's back office, then resolve it"
	if p.state.Attention != why {
		p.attention(ctx, why)
	}
}

// confirm tells the provider to execute the payout once per attempt; whatever goes wrong, the provider is asked
// before anything else. A confirmation the provider does not take marks the payout for an operator.
func (p *run) confirm(ctx workflow.Context) {
	for attempt := 1; ctx.Err() == nil; attempt++ {
		var out providers.Outcome
		err := p.moveMoney(withOneAttempt(ctx), (*activities.Activities).Confirm, p.call(), &out)
		if err == nil {
			p.absorb(out)
			p.setStatus(ctx, payout.StatusConfirmed, "confirmed at "+payout.ProviderTitle(p.state.Provider))
			return
		}
		p.note(ctx, "confirm did not succeed ("+errorCode(err)+"), asking the provider")
		out = p.lookup(ctx)
		if out.State.Final() {
			p.absorb(out)
			return
		}
		if out.State != providers.StateAwaitingConfirm {
			p.absorb(out)
			p.setStatus(ctx, payout.StatusConfirmed, "the provider took the confirmation (found by lookup)")
			return
		}
		if isRejected(err) || attempt == maxAttempts {
			p.attention(ctx, "the provider did not take the confirmation ("+errorCode(err)+"); waiting for its final word")
			return
		}
		p.backoff(ctx, attempt, func() bool { return false })
	}
}

// moveMoney runs a call that moves money (Submit, Confirm, Cancel) with ctx's activity options (one attempt),
// counting it as under way meanwhile.
func (p *run) moveMoney(ctx workflow.Context, activity, arg, out any) error {
	p.moving++
	defer func() { p.moving-- }()
	return workflow.ExecuteActivity(ctx, activity, arg).Get(ctx, out)
}

func (p *run) failFromError(ctx workflow.Context, err error, note string) bool {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == activities.ErrRejected {
		var r activities.Rejection
		_ = appErr.Details(&r)
		if r.Code == "" {
			r.Code = payout.FailureProviderRejected
			p.state.Failure = &payout.Failure{Code: r.Code, Description: r.Description}
		} else {
			p.state.Failure = p.providerFailure(ctx, r.Code, r.Description)
		}
		p.setStatus(ctx, payout.StatusFailed, note+": "+failureNote(p.state.Failure))
		return false
	}
	p.attention(ctx, note+": "+errorCode(err))
	return false
}

// isExisting reports whether the provider refused because the payout exists already.
func isExisting(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == activities.ErrExists
}

func isRejected(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == activities.ErrRejected
}

// errorCode names an activity error without its message, which may be long; the message stays in history,
// encrypted.
func errorCode(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		var r activities.Rejection
		if (appErr.Type() == activities.ErrRejected || appErr.Type() == activities.ErrExists) && appErr.Details(&r) == nil && r.Code != "" {
			return r.Code
		}
		return appErr.Type()
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		return "timeout"
	}
	return "error"
}
