// Cancelling a payout: at the provider when it has the payout, ending cancelled only when the provider took the
// cancel; and refused where a provider that pays on submit has it already.

package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/payoutflow/payoutflow/activities"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
)

// TemporalActor is who cancels when a cancellation is requested of the workflow in Temporal (UI, CLI, API).
const TemporalActor = "Temporal cancellation request"

func (p *run) cancelRequested() bool { return p.decision != nil && !p.decision.Approved }

// unstoppable reports whether a provider that pays on submit has the payout (or said it exists): nothing there can
// be cancelled. A payout sent whose provider shows nothing yet can still be cancelled here: no more is sent, and
// a verification that comes later is declined.
func (p *run) unstoppable() bool {
	has := p.at.State != providers.StateCreated || p.verified != "" // it said so, or asked us to go on with it
	return p.in.ApproveBeforeSubmit && !p.sentAt.IsZero() && has && !p.at.State.Final()
}

// cancelAtProvider drops the payout at the provider, if it got that far. It ends cancelled only when the provider
// took the cancel; if the provider went on without us, the payout ends as the provider says.
func (p *run) cancelAtProvider(ctx workflow.Context) payout.State {
	if p.v2() && p.in.OpenOnSubmit && !p.sentAt.IsZero() && p.at.Ref.SessionID == "" && !p.at.State.Final() {
		// The payout was handed over and the provider has not named it: it may stand there. The cancel waits for
		// its name (webhook or lookup), as a transfer's does, and is then asked of the provider.
		p.note(ctx, "cancel waits for the provider to name the payout, which it may have")
		p.waitAtProvider(ctx, func() bool { return p.at.Ref.SessionID != "" || p.at.State.Final() })
		if p.at.State.Final() {
			return p.finish(ctx)
		}
	}
	for attempt := 1; p.at.Ref.SessionID != "" && ctx.Err() == nil; attempt++ {
		var out providers.Outcome
		err := p.moveMoney(withOneAttempt(ctx), (*activities.Activities).Cancel, p.call(), &out)
		if err != nil {
			p.note(ctx, "cancel did not succeed ("+errorCode(err)+"), asking the provider")
			out = p.lookup(ctx)
		} else if out.State != providers.StateCancelled {
			p.note(ctx, "the provider answered the cancel with "+string(out.State)+", not cancelled")
		}
		if out.State == providers.StateCancelled {
			p.absorb(out)
			break
		}
		if out.State.Final() {
			p.absorb(out)
			return p.finish(ctx)
		}
		if out.State == providers.StatePending {
			// The provider is executing: wait until it finishes or waits for us again, and never pretend.
			p.absorb(out)
			p.attention(ctx, "the provider is executing the payout; the cancel could not stop it")
			p.waitAtProvider(ctx, func() bool { return p.at.State.Final() || p.at.State == providers.StateAwaitingConfirm })
			if p.at.State.Final() {
				return p.finish(ctx)
			}
		}
		if attempt == maxAttempts {
			p.attention(ctx, "the provider did not take the cancel ("+errorCode(err)+"); trying again")
		}
		p.backoff(ctx, attempt, func() bool { return false })
	}
	p.setStatus(ctx, payout.StatusCancelled, "cancelled")
	return p.state
}
